"""The REST API's JSON, read back into the types `Oms` answers with, and written from its
arguments.

The server sends every price, quantity and amount as a string; they become `Decimal`
from that string and never pass through a float (a JSON number where a decimal belongs
is refused, not rounded). Times come as ISO 8601 UTC to the microsecond and become the
views' nanoseconds since the epoch, so they end in three zeros: the server keeps
nanoseconds, the wire does not carry them.

An answer that does not read as the documented shape raises `OrderGateError` with code
`RESPONSE_UNREADABLE`: a client talking to something that is not this server, or to a
newer one whose answer changed, learns it at once rather than acting on a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from ordergate.domain.accounts import CurrencyMargin
from ordergate.domain.errors import OrderGateError
from ordergate.domain.events import TargetsSet, TargetStep
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.risk import Denial
from ordergate.domain.values import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.placement import Preview
from ordergate.engine.queries import Page
from ordergate.engine.reconcile import Diff, DiffKind, ReconciliationReport, Scope
from ordergate.engine.results import CloseAllResult, TargetsResult
from ordergate.engine.target_views import TargetView
from ordergate.engine.views import FillView, OrderView, PositionView

UNREADABLE = "RESPONSE_UNREADABLE"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
E = TypeVar("E")


def unreadable(what: str) -> OrderGateError:
    message = f"the server's answer is not what ordergate sends: {what}"
    return OrderGateError(message, code=UNREADABLE)


def _field(data: Mapping[str, Any], name: str) -> Any:
    try:
        return data[name]
    except KeyError:
        raise unreadable(f"no field {name!r}") from None


def _text(data: Mapping[str, Any], name: str) -> str:
    value = _field(data, name)
    if not isinstance(value, str):
        raise unreadable(f"{name} is {value!r}, not a string")
    return value


def _text_or_none(data: Mapping[str, Any], name: str) -> str | None:
    return None if data.get(name) is None else _text(data, name)


def _flag(data: Mapping[str, Any], name: str) -> bool:
    value = _field(data, name)
    if not isinstance(value, bool):
        raise unreadable(f"{name} is {value!r}, not true or false")
    return value


def _decimal(data: Mapping[str, Any], name: str) -> Decimal:
    text = _text(data, name)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise unreadable(f"{name} is {text!r}, not a decimal") from None
    if not value.is_finite():
        raise unreadable(f"{name} is {text!r}, not a finite decimal")
    return value


def _decimal_or_none(data: Mapping[str, Any], name: str) -> Decimal | None:
    return None if data.get(name) is None else _decimal(data, name)


def _enum(kind: type[E], data: Mapping[str, Any], name: str) -> E:
    text = _text(data, name)
    try:
        return kind(text)  # type: ignore[call-arg]
    except ValueError:
        raise unreadable(f"{name} is {text!r}, not a {kind.__name__}") from None


def _ns(data: Mapping[str, Any], name: str) -> int:
    """An ISO 8601 time as nanoseconds since the epoch, in integers only."""
    text = _text(data, name)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise unreadable(f"{name} is {text!r}, not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return ((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds) * 1000


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise unreadable(f"{what} is not an object")
    return value


def _items(value: object, what: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        raise unreadable(f"{what} is not a list")
    return [_mapping(item, what) for item in value]


def order_view(value: object) -> OrderView:
    """An `OrderOut` as the `OrderView` it was made from.

    `overfill_qty` and `signal_id` are read when the server sends them (it does from
    the version that added them); an older server's answer reads as no overfill and no
    signal, which its `flags` (`OVERFILL`) can contradict: they are the ground truth.
    """
    data = _mapping(value, "an order")
    return OrderView(
        order_id=_text(data, "id"),
        client_order_id=_text(data, "client_order_id"),
        account=_text(data, "account"),
        symbol=_text(data, "symbol"),
        side=_enum(Side, data, "side"),
        type=_enum(OrderType, data, "type"),
        qty=_decimal(data, "qty"),
        price=_decimal_or_none(data, "price"),
        stop_price=_decimal_or_none(data, "stop_price"),
        time_in_force=_enum(TimeInForce, data, "time_in_force"),
        reduce_only=_flag(data, "reduce_only"),
        stop_loss=_decimal_or_none(data, "stop_loss"),
        take_profit=_decimal_or_none(data, "take_profit"),
        strategy=_text_or_none(data, "strategy"),
        idempotency_key=_text_or_none(data, "idempotency_key"),
        parent_order_id=_text_or_none(data, "parent_order_id"),
        trace_id=_text_or_none(data, "trace_id"),
        status=_enum(OrderStatus, data, "status"),
        filled_qty=_decimal(data, "filled_qty"),
        overfill_qty=Decimal(0) if "overfill_qty" not in data else _decimal(data, "overfill_qty"),
        avg_fill_price=_decimal_or_none(data, "avg_fill_price"),
        venue_order_id=_text_or_none(data, "venue_order_id"),
        reason_code=_text_or_none(data, "reason_code"),
        reason=_text_or_none(data, "reason"),
        flags=tuple(_flags(data)),
        created_ts=_ns(data, "created_at"),
        updated_ts=_ns(data, "updated_at"),
        signal_id=_text_or_none(data, "signal_id"),
    )


def _flags(data: Mapping[str, Any]) -> list[str]:
    flags = _field(data, "flags")
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        raise unreadable(f"flags is {flags!r}, not a list of strings")
    return flags


def fill_view(value: object) -> FillView:
    data = _mapping(value, "a fill")
    return FillView(
        trade_id=_text(data, "trade_id"),
        order_id=_text(data, "order_id"),
        account=_text(data, "account"),
        symbol=_text(data, "symbol"),
        side=_enum(Side, data, "side"),
        qty=_decimal(data, "qty"),
        price=_decimal(data, "price"),
        fee=_decimal(data, "fee"),
        fee_currency=_text(data, "fee_currency"),
        liquidity=_enum(LiquiditySide, data, "liquidity"),
        ts=_ns(data, "ts"),
    )


def position_view(value: object) -> PositionView:
    """A `PositionOut` as a `PositionView`; its mark, unrealized PnL and currency, which
    the view does not hold, are what `account()` sums per currency."""
    data = _mapping(value, "a position")
    return PositionView(
        account=_text(data, "account"),
        symbol=_text(data, "symbol"),
        qty=_decimal(data, "qty"),
        avg_price=_decimal(data, "avg_price"),
        realized_pnl=_decimal(data, "realized_pnl"),
        fees=_decimal(data, "fees"),
        updated_ts=_ns(data, "updated_at"),
    )


@dataclass(frozen=True, slots=True)
class MarkedPosition:
    """A position as `GET /v1/positions` shows it: the view, and what the server marks it
    at now (`mark_price`, `unrealized_pnl`: None without a price), in `currency`."""

    position: PositionView
    mark_price: Decimal | None
    unrealized_pnl: Decimal | None
    currency: str


def marked_positions(value: object) -> list[MarkedPosition]:
    return [
        MarkedPosition(
            position_view(item),
            _decimal_or_none(item, "mark_price"),
            _decimal_or_none(item, "unrealized_pnl"),
            _text(item, "currency"),
        )
        for item in _items(value, "positions")
    ]


def order_page(value: object) -> Page[OrderView]:
    data = _mapping(value, "a page of orders")
    items = _items(_field(data, "items"), "items")
    return Page([order_view(item) for item in items], _text_or_none(data, "next_cursor"))


def fill_page(value: object) -> Page[FillView]:
    data = _mapping(value, "a page of fills")
    items = _items(_field(data, "items"), "items")
    return Page([fill_view(item) for item in items], _text_or_none(data, "next_cursor"))


def positions(value: object) -> list[PositionView]:
    return [position_view(item) for item in _items(value, "positions")]


def account(value: object) -> dict[str, CurrencyMargin]:
    """An `AccountOut` as `Oms.account` answers it: margin figures per currency. Used and
    free margin are derived by `CurrencyMargin` itself, as they are on the server."""
    data = _mapping(value, "an account")
    margins: dict[str, CurrencyMargin] = {}
    for item in _items(_field(data, "currencies"), "currencies"):
        currency = _text(item, "currency")
        margins[currency] = CurrencyMargin(
            currency=currency,
            balance=_decimal(item, "balance"),
            unrealized_pnl=_decimal(item, "unrealized_pnl"),
            equity=_decimal(item, "equity"),
            position_margin=_decimal(item, "position_margin"),
            order_margin=_decimal(item, "order_margin"),
        )
    return margins


def close_all(value: object) -> CloseAllResult:
    data = _mapping(value, "a close-all result")
    return CloseAllResult(
        canceled=[order_view(item) for item in _items(_field(data, "canceled"), "canceled")],
        closing=[order_view(item) for item in _items(_field(data, "closing"), "closing")],
    )


def preview(value: object) -> Preview:
    data = _mapping(value, "a preview")
    return Preview(
        accepted=_flag(data, "accepted"),
        denials=[
            Denial(_enum(ReasonCode, item, "reason_code"), _text(item, "reason"))
            for item in _items(_field(data, "denials"), "denials")
        ],
        estimated_price=_decimal_or_none(data, "estimated_price"),
        notional=_decimal_or_none(data, "notional"),
        fee=_decimal_or_none(data, "fee"),
        fee_currency=_text_or_none(data, "fee_currency"),
        slippage_bps=_decimal_or_none(data, "slippage_bps"),
        margin_required=_decimal_or_none(data, "margin_required"),
        free_margin=_decimal(data, "free_margin"),
        position_qty=_decimal(data, "position_qty"),
        worst_case_qty=_decimal(data, "worst_case_position_qty"),
    )


def amount(value: Decimal | int) -> str:
    """A decimal argument as the server reads it best: a string, never a float."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"pass prices and quantities as Decimal, not {type(value).__name__}")
    return format(value, "f") if isinstance(value, Decimal) else str(value)


