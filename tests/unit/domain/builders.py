"""Builders for domain unit tests: orders, events of each trigger, paths through the table.

The instruments come from `tests/fakes.py`.
"""

from __future__ import annotations

import copy
from collections import deque
from decimal import Decimal
from typing import Any

from tests.fakes import BTC

from ordergate.domain.events import (
    OrderAccepted,
    OrderApproved,
    OrderCanceled,
    OrderCancelRejected,
    OrderCancelRequested,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderPlanned,
    OrderRejected,
    OrderReplaced,
    OrderReplaceRejected,
    OrderReplaceRequested,
    OrderStatusUnknown,
    OrderSubmitted,
)
from ordergate.domain.instruments import Instrument
from ordergate.domain.orders import TRANSITIONS, Order, Trigger
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce

ACCOUNT = "acct-1"
PARTIAL_QTY = Decimal("0.1")


def initialized(
    order_id: str = "0-1",
    *,
    account: str = ACCOUNT,
    symbol: str = BTC.symbol,
    side: Side = Side.BUY,
    type: OrderType = OrderType.LIMIT,
    qty: Decimal | str = "1",
    price: Decimal | str | None = "50000",
    stop_price: Decimal | str | None = None,
    time_in_force: TimeInForce = TimeInForce.GTC,
    reduce_only: bool = False,
    stop_loss: Decimal | str | None = None,
    take_profit: Decimal | str | None = None,
    strategy: str | None = None,
    idempotency_key: str | None = None,
    parent_order_id: str | None = None,
    ts: int = 1,
) -> OrderInitialized:
    def dec(value: Decimal | str | None) -> Decimal | None:
        return None if value is None else Decimal(value)

    return OrderInitialized(
        order_id=order_id,
        client_order_id=f"coid-{order_id}",
        account=account,
        symbol=symbol,
        side=side,
        type=type,
        qty=Decimal(qty),
        price=dec(price),
        stop_price=dec(stop_price),
        time_in_force=time_in_force,
        reduce_only=reduce_only,
        stop_loss=dec(stop_loss),
        take_profit=dec(take_profit),
        strategy=strategy,
        idempotency_key=idempotency_key,
        request_hash=None,
        parent_order_id=parent_order_id,
        trace_id=None,
        ts=ts,
    )


def new_order(**kwargs: Any) -> Order:
    return Order(initialized(**kwargs))


def fill_of(
    order: Order,
    qty: Decimal | str,
    price: Decimal | str = "50000",
    *,
    trade_id: str | None = None,
    fee: Decimal | str = "0",
    ts: int | None = None,
) -> OrderFilled:
    return OrderFilled(
        order_id=order.order_id,
        account=order.account,
        symbol=order.symbol,
        side=order.side,
        trade_id=trade_id if trade_id is not None else f"T{len(order.trade_ids) + 1}",
        qty=Decimal(qty),
        price=Decimal(price),
        fee=Decimal(fee),
        fee_currency=BTC.quote_currency,
        liquidity=LiquiditySide.TAKER,
        ts=order.updated_ts + 1 if ts is None else ts,
    )


