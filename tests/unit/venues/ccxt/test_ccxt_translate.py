"""ccxt's unified trades, positions and balances as ordergate's messages."""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest

from ordergate.domain.values import Side
from ordergate.venues.ccxt.dialects import dialect_for
from ordergate.venues.ccxt.errors import UnmappedVenueValue
from ordergate.venues.ccxt.markets import default_min_notional, load_directory
from ordergate.venues.ccxt.translate import (
    Translator,
    client_order_id_of,
    external_client_order_id,
    venue_order_id_in,
)

D = Decimal
MARKET = {
    "id": "BTCUSDT",
    "symbol": "BTC/USDT:USDT",
    "base": "BTC",
    "quote": "USDT",
    "settle": "USDT",
    "type": "swap",
    "contract": True,
    "contractSize": "1",
    "precision": {"amount": "0.001", "price": "0.1"},
    "limits": {"amount": {"min": "0.001"}, "cost": {}},
}
TRANSLATOR = Translator(
    "acct",
    load_directory({"x": MARKET}, ["BTCUSDT"], "swap", ccxt.TICK_SIZE, default_min_notional),
    dialect_for("some-exchange"),
)


def trade(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "t1",
        "order": "v1",
        "symbol": "BTC/USDT:USDT",
        "side": "buy",
        "amount": "0.010",
        "price": "30000.5",
        "takerOrMaker": "taker",
        "timestamp": 1700000000000,
        "fee": {"cost": "0.165", "currency": "USDT"},
        "fees": [{"cost": "0.165", "currency": "USDT"}],
        "info": {},
    }
    base.update(changes)
    return base


def test_a_fee_in_another_currency_is_kept_in_it():
    fill = TRANSLATOR.fill(
        trade(
            fee={"cost": "0.0001", "currency": "BNB"}, fees=[{"cost": "0.0001", "currency": "BNB"}]
        ),
        "c1",
    )

    assert fill is not None
    assert (fill.fee, fill.fee_currency) == (D("0.0001"), "BNB")


def test_fees_in_one_currency_add_up_and_zero_ones_are_ignored():
    fees = [
        {"cost": "0.1", "currency": "USDT"},
        {"cost": "0.05", "currency": "USDT"},
        {"cost": "0", "currency": "BNB"},
    ]

    fill = TRANSLATOR.fill(trade(fee=None, fees=fees), "c1")

    assert fill is not None
    assert (fill.fee, fill.fee_currency) == (D("0.15"), "USDT")


def test_a_rebate_is_a_negative_fee():
    fill = TRANSLATOR.fill(trade(fees=[{"cost": "-0.02", "currency": "USDT"}]), "c1")

    assert fill is not None
    assert fill.fee == D("-0.02")


def test_fees_in_two_currencies_at_once_cannot_be_one_fill():
    fees = [{"cost": "0.1", "currency": "USDT"}, {"cost": "0.001", "currency": "BNB"}]

    with pytest.raises(UnmappedVenueValue, match="BNB"):
        TRANSLATOR.fill(trade(fees=fees), "c1")


def test_no_fee_is_a_zero_fee_in_the_settle_currency():
    fill = TRANSLATOR.fill(trade(fee=None, fees=[]), "c1")

    assert fill is not None
    assert (fill.fee, fill.fee_currency) == (D(0), "USDT")


@pytest.mark.parametrize(
    "changes",
    [{"side": "long"}, {"takerOrMaker": None}, {"amount": None}, {"id": None}, {"timestamp": None}],
)
def test_an_execution_missing_or_misspelling_a_field_raises(changes):
    with pytest.raises(UnmappedVenueValue):
        TRANSLATOR.fill(trade(**changes), "c1")


def test_positions_are_signed_and_flat_ones_omitted():
    long = {"symbol": "BTC/USDT:USDT", "contracts": "0.5", "side": "long", "entryPrice": "50000"}
    short = {**long, "side": "short"}
    flat = {**long, "contracts": "0", "side": None, "entryPrice": None}
    other = {**long, "symbol": "ETH/USDT:USDT"}

    assert TRANSLATOR.position(long) is not None
    assert TRANSLATOR.position(long).qty == D("0.5")
    assert TRANSLATOR.position(short) is not None
    assert TRANSLATOR.position(short).qty == D("-0.5")
    assert TRANSLATOR.position(flat) is None
    assert TRANSLATOR.position(other) is None


def test_balances_are_the_totals_per_currency():
    balance = {"total": {"USDT": "100000.5", "BTC": "0", "ETH": None}, "free": {}, "info": {}}

    balances = TRANSLATOR.balances(balance)

    assert [(b.currency, b.balance) for b in balances] == [("BTC", D(0)), ("USDT", D("100000.5"))]
    assert all(b.account == "acct" for b in balances)


def test_an_order_without_a_client_order_id_is_named_after_its_venue_id():
    name = client_order_id_of({"id": "v-77", "clientOrderId": None})

    assert name == external_client_order_id("v-77")
    assert venue_order_id_in(name) == "v-77"
    assert venue_order_id_in("0" * 32) is None
    assert client_order_id_of({"id": "v-77", "clientOrderId": "mine"}) == "mine"


def test_sides_read_from_ccxt():
    fill = TRANSLATOR.fill(trade(side="sell"), "c1")

    assert fill is not None
    assert fill.side is Side.SELL
