"""Markets: venue symbols both ways through ccxt's market id, and grids in every precision mode."""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest

from ordergate.venues.ccxt.errors import UnmappedVenueValue
from ordergate.venues.ccxt.markets import default_min_notional, grid_step, load_directory

D = Decimal


def market(**changes: object) -> dict[str, object]:
    """A market in the shape ccxt's parsers produce (with `number=str`)."""
    base: dict[str, object] = {
        "id": "BTCUSDT",
        "symbol": "BTC/USDT:USDT",
        "base": "BTC",
        "quote": "USDT",
        "settle": "USDT",
        "type": "swap",
        "contract": True,
        "contractSize": "1",
        "maker": "0.0002",
        "taker": "0.00055",
        "precision": {"amount": "0.001", "price": "0.1"},
        "limits": {"amount": {"min": "0.001", "max": "100"}, "cost": {"min": "5", "max": None}},
        "info": {},
    }
    base.update(changes)
    return base


SPOT = market(symbol="BTC/USDT", settle=None, type="spot", contract=False, contractSize=None)


def test_the_same_id_is_told_apart_by_market_type():
    markets = {"BTC/USDT:USDT": market(), "BTC/USDT": SPOT}

    swap = load_directory(markets, ["BTCUSDT"], "swap", ccxt.TICK_SIZE, default_min_notional)
    spot = load_directory(markets, ["BTCUSDT"], "spot", ccxt.TICK_SIZE, default_min_notional)

    assert swap.entry("BTCUSDT").ccxt_symbol == "BTC/USDT:USDT"
    assert spot.entry("BTCUSDT").ccxt_symbol == "BTC/USDT"
    assert swap.by_ccxt_symbol("BTC/USDT:USDT") == swap.entry("BTCUSDT")
    assert swap.by_ccxt_symbol("BTC/USDT") is None
    assert spot.entry("BTCUSDT").instrument.contract_size == 1  # spot: one unit of base


def test_an_id_missing_or_ambiguous_among_the_markets_raises():
    twin = market(symbol="BTC/USDT:USDT-2")
    with pytest.raises(UnmappedVenueValue):
        load_directory({"a": market()}, ["ETHUSDT"], "swap", ccxt.TICK_SIZE, default_min_notional)
    with pytest.raises(UnmappedVenueValue):
        load_directory(
            {"a": market(), "b": twin}, ["BTCUSDT"], "swap", ccxt.TICK_SIZE, default_min_notional
        )


def test_a_market_settling_outside_its_quote_is_refused():
    inverse = market(symbol="BTC/USD:BTC", quote="USD", settle="BTC", id="BTCUSD")

    with pytest.raises(UnmappedVenueValue, match="settles in BTC"):
        load_directory({"x": inverse}, ["BTCUSD"], "swap", ccxt.TICK_SIZE, default_min_notional)


def test_instrument_terms_come_from_precision_limits_and_fees():
    directory = load_directory(
        {"x": market()}, ["BTCUSDT"], "swap", ccxt.TICK_SIZE, default_min_notional
    )

    instrument = directory.entry("BTCUSDT").instrument
    assert (instrument.tick_size, instrument.lot_step) == (D("0.1"), D("0.001"))
    assert (instrument.min_qty, instrument.max_qty, instrument.min_notional) == (
        D("0.001"),
        D("100"),
        D("5"),
    )
    assert (instrument.maker_fee_rate, instrument.taker_fee_rate) == (D("0.0002"), D("0.00055"))


def test_a_missing_minimum_quantity_is_one_step():
    bare = market(limits={"amount": {"min": None, "max": None}, "cost": {"min": None}})

    instrument = (
        load_directory({"x": bare}, ["BTCUSDT"], "swap", ccxt.TICK_SIZE, default_min_notional)
        .entry("BTCUSDT")
        .instrument
    )

    assert (instrument.min_qty, instrument.max_qty, instrument.min_notional) == (
        D("0.001"),
        None,
        D(0),
    )


@pytest.mark.parametrize(
    ("precision", "mode", "step"),
    [
        ("0.5", ccxt.TICK_SIZE, D("0.5")),
        ("0.00000001", ccxt.TICK_SIZE, D("0.00000001")),
        ("2", ccxt.DECIMAL_PLACES, D("0.01")),
        ("0", ccxt.DECIMAL_PLACES, D("1")),
        (8, ccxt.DECIMAL_PLACES, D("0.00000001")),
    ],
)
def test_grid_steps_in_each_fixed_precision_mode(precision, mode, step):
    assert grid_step(precision, mode, "price") == step


def test_significant_digits_have_no_fixed_grid():
    with pytest.raises(UnmappedVenueValue, match="significant digits"):
        grid_step("5", ccxt.SIGNIFICANT_DIGITS, "price")


def test_fractional_decimal_places_and_unknown_modes_raise():
    with pytest.raises(UnmappedVenueValue):
        grid_step("1.5", ccxt.DECIMAL_PLACES, "price")
    with pytest.raises(UnmappedVenueValue):
        grid_step("1", 99, "price")
