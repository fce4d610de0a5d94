"""The client reads the server's JSON back into exactly the views the server wrote it from."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from ordergate.api.routers.risk import DenialOut, PreviewOut
from ordergate.api.schemas import (
    AccountOut,
    CloseAllOut,
    CurrencyOut,
    FillOut,
    FillPage,
    OrderOut,
    OrderPage,
    PositionOut,
    iso,
)
from ordergate.client import wire
from ordergate.domain.accounts import CurrencyMargin
from ordergate.domain.errors import OrderGateError
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.views import FillView, OrderView, PositionView

# Nanoseconds that are whole microseconds: what the wire carries, read back exactly.
CREATED = 1_765_000_000_123_456_000
UPDATED = CREATED + 250_000_000


def an_order(**changes: object) -> OrderView:
    fields: dict[str, object] = {
        "order_id": "0-7",
        "client_order_id": "og-0-7",
        "account": "default",
        "symbol": "BTCUSDT",
        "side": Side.BUY,
        "type": OrderType.LIMIT,
        "qty": Decimal("0.010"),
        "price": Decimal("30000.10"),
        "stop_price": None,
        "time_in_force": TimeInForce.GTC,
        "reduce_only": False,
        "stop_loss": Decimal("29000"),
        "take_profit": None,
        "strategy": "bot-7",
        "idempotency_key": "k-1",
        "parent_order_id": None,
        "trace_id": "t-1",
        "status": OrderStatus.PARTIALLY_FILLED,
        "filled_qty": Decimal("0.004"),
        "overfill_qty": Decimal("0"),
        "avg_fill_price": Decimal("30000.05"),
        "venue_order_id": "v-9",
        "reason_code": None,
        "reason": None,
        "flags": ("LATE_FILL",),
        "created_ts": CREATED,
        "updated_ts": UPDATED,
        "signal_id": "s-3",
    }
    return OrderView(**(fields | changes))  # type: ignore[arg-type]


def over_the_wire(model: object) -> object:
    """What the server sends: the response model as JSON, parsed as a client parses it."""
    if isinstance(model, list):
        return [over_the_wire(item) for item in model]
    return json.loads(model.model_dump_json())  # type: ignore[attr-defined]


def test_client_wire_order_reads_back_equal_to_its_view() -> None:
    view = an_order()
    assert wire.order_view(over_the_wire(OrderOut.of(view))) == view


def test_client_wire_order_keeps_a_decimals_digits() -> None:
    read = wire.order_view(over_the_wire(OrderOut.of(an_order())))
    assert str(read.qty) == "0.010"
    assert str(read.price) == "30000.10"


def test_client_wire_order_page_and_cursor() -> None:
    views = [an_order(), an_order(order_id="0-8", status=OrderStatus.FILLED, signal_id=None)]
    page = OrderPage(items=[OrderOut.of(v) for v in views], next_cursor="abc")
    read = wire.order_page(over_the_wire(page))
    assert read.items == views
    assert read.next_cursor == "abc"


def test_client_wire_fill_page_reads_back_equal_to_its_views() -> None:
    fill = FillView(
        "t-1", "0-7", "default", "BTCUSDT", Side.SELL, Decimal("0.004"), Decimal("30000.05"),
        Decimal("0.012"), "USDT", LiquiditySide.MAKER, UPDATED,
    )  # fmt: skip
    read = wire.fill_page(over_the_wire(FillPage(items=[FillOut.of(fill)], next_cursor=None)))
    assert read.items == [fill]
    assert read.next_cursor is None


def test_client_wire_positions_and_marks() -> None:
    out = PositionOut(
        account="default",
        symbol="BTCUSDT",
        side="SHORT",
        qty=Decimal("-0.5"),
        avg_price=Decimal("30000.5"),
        mark_price=Decimal("29000"),
        unrealized_pnl=Decimal("500.25"),
        realized_pnl=Decimal("-1.5"),
        fees=Decimal("0.3"),
        currency="USDT",
        updated_at=iso(UPDATED),
    )
    expected = PositionView(
        "default", "BTCUSDT", Decimal("-0.5"), Decimal("30000.5"), Decimal("-1.5"),
        Decimal("0.3"), UPDATED,
    )  # fmt: skip
    assert wire.positions(over_the_wire([out])) == [expected]
    (marked,) = wire.marked_positions(over_the_wire([out]))
    assert (marked.position, marked.mark_price, marked.unrealized_pnl, marked.currency) == (
        expected,
        Decimal("29000"),
        Decimal("500.25"),
        "USDT",
    )


def test_client_wire_account_as_margins_per_currency() -> None:
    margin = CurrencyMargin(
        "USDT", Decimal("100000"), Decimal("-12.5"), Decimal("99987.5"), Decimal("300"),
        Decimal("150.25"),
    )  # fmt: skip
    out = AccountOut(
        account="default",
        currencies=[
            CurrencyOut(
                currency="USDT",
                balance=margin.balance,
                unrealized_pnl=margin.unrealized_pnl,
                equity=margin.equity,
                used_margin=margin.used_margin,
                position_margin=margin.position_margin,
                order_margin=margin.order_margin,
                free_margin=margin.free_margin,
            )
        ],
    )
    assert wire.account(over_the_wire(out)) == {"USDT": margin}


def test_client_wire_close_all_and_preview() -> None:
    views = [an_order(status=OrderStatus.PENDING_CANCEL)]
    out = CloseAllOut(canceled=[OrderOut.of(v) for v in views], closing=[])
    assert wire.close_all(over_the_wire(out)).canceled == views
    preview = PreviewOut(
        accepted=False,
        denials=[DenialOut(reason_code="INSUFFICIENT_MARGIN", reason="needs 5, has 1")],
        estimated_price=Decimal("30000.5"),
        notional=Decimal("15000.25"),
        fee=Decimal("1.5"),
        fee_currency="USDT",
        slippage_bps=None,
        margin_required=Decimal("5"),
        free_margin=Decimal("1"),
        free_margin_after=Decimal("-4"),
        position_qty=Decimal("0"),
        worst_case_position_qty=Decimal("0.5"),
    )
    read = wire.preview(over_the_wire(preview))
    assert read.denials[0].code is ReasonCode.INSUFFICIENT_MARGIN
    assert (read.notional, read.worst_case_qty, read.slippage_bps) == (
        Decimal("15000.25"),
        Decimal("0.5"),
        None,
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("qty", 0.01),  # a float where a decimal belongs: refused, never rounded
        ("qty", "NaN"),
        ("qty", "lots"),
        ("status", "HALF_DONE"),
        ("created_at", "yesterday"),
        ("flags", "LATE_FILL"),
        ("reduce_only", "no"),
    ],
)
def test_client_wire_order_unreadable_field_raises(field: str, value: object) -> None:
    data = over_the_wire(OrderOut.of(an_order()))
    assert isinstance(data, dict)
    data[field] = value
    with pytest.raises(OrderGateError) as raised:
        wire.order_view(data)
    assert raised.value.code == wire.UNREADABLE


def test_client_wire_amount_refuses_a_float() -> None:
    assert wire.amount(Decimal("0.0100")) == "0.0100"
    assert wire.amount(3) == "3"
    with pytest.raises(TypeError):
        wire.amount(0.1)  # type: ignore[arg-type]


def test_client_wire_reconciliation_reports_read_back_equal_to_the_engines() -> None:
    from ordergate.api.routers.trading import ReportOut
    from ordergate.engine.reconcile import Diff, DiffKind, ReconciliationReport, Scope

    report = ReconciliationReport(
        account="default",
        scope=Scope.ALL,
        diffs=[
            Diff(DiffKind.ORDER_UNKNOWN, "AAPL", "open at the venue only", "rh-1", None, "OPEN"),
            Diff(DiffKind.POSITION_MISMATCH, "AAPL", "10 here, 12 there", None, "10", "12"),
        ],
        actions=["adopted external order rh-1"],
        agreed=False,
    )
    answer = json.loads(json.dumps([ReportOut.of(report).model_dump(mode="json")]))

    assert wire.reconciliation_reports(answer) == [report]
    with pytest.raises(OrderGateError):
        wire.reconciliation_reports([{"account": "default", "scope": "ALL"}])
