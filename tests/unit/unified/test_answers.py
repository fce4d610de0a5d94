"""Engine views as seed 004's answers, and the seed's dataclasses."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from tests.unit.unified.support import order_view

from ordergate.domain.accounts import CurrencyMargin
from ordergate.domain.errors import Conflict, InvalidRequest
from ordergate.domain.instruments import Instrument
from ordergate.domain.values import OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.views import PositionView
from ordergate.unified import (
    ExactNumber,
    ExecutionEngine,
    OrderSide,
    UnifiedAccountState,
    UnifiedOrderRequest,
    UnifiedOrderResult,
)
from ordergate.unified.answers import (
    account_state_of,
    main_currency,
    position_of,
    refusal_of,
    refused_on,
    result_of,
)
from ordergate.unified.blocking import OrdergateEngine

D = Decimal


def test_request_takes_the_seeds_positional_fields_and_reads_floats_exactly() -> None:
    request = UnifiedOrderRequest("EURUSD", OrderSide.BUY, 0.1, OrderType.LIMIT, 1.0951)

    assert request.quantity == D("0.1")
    assert isinstance(request.quantity, ExactNumber)
    assert str(request.price) == "1.0951"
    assert (request.stop_price, request.time_in_force, request.ref_id) == (None, "GTC", None)


def test_request_accepts_the_seeds_strings_for_its_enums() -> None:
    side: Any = "SELL"  # the seed's `str, Enum`s take their strings
    kind: Any = "STOP"
    request = UnifiedOrderRequest(
        "BTCUSDT", side, "0.01", kind, stop_price=49000, time_in_force="ioc"
    )

    assert request.side is Side.SELL
    assert request.type is OrderType.STOP
    assert request.time_in_force is TimeInForce.IOC


@pytest.mark.parametrize("quantity", [float("nan"), float("inf"), True, "x"])
def test_request_refuses_a_quantity_that_is_not_a_finite_number(quantity) -> None:
    with pytest.raises(InvalidRequest):
        UnifiedOrderRequest("EURUSD", OrderSide.BUY, quantity)


def test_result_of_a_filled_order_speaks_the_seed_and_keeps_ordergates_status() -> None:
    result = result_of(order_view())

    assert result == UnifiedOrderResult(
        id="o-1",
        status="FILLED",
        filled_qty=D("0.5"),
        avg_fill_price=D("1.0951"),
        error=None,
        ordergate_status="FILLED",
        reason_code=None,
        client_order_id="c-1",
        venue_order_id="v-1",
        symbol="EURUSD",
        side=Side.BUY,
        quantity=D("0.5"),
        ref_id="ref-1",
    )
    assert result.order_id == "o-1"
    assert float(result.filled_qty) == 0.5


def test_result_of_a_denied_order_is_rejected_with_code_and_reason() -> None:
    view = order_view(
        status=OrderStatus.DENIED,
        filled_qty=D(0),
        avg_fill_price=None,
        reason_code="INSUFFICIENT_MARGIN",
        reason="needs 10",
    )
    result = result_of(view)

    assert (result.status, result.ordergate_status) == ("REJECTED", "DENIED")
    assert (result.filled_qty, result.avg_fill_price) == (0, 0)
    assert result.error == "INSUFFICIENT_MARGIN: needs 10"
    assert result.reason_code == "INSUFFICIENT_MARGIN"


def test_refusal_of_is_a_rejected_result_without_an_order() -> None:
    result = refusal_of(Conflict("no EURUSD position", code="NO_POSITION"), "EURUSD")

    assert (result.id, result.status, result.reason_code) == ("", "REJECTED", "NO_POSITION")
    assert result.error == "NO_POSITION: no EURUSD position"


def test_refused_on_keeps_the_order_as_it_is_and_names_the_refusal() -> None:
    refused = Conflict("already FILLED", code="ORDER_ALREADY_TERMINAL")
    result = refused_on(order_view(), refused)

    assert (result.status, result.reason_code) == ("FILLED", "ORDER_ALREADY_TERMINAL")
    assert result.error == "ORDER_ALREADY_TERMINAL: already FILLED"


def _instrument() -> Instrument:
    return Instrument(
        symbol="EURUSD",
        base_currency="EUR",
        quote_currency="USD",
        tick_size=D("0.00001"),
        lot_step=D("0.01"),
        min_qty=D("0.01"),
        contract_size=D(100000),
        margin_rate=D("0.01"),
    )


@pytest.mark.parametrize(
    ("qty", "side", "upnl"), [(D("0.5"), Side.BUY, D("50.0")), (D("-0.5"), Side.SELL, D("-50.0"))]
)
def test_position_of_has_side_from_the_sign_and_a_positive_quantity(qty, side, upnl) -> None:
    view = PositionView("default", "EURUSD", qty, D("1.1000"), D(3), D("0.1"), 5)

    position = position_of(view, _instrument(), D("1.1010"))

    assert (position.side, position.quantity, position.avg_price) == (side, D("0.5"), D("1.1"))
    assert position.unrealized_pnl == upnl  # qty * (mark - avg) * contract size
    assert (position.mark_price, position.currency, position.ticket_id) == (
        D("1.1010"),
        "USD",
        None,
    )


def test_position_of_without_a_mark_is_valued_at_its_average() -> None:
    view = PositionView("default", "EURUSD", D(1), D("1.1"), D(0), D(0), 5)
    assert position_of(view, _instrument(), None).unrealized_pnl == 0


def _margin(ccy: str, balance: str) -> CurrencyMargin:
    return CurrencyMargin(ccy, D(balance), D(5), D(balance) + 5, D(10), D(2))


def test_account_state_reports_the_configured_currency() -> None:
    margins = {"USD": _margin("USD", "100"), "USDT": _margin("USDT", "900")}

    state = account_state_of(margins, "USD", "default")

    assert state == UnifiedAccountState(
        balance=D(100),
        equity=D(105),
        used_margin=D(12),
        available_margin=D(93),
        currency="USD",
        unrealized_pnl=D(5),
        account="default",
    )


def test_account_state_unset_currency_is_the_largest_balance_first_by_name() -> None:
    assert main_currency({"USD": _margin("USD", "1"), "USDT": _margin("USDT", "9")}, None) == (
        "USDT"
    )
    assert main_currency({"USDT": _margin("USDT", "9"), "USD": _margin("USD", "9")}, None) == "USD"
    assert main_currency({}, None) is None


def test_account_state_in_a_currency_not_held_is_zero() -> None:
    state = account_state_of({"USD": _margin("USD", "1")}, "EUR", "default")
    assert (state.balance, state.equity, state.currency) == (0, 0, "EUR")


def test_ordergate_engine_satisfies_the_seeds_protocol() -> None:
    assert issubclass(OrdergateEngine, ExecutionEngine)
