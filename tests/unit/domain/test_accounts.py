"""Margin arithmetic: balances, positions and open-order reservations per currency."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.fakes import BTC, EURUSD

from ordergate.domain.accounts import Account, margin_by_currency, margin_needed
from ordergate.domain.positions import Position
from ordergate.domain.values import Side

D = Decimal
INSTRUMENTS = {BTC.symbol: BTC, EURUSD.symbol: EURUSD}


def test_account_credit_accumulates_per_currency():
    account = Account("a")

    account.credit("USDT", D("100"), 5)
    account.credit("USDT", D("-30.5"), 6)
    account.credit("USD", D("7"), 7)

    assert account.balances == {"USDT": D("69.5"), "USD": D("7")}
    assert account.updated_ts == 7


def test_margin_by_currency_values_position_at_mark():
    long_btc = Position("a", BTC.symbol, qty=D("2"), avg_price=D("100"))

    result = margin_by_currency(
        {"USDT": D("1000")}, [long_btc], {"USDT": D("15")}, INSTRUMENTS, {BTC.symbol: D("110")}
    )

    usdt = result["USDT"]
    assert usdt.unrealized_pnl == D("20")
    assert usdt.equity == D("1020")
    assert usdt.position_margin == D("22")  # 2 * 110 * 0.1
    assert usdt.order_margin == D("15")
    assert usdt.used_margin == D("37")
    assert usdt.free_margin == D("983")


def test_margin_by_currency_without_mark_values_at_avg_price():
    short_btc = Position("a", BTC.symbol, qty=D("-1"), avg_price=D("200"))

    result = margin_by_currency({}, [short_btc], {}, INSTRUMENTS, {})

    usdt = result["USDT"]
    assert usdt.unrealized_pnl == D(0)
    assert usdt.position_margin == D("20")
    assert usdt.free_margin == D("-20")


def test_margin_by_currency_keeps_currencies_apart_and_skips_flat_positions():
    positions = [
        Position("a", BTC.symbol, qty=D(0), avg_price=D(0)),
        Position("a", EURUSD.symbol, qty=D("1"), avg_price=D("1.10000")),
    ]

    result = margin_by_currency(
        {"USDT": D("50"), "USD": D("5000")},
        positions,
        {"USDT": D("10")},
        INSTRUMENTS,
        {EURUSD.symbol: D("1.10100")},
    )

    assert set(result) == {"USD", "USDT"}
    assert result["USDT"].free_margin == D("40")
    assert result["USDT"].position_margin == D(0)
    assert result["USD"].unrealized_pnl == D("100")  # 1 lot * 100,000 * 0.001
    assert result["USD"].position_margin == D("1101")  # 1 * 1.101 * 100,000 * 0.01
    assert result["USD"].free_margin == D("5100") - D("1101")


@pytest.mark.parametrize(
    ("side", "position", "qty", "expected"),
    [
        (Side.BUY, D(0), D("2"), D("20")),
        (Side.BUY, D("1"), D("2"), D("20")),
        (Side.SELL, D("1"), D("2"), D("10")),
        (Side.SELL, D("3"), D("2"), D(0)),
        (Side.BUY, D("-0.5"), D("2"), D("15")),
    ],
    ids=["flat", "adding", "flipping", "closing", "short-cover-and-flip"],
)
def test_margin_needed_counts_only_the_part_that_opens(side, position, qty, expected):
    assert margin_needed(BTC, side, qty, D("100"), position, reduce_only=False) == expected


def test_margin_needed_reduce_only_is_zero():
    assert margin_needed(BTC, Side.BUY, D("5"), D("100"), D(0), reduce_only=True) == D(0)