def event_for(order: Order, trigger: Trigger) -> OrderEvent:
    """An event that `order` classifies as `trigger` (checked by the caller)."""
    oid = order.order_id
    ts = order.updated_ts + 1
    if trigger is Trigger.FILL_PARTIAL:
        return fill_of(order, PARTIAL_QTY)
    if trigger is Trigger.FILL_FULL:
        remaining = order.qty - order.filled_qty
        return fill_of(order, remaining if remaining > 0 else PARTIAL_QTY)
    events: dict[Trigger, OrderEvent] = {
        Trigger.DENY: OrderDenied(oid, ReasonCode.QTY_BELOW_MIN, "too small", ts),
        Trigger.APPROVE: OrderApproved(oid, Decimal("50000"), ts),
        Trigger.PLAN: OrderPlanned(oid, Decimal("50000"), ts),
        Trigger.SUBMIT: OrderSubmitted(oid, "V-1", ts),
        Trigger.ACCEPT: OrderAccepted(oid, "V-1", ts),
        Trigger.REJECT: OrderRejected(oid, ReasonCode.VENUE_REJECTED, "no", ts),
        Trigger.REQUEST_CANCEL: OrderCancelRequested(oid, "user", ts),
        Trigger.CANCEL: OrderCanceled(oid, None, None, ts),
        Trigger.REJECT_CANCEL: OrderCancelRejected(
            oid, ReasonCode.VENUE_ORDER_NOT_FOUND, "gone", ts
        ),
        Trigger.REQUEST_REPLACE: OrderReplaceRequested(
            oid, order.qty + 1, Decimal("49000"), None, ts
        ),
        Trigger.REPLACE: OrderReplaced(oid, order.qty + 1, Decimal("49000"), None, ts),
        Trigger.REJECT_REPLACE: OrderReplaceRejected(oid, ReasonCode.VENUE_REJECTED, "no", ts),
        Trigger.EXPIRE: OrderExpired(oid, ReasonCode.DAY_ORDER_EXPIRED, ts),
        Trigger.MARK_UNKNOWN: OrderStatusUnknown(oid, "timeout", ts),
    }
    return events[trigger]


def _find_path(status: OrderStatus, filled: bool | None) -> list[Trigger] | None:
    """Shortest trigger path from NEW to `status` (with something filled, if `filled`)."""
    start = new_order()
    queue: deque[tuple[list[Trigger], Order]] = deque([([], start)])
    seen: set[tuple[OrderStatus, bool]] = {(start.status, False)}
    while queue:
        path, order = queue.popleft()
        has_filled = order.filled_qty > 0
        if order.status is status and (filled is None or filled == has_filled):
            return path
        for trigger in Trigger:
            if (order.status, trigger) not in TRANSITIONS:
                continue
            nxt = copy.deepcopy(order)
            event = event_for(nxt, trigger)
            if nxt.trigger_for(event) is not trigger:
                continue
            nxt.apply(event)
            key = (nxt.status, nxt.filled_qty > 0)
            if key in seen:
                continue
            seen.add(key)
            queue.append(([*path, trigger], nxt))
    return None


_PATHS: dict[tuple[OrderStatus, bool | None], list[Trigger] | None] = {}


def path_to(status: OrderStatus, *, filled: bool | None = None) -> list[Trigger] | None:
    key = (status, filled)
    if key not in _PATHS:
        _PATHS[key] = _find_path(status, filled)
    return _PATHS[key]


def order_in(status: OrderStatus, *, filled: bool | None = None, **kwargs: Any) -> Order:
    """An order driven to `status` by real events through `Order.apply`."""
    path = path_to(status, filled=filled)
    if path is None:
        raise LookupError(f"no path from NEW to {status} (filled={filled})")
    order = new_order(**kwargs)
    for trigger in path:
        order.apply(event_for(order, trigger))
    assert order.status is status
    return order


def snapshot(order: Order) -> dict[str, object]:
    """Every attribute of an order, copied, to tell whether anything changed."""
    return {name: copy.copy(getattr(order, name)) for name in Order.__slots__}


def book_fill(
    instrument: Instrument,
    trade_id: str,
    side: Side,
    qty: Decimal,
    price: Decimal,
    fee: Decimal = Decimal(0),
    fee_currency: str | None = None,
    account: str = ACCOUNT,
    ts: int = 1,
    order_id: str = "0-1",
) -> OrderFilled:
    return OrderFilled(
        order_id=order_id,
        account=account,
        symbol=instrument.symbol,
        side=side,
        trade_id=trade_id,
        qty=qty,
        price=price,
        fee=fee,
        fee_currency=fee_currency or instrument.quote_currency,
        liquidity=LiquiditySide.MAKER,
        ts=ts,
    )