# --- target positions ----------------------------------------------------------------


def targets_result(value: object) -> TargetsResult:
    data = _mapping(value, "a target set")
    record = TargetsSet(
        set_id=_text(data, "set_id"),
        fingerprint=_text(data, "fingerprint"),
        account=_text(data, "account"),
        strategy=_text(data, "strategy"),
        order_type=_enum(OrderType, data, "order_type"),
        steps=tuple(_step(item) for item in _items(_field(data, "steps"), "steps")),
        trace_id=_text_or_none(data, "trace_id"),
        ts=_ns(data, "created_at"),
    )
    orders = [order_view(item) for item in _items(_field(data, "orders"), "orders")]
    return TargetsResult(record, orders, duplicate=_flag(data, "duplicate"))


def _step(data: Any) -> TargetStep:
    side = _text_or_none(data, "side")
    return TargetStep(
        symbol=_text(data, "symbol"),
        target=_decimal(data, "target"),
        position=_decimal(data, "position"),
        working_buy=_decimal(data, "working_buy"),
        working_sell=_decimal(data, "working_sell"),
        order_id=_text_or_none(data, "order_id"),
        side=None if side is None else _enum(Side, data, "side"),
        qty=_decimal(data, "qty"),
        remainder=_decimal(data, "remainder"),
        canceled=tuple(_strings(_field(data, "canceled"), "canceled")),
        reduced=tuple(_reduced(_field(data, "reduced"))),
        reason_code=_text_or_none(data, "reason_code"),
        detail=_text(data, "detail"),
    )


