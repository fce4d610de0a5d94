"""Attached stop-loss and take-profit: reduce-only children linked one-cancels-other.

ordergate manages brackets itself rather than relying on each venue's variant: the
children are ordinary orders (journaled, risk-checked, tracked) with `parent_order_id`
set. They are created once the parent is done (FILLED, or canceled or expired after a
partial fill) for the quantity it filled: a stop-loss as a STOP, a take-profit as a
LIMIT, both reduce-only. When one child fills, its siblings are canceled; when one fills
partly, its siblings shrink to what still needs protecting.
"""

from __future__ import annotations

from decimal import Decimal

from ordergate.domain.orders import Order, can_request_cancel, can_request_replace
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import ZERO, OrderStatus, OrderType, TimeInForce
from ordergate.engine.amendments import request_cancel, request_replace
from ordergate.engine.commands import PlaceOrder
from ordergate.engine.context import DecisionContext
from ordergate.engine.placement import create_order


def after_change(ctx: DecisionContext, order: Order) -> None:
    """Keep brackets in step after a venue event changed `order`."""
    has_bracket = order.stop_loss is not None or order.take_profit is not None
    if (
        has_bracket
        and order.order_id not in ctx.state.children
        and order.status.is_terminal
        and order.filled_qty > ZERO
    ):
        attach(ctx, order)
    if order.parent_order_id is not None and order.filled_qty > ZERO:
        adjust_siblings(ctx, order)


def attach(ctx: DecisionContext, parent: Order) -> None:
    """Protect the filled quantity of a finished parent with reduce-only children."""
    if parent.stop_loss is not None:
        create_order(ctx, _child(parent, OrderType.STOP, stop_price=parent.stop_loss))
    if parent.take_profit is not None:
        create_order(ctx, _child(parent, OrderType.LIMIT, price=parent.take_profit))


def _child(
    parent: Order,
    order_type: OrderType,
    *,
    price: Decimal | None = None,
    stop_price: Decimal | None = None,
) -> PlaceOrder:
    return PlaceOrder(
        account=parent.account,
        symbol=parent.symbol,
        side=parent.side.opposite,
        qty=parent.filled_qty,
        type=order_type,
        price=price,
        stop_price=stop_price,
        time_in_force=TimeInForce.GTC,
        reduce_only=True,
        strategy=parent.strategy,
        trace_id=parent.trace_id,
        parent_order_id=parent.order_id,
    )


def adjust_siblings(ctx: DecisionContext, child: Order) -> None:
    parent_id = child.parent_order_id
    assert parent_id is not None
    remaining = child.qty - child.filled_qty
    for sibling_id in ctx.state.children.get(parent_id, ()):
        if sibling_id == child.order_id:
            continue
        sibling = ctx.state.orders.get(sibling_id)
        if sibling is None:
            continue  # retired: finished, so nothing to cancel or resize
        if remaining == ZERO or child.status is OrderStatus.FILLED:
            if can_request_cancel(sibling.status):
                request_cancel(ctx, sibling, ReasonCode.OCO_SIBLING_FILLED)
            continue
        target = sibling.filled_qty + remaining
        if target < sibling.qty and can_request_replace(sibling.status):
            request_replace(ctx, sibling, target, sibling.price, sibling.stop_price)
