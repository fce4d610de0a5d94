"""The two-way vocabularies and the status map: explicit both ways, raising on the unknown."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ordergate.domain.values import OrderStatus, OrderType, Side, TimeInForce
from ordergate.venues.ccxt.decimals import decimal_of, ns_of_ms, optional_decimal
from ordergate.venues.ccxt.dialects.base import UNIFIED_ORDER_TYPES, UNIFIED_TIME_IN_FORCE
from ordergate.venues.ccxt.dialects.binance import FUTURES_ORDER_TYPES, SPOT_ORDER_TYPES
from ordergate.venues.ccxt.dialects.bybit import BYBIT_ORDER_TYPES, TRIGGER_DIRECTIONS
from ordergate.venues.ccxt.dialects.kraken import KRAKEN_ORDER_TYPES, KRAKEN_TIME_IN_FORCE
from ordergate.venues.ccxt.errors import UnmappedVenueValue, UnsupportedByVenue
from ordergate.venues.ccxt.maps import SIDES, TwoWayMap, order_status
from ordergate.venues.ccxt.translate import LIQUIDITY, POSITION_SIDES

D = Decimal
MAPS = [
    SIDES,
    LIQUIDITY,
    POSITION_SIDES,
    UNIFIED_ORDER_TYPES,
    UNIFIED_TIME_IN_FORCE,
    BYBIT_ORDER_TYPES,
    TRIGGER_DIRECTIONS,
    SPOT_ORDER_TYPES,
    FUTURES_ORDER_TYPES,
    KRAKEN_ORDER_TYPES,
    KRAKEN_TIME_IN_FORCE,
]


@pytest.mark.parametrize("vocabulary", MAPS, ids=lambda m: m.what)
def test_every_value_maps_there_and_back(vocabulary):
    for ours, theirs in vocabulary._to_venue.items():
        assert vocabulary.to_venue(ours) == theirs
        assert vocabulary.from_venue(theirs) == ours


@pytest.mark.parametrize("vocabulary", MAPS, ids=lambda m: m.what)
def test_an_unknown_venue_value_raises(vocabulary):
    with pytest.raises(UnmappedVenueValue):
        vocabulary.from_venue("no-such-value")
    with pytest.raises(UnmappedVenueValue):
        vocabulary.from_venue(None)
    with pytest.raises(UnmappedVenueValue):
        vocabulary.from_venue(["unhashable"])


def test_every_order_type_has_a_spelling_on_each_venue():
    for vocabulary in (
        UNIFIED_ORDER_TYPES,
        BYBIT_ORDER_TYPES,
        SPOT_ORDER_TYPES,
        FUTURES_ORDER_TYPES,
        KRAKEN_ORDER_TYPES,
    ):
        assert {vocabulary.from_venue(vocabulary.to_venue(t)) for t in OrderType} == set(OrderType)


def test_a_value_the_venue_cannot_express_is_unsupported():
    with pytest.raises(UnsupportedByVenue):
        UNIFIED_TIME_IN_FORCE.to_venue(TimeInForce.DAY)
    with pytest.raises(UnsupportedByVenue):
        KRAKEN_TIME_IN_FORCE.to_venue(TimeInForce.FOK)


def test_a_map_refuses_two_values_with_one_spelling():
    with pytest.raises(ValueError, match="share"):
        TwoWayMap("side", {Side.BUY: "buy", Side.SELL: "buy"})


@pytest.mark.parametrize(
    ("status", "filled", "amount", "expected"),
    [
        ("open", "0", "1", OrderStatus.ACCEPTED),
        ("open", "0.4", "1", OrderStatus.PARTIALLY_FILLED),
        ("closed", "1", "1", OrderStatus.FILLED),
        ("closed", "0.4", "1", OrderStatus.CANCELED),  # Bybit PartiallyFilledCanceled
        ("canceled", "0", "1", OrderStatus.CANCELED),
        ("canceled", "0.4", "1", OrderStatus.CANCELED),
        ("expired", "0", "1", OrderStatus.EXPIRED),
        ("rejected", "0", "1", OrderStatus.REJECTED),
        ("rejected", "0.4", "1", OrderStatus.CANCELED),
    ],
)
def test_ccxt_status_and_fill_give_ordergate_status(status, filled, amount, expected):
    assert order_status(status, D(filled), D(amount)) is expected


@pytest.mark.parametrize("status", ["pending", "Untriggered", "", None, "OPEN"])
def test_an_unknown_ccxt_status_raises(status):
    with pytest.raises(UnmappedVenueValue):
        order_status(status, D(0), D(1))


def test_numbers_are_read_exactly():
    assert decimal_of("0.100", "qty") == D("0.100")
    assert decimal_of(3, "qty") == D(3)
    assert decimal_of(0.1, "qty") == D("0.1")  # a float's shortest repr, not its binary
    assert optional_decimal("", "price") is None
    assert optional_decimal(None, "price") is None
    assert ns_of_ms(1700000000123) == 1700000000123 * 1_000_000
    assert ns_of_ms(None) is None
    assert ns_of_ms(True) is None


@pytest.mark.parametrize("value", [None, "abc", "NaN", "Infinity", True, {}])
def test_a_missing_or_malformed_number_raises(value):
    with pytest.raises(UnmappedVenueValue):
        decimal_of(value, "qty")