def _strings(value: object, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise unreadable(f"{what} is {value!r}, not a list of strings")
    return value


def _reduced(value: object) -> list[tuple[str, Any]]:
    if not isinstance(value, list):
        raise unreadable(f"reduced is {value!r}, not a list")
    pairs = []
    for pair in value:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
            raise unreadable(f"a reduced order is {pair!r}, not [order id, qty]")
        pairs.append((pair[0], _decimal({"qty": pair[1]}, "qty")))
    return pairs


def target_views(value: object) -> list[TargetView]:
    return [_view(item) for item in _items(value, "targets")]


def _view(data: Any) -> TargetView:
    status = _text_or_none(data, "order_status")
    return TargetView(
        account=_text(data, "account"),
        strategy=_text(data, "strategy"),
        symbol=_text(data, "symbol"),
        target=_decimal(data, "target"),
        position=_decimal(data, "position"),
        working=_decimal(data, "working"),
        working_orders=_strings(_field(data, "working_orders"), "working_orders"),
        gap=_decimal(data, "gap"),
        set_id=_text(data, "set_id"),
        set_ts=_ns(data, "set_at"),
        order_id=_text_or_none(data, "order_id"),
        order_status=None if status is None else _enum(OrderStatus, data, "order_status"),
        reason_code=_text_or_none(data, "reason_code"),
        detail=_text(data, "detail"),
        remainder=_decimal(data, "remainder"),
    )


def reconciliation_reports(value: object) -> list[ReconciliationReport]:
    """`POST /v1/reconcile`'s answer: one report per account."""
    return [
        ReconciliationReport(
            account=_text(data, "account"),
            scope=_enum(Scope, data, "scope"),
            diffs=[
                Diff(
                    kind=_enum(DiffKind, diff, "kind"),
                    symbol=_text(diff, "symbol"),
                    detail=_text(diff, "detail"),
                    client_order_id=_text_or_none(diff, "client_order_id"),
                    ours=_text_or_none(diff, "ours"),
                    venue=_text_or_none(diff, "venue"),
                )
                for diff in _items(_field(data, "diffs"), "diffs")
            ],
            actions=_strings(_field(data, "actions"), "actions"),
            agreed=_flag(data, "agreed"),
        )
        for data in _items(value, "reconciliation reports")
    ]
