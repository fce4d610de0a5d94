"""NautilusTrader's values and refusals in ordergate's terms: exact decimals, statuses,
DAY's end, and reason codes read from NautilusTrader's texts (the simulated venue's
`convert` and `reasons`, and the vocabulary both NautilusTrader venues share)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from nautilus_trader.model.enums import OrderStatus as NautilusStatus
from nautilus_trader.model.identifiers import Venue

from ordergate.domain.instruments import Instrument
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderStatus
from ordergate.venues.nautilus.convert import (
    NS_PER_DAY,
    day_expiry_ns,
    fixed,
    money,
    perpetual,
    precision_of,
    to_price,
    to_quantity,
)
from ordergate.venues.nautilus.reasons import rejection_code, request_rejection_code
from ordergate.venues.nautilus_vocabulary import (
    DENIED_BY,
    decimal_of,
    denial_reason,
    order_status,
)

D = Decimal


@pytest.mark.parametrize(
    ("step", "precision"),
    [("0.1", 1), ("0.001", 3), ("0.00001", 5), ("1", 0), ("5", 0), ("100000", 0), ("0.50", 1)],
)
def test_precision_of_a_step_is_its_decimals(step: str, precision: int) -> None:
    assert precision_of(D(step)) == precision


@pytest.mark.parametrize(
    ("value", "precision", "text"),
    [
        ("50010", 1, "50010.0"),
        ("50010.0", 1, "50010.0"),
        ("0.01", 3, "0.010"),
        ("1E+5", 0, "100000"),
        ("0.0001", 3, "0.0001"),  # finer than the grid: sent as it is, for NautilusTrader to deny
    ],
)
def test_fixed_writes_the_grid_s_decimals_or_the_value_as_it_is(
    value: str, precision: int, text: str
) -> None:
    assert fixed(D(value), precision) == text


def test_prices_and_quantities_round_trip_exactly() -> None:
    price = to_price(D("47067.1"), 1)
    qty = to_quantity(D("0.03"), 3)

    assert (price.precision, qty.precision) == (1, 3)
    assert (decimal_of(price), decimal_of(qty)) == (D("47067.1"), D("0.030"))
    assert (str(decimal_of(price)), str(decimal_of(qty))) == ("47067.1", "0.030")
    assert str(decimal_of(money(D("0.275055"), "USDT"))) == "0.27505500"  # its precision


def test_day_expiry_is_the_next_midnight_utc() -> None:
    midnight = 19_000 * NS_PER_DAY

    assert day_expiry_ns(midnight) == midnight + NS_PER_DAY
    assert day_expiry_ns(midnight + 1) == midnight + NS_PER_DAY
    assert day_expiry_ns(midnight + NS_PER_DAY - 1) == midnight + NS_PER_DAY


@pytest.mark.parametrize(
    ("status", "filled", "expected"),
    [
        (NautilusStatus.ACCEPTED, "0", OrderStatus.ACCEPTED),
        (NautilusStatus.SUBMITTED, "0", None),  # sent, not yet answered
        (NautilusStatus.TRIGGERED, "0", OrderStatus.ACCEPTED),
        (NautilusStatus.PARTIALLY_FILLED, "0.005", OrderStatus.PARTIALLY_FILLED),
        (NautilusStatus.ACCEPTED, "0.005", OrderStatus.PARTIALLY_FILLED),  # restored, refilled
        (NautilusStatus.FILLED, "0.01", OrderStatus.FILLED),
        (NautilusStatus.CANCELED, "0", OrderStatus.CANCELED),
        (NautilusStatus.EXPIRED, "0", OrderStatus.EXPIRED),
        (NautilusStatus.REJECTED, "0", OrderStatus.REJECTED),
        (NautilusStatus.DENIED, "0", None),  # its risk engine's: the exchange never had it
        (NautilusStatus.INITIALIZED, "0", None),
    ],
)
def test_order_status_from_nautilus(
    status: NautilusStatus, filled: str, expected: OrderStatus | None
) -> None:
    assert order_status(status, D(filled)) == expected


def test_perpetual_carries_the_instrument_s_grid_fees_and_contract_size() -> None:
    eurusd = Instrument(
        symbol="EURUSD",
        base_currency="EUR",
        quote_currency="USD",
        tick_size=D("0.00001"),
        lot_step=D("0.01"),
        min_qty=D("0.01"),
        contract_size=D(100_000),
        margin_rate=D("0.01"),
        taker_fee_rate=D("0.0001"),
    )

    built = perpetual(eurusd, Venue("OG1"))

    assert str(built.id) == "EURUSD.OG1"
    assert (built.price_precision, built.size_precision) == (5, 2)
    assert decimal_of(built.multiplier) == D(100_000)
    assert (built.margin_init, built.taker_fee) == (D("0.01"), D("0.0001"))
    assert built.quote_currency.code == "USD"


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("REDUCE_ONLY MARKET SELL order would have increased position", "REDUCE_ONLY_NO_POSITION"),
        ("no market for BTCUSDT.OG1", "NO_REFERENCE_PRICE"),
        ("STOP_MARKET BUY order stop px of 46900.0 was in the market: bid=…", "VENUE_REJECTED"),
        ("POST_ONLY LIMIT BUY order would have been a TAKER", "VENUE_REJECTED"),
    ],
)
def test_rejection_codes_come_from_nautilus_texts(reason: str, code: str) -> None:
    assert rejection_code(reason) == code


def test_a_denial_says_nautilus_s_risk_engine_denied_it() -> None:
    reason = denial_reason("quantity 0.0001 invalid (precision 4 > 3)")

    assert reason.startswith(DENIED_BY)
    assert reason.endswith("(precision 4 > 3)")


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("ClientOrderId('M-2') not found", ReasonCode.VENUE_ORDER_NOT_FOUND),
        ("Order with ClientOrderId('L-1') already closed", ReasonCode.VENUE_ORDER_NOT_FOUND),
        ("STOP_MARKET SELL order new stop px of 1.0 was in the market", ReasonCode.VENUE_REJECTED),
    ],
)
def test_cancel_and_modify_rejection_codes(reason: str, code: ReasonCode) -> None:
    assert request_rejection_code(reason) == code
