"""Instruments: validation of the grid, and rounding onto it."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from tests.fakes import BTC, EURUSD

from ordergate.domain.errors import InvalidRequest

D = Decimal


@pytest.mark.parametrize(
    "change",
    [
        {"symbol": ""},
        {"tick_size": D(0)},
        {"lot_step": D("-0.1")},
        {"contract_size": D(0)},
        {"min_qty": D("-1")},
        {"min_notional": D("-1")},
        {"margin_rate": D(0)},
        {"margin_rate": D("1.01")},
    ],
    ids=lambda c: next(iter(c)) + "=" + str(next(iter(c.values()))),
)
def test_instrument_invalid_spec_raises_invalid_request(change):
    with pytest.raises(InvalidRequest):
        dataclasses.replace(BTC, **change)


def test_instrument_margin_rate_one_is_allowed():
    assert dataclasses.replace(BTC, margin_rate=D(1)).margin_rate == D(1)


def test_instrument_notional_and_margin_use_contract_size():
    assert EURUSD.notional(D("0.5"), D("1.10000")) == D("55000")
    assert EURUSD.initial_margin(D("0.5"), D("1.10000")) == D("550")


@pytest.mark.parametrize(
    ("price", "on_tick"), [("100.1", True), ("100.10", True), ("100.15", False), ("0", True)]
)
def test_instrument_is_on_tick(price, on_tick):
    assert BTC.is_on_tick(D(price)) is on_tick


@pytest.mark.parametrize(("qty", "on_step"), [("0.001", True), ("1.2345", False)])
def test_instrument_is_on_step(qty, on_step):
    assert BTC.is_on_step(D(qty)) is on_step


@pytest.mark.parametrize(
    ("price", "rounded"),
    [("100.14", "100.1"), ("100.16", "100.2"), ("100.05", "100.0"), ("100.15", "100.2")],
)
def test_instrument_round_price_to_nearest_tick_half_even(price, rounded):
    assert BTC.round_price(D(price)) == D(rounded)


@pytest.mark.parametrize(("qty", "rounded"), [("1.2349", "1.234"), ("0.0009", "0"), ("2", "2")])
def test_instrument_round_qty_down_never_rounds_up(qty, rounded):
    assert BTC.round_qty_down(D(qty)) == D(rounded)
