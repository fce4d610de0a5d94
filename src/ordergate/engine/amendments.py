"""Cancelling and replacing working orders; closing positions."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from ordergate.domain.errors import Conflict, InvalidRequest, NotFound, RateLimited
from ordergate.domain.events import (
    OperatorActed,
    OrderCancelRequested,
    OrderInitialized,
    OrderReplaceRequested,
)
from ordergate.domain.orders import Order, can_request_cancel, can_request_replace
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.risk import (
    check_dirty,
    check_fat_finger,
    check_feed,
    check_gross_exposure,
    check_margin,
    check_notional,
    check_position_limit,
    check_quantity,
    check_ticks,
    check_trading_state,
)
from ordergate.domain.values import ZERO, OrderStatus, OrderType, Side, TradingState
from ordergate.engine.commands import CancelOrder, CloseAll, ClosePosition, ReplaceOrder
from ordergate.engine.context import DecisionContext
from ordergate.engine.dispatch import CancelRequest, ReplaceRequest
from ordergate.engine.guards import Action
from ordergate.engine.placement import create_closing_order, pre_trade_context


def find_order(ctx: DecisionContext, order_id: str) -> Order:
    order = ctx.state.orders.get(order_id)
    if order is None:
        raise NotFound(f"order {order_id} not found", code="ORDER_NOT_FOUND")
    return order


def cancel(ctx: DecisionContext, command: CancelOrder) -> Order:
    """Ask the venue to cancel. No gate stops a cancel; only its rate limit can."""
    order = find_order(ctx, command.order_id)
    if order.status is OrderStatus.PENDING_CANCEL:
        return order  # already asked; asking twice changes nothing
    refuse_unless(order, can_request_cancel(order.status))
    spend_rate(ctx, Action.CANCEL, order)
    request_cancel(ctx, order, command.reason)
    return order


def spend_rate(ctx: DecisionContext, action: Action, order: Order) -> None:
    """Spend a token of `action`'s buckets, or refuse the command (429) if one is empty."""
    now = ctx.now()
    where = (order.account, order.symbol, order.strategy)
    throttled = ctx.guards.throttled(action, *where, ctx.limits, now)
    if throttled is not None:
        what, wait = throttled
        raise RateLimited(f"too many {what}", retry_after=float(wait))
    ctx.guards.spend(action, *where, ctx.limits, now)


def request_cancel(ctx: DecisionContext, order: Order, reason: str | None) -> None:
    ctx.emit(OrderCancelRequested(order.order_id, reason, ctx.now()))
    ctx.send(CancelRequest(order.order_id, order.account, order.symbol, order.client_order_id))


def refuse_unless(order: Order, allowed: bool) -> None:
    """Refuse (409 with a reason code) a command the order's state does not allow."""
    if allowed:
        return
    if order.status.is_terminal:
        raise Conflict(
            f"order {order.order_id} is already {order.status}",
            code=ReasonCode.ORDER_ALREADY_TERMINAL,
        )
    if order.status is OrderStatus.UNKNOWN:
        raise Conflict(
            f"order {order.order_id} is UNKNOWN until the venue answers a query",
            code=ReasonCode.ORDER_STATE_UNKNOWN,
        )
    raise Conflict(
        f"order {order.order_id} cannot be changed while {order.status}",
        code=ReasonCode.ORDER_NOT_REPLACEABLE,
    )


def replace(ctx: DecisionContext, command: ReplaceOrder) -> Order:
    order = find_order(ctx, command.order_id)
    refuse_unless(order, can_request_replace(order.status))
    if command.price is not None and not order.type.needs_price:
        raise InvalidRequest(f"price is not used by {order.type} orders")
    if command.stop_price is not None and not order.type.needs_stop_price:
        raise InvalidRequest(f"stop_price is not used by {order.type} orders")
    qty = command.qty if command.qty is not None else order.qty
    price = command.price if command.price is not None else order.price
    stop_price = command.stop_price if command.stop_price is not None else order.stop_price
    if (qty, price, stop_price) == (order.qty, order.price, order.stop_price):
        raise InvalidRequest("replace changes nothing")
    if qty <= order.filled_qty:
        raise Conflict(
            f"qty {qty} is not above the filled {order.filled_qty}",
            code=ReasonCode.REPLACE_BELOW_FILLED,
        )
    check_replacement(ctx, order, qty, price, stop_price)
    spend_rate(ctx, Action.REPLACE, order)
    request_replace(ctx, order, qty, price, stop_price)
    return order


def request_replace(
    ctx: DecisionContext,
    order: Order,
    qty: Decimal,
    price: Decimal | None,
    stop_price: Decimal | None,
) -> None:
    ctx.emit(OrderReplaceRequested(order.order_id, qty, price, stop_price, ctx.now()))
    ctx.send(
        ReplaceRequest(
            order.order_id,
            order.account,
            order.symbol,
            order.client_order_id,
            qty,
            price,
            stop_price,
        )
    )


def check_replacement(
    ctx: DecisionContext,
    order: Order,
    qty: Decimal,
    price: Decimal | None,
    stop_price: Decimal | None,
) -> None:
    """Check the order as it would be after the replace; refuse (409) if it fails.

    While trading is HALTED nothing is replaced. While REDUCING, or while the instrument
    is dirty or its feed stale, a replace may move prices or shrink but not grow. The
    replacement is then checked like a new order for its grid, fat-finger band,
    notional, position and gross exposure (its own current remainder no longer counted)
    and margin (its own current reservation counted as free).
    """
    limits = ctx.limits.resolve(order.account, order.symbol, order.strategy)
    shadow = Order(
        OrderInitialized(
            order_id=order.order_id,
            client_order_id=order.client_order_id,
            account=order.account,
            symbol=order.symbol,
            side=order.side,
            type=order.type,
            qty=qty,
            price=price,
            stop_price=stop_price,
            time_in_force=order.time_in_force,
            reduce_only=order.reduce_only,
            stop_loss=None,
            take_profit=None,
            strategy=order.strategy,
            idempotency_key=None,
            request_hash=None,
            parent_order_id=order.parent_order_id,
            trace_id=order.trace_id,
            ts=order.updated_ts,
        )
    )
    shadow.filled_qty = order.filled_qty
    shadow.reference_price = order.reference_price
    context = pre_trade_context(ctx, shadow, limits)
    grows = qty > order.qty
    gate = check_trading_state(context)
    if gate is not None and (grows or context.trading_state is TradingState.HALTED):
        raise Conflict(gate.reason, code=gate.code)
    if grows:
        gate = check_dirty(context) or check_feed(context)
        if gate is not None:
            raise Conflict(gate.reason, code=gate.code)
    own_leaves = ZERO if order.reduce_only else order.qty - order.filled_qty
    freed = ZERO
    instrument = context.instrument
    current_price = order.reserve_price
    if instrument is not None and current_price is not None and not order.reduce_only:
        freed = instrument.initial_margin(order.qty - order.filled_qty, current_price)
    context = dataclasses.replace(
        context,
        open_same_side=context.open_same_side - own_leaves,
        free_margin=context.free_margin + freed,
    )
    for check in (
        check_quantity,
        check_ticks,
        check_fat_finger,
        check_notional,
        check_position_limit,
        check_gross_exposure,
        check_margin,
    ):
        denial = check(context)
        if denial is not None:
            raise Conflict(denial.reason, code=denial.code)


def close_position(ctx: DecisionContext, command: ClosePosition) -> Order:
    """Close what is not already being closed; a full close also retires its SL/TP orders.

    Closing market orders still in flight count against the position, so two quick
    calls never flip it. Resting reduce-only orders (brackets) are only canceled when
    the whole position is being closed.
    """
    state = ctx.state
    position_qty = state.book.qty(command.account, command.symbol)
    if position_qty == ZERO:
        raise Conflict(
            f"no {command.symbol} position in account {command.account}",
            code=ReasonCode.NO_POSITION,
        )
    closing_side = Side.SELL if position_qty > ZERO else Side.BUY
    reducing = [
        o
        for o in state.open_orders.values()
        if o.account == command.account
        and o.symbol == command.symbol
        and o.reduce_only
        and o.side is closing_side
    ]
    in_flight = sum((o.leaves_qty for o in reducing if o.type is OrderType.MARKET), ZERO)
    open_qty = abs(position_qty) - in_flight
    if open_qty <= ZERO:
        raise Conflict(
            f"the {command.symbol} position is already being closed",
            code=ReasonCode.POSITION_ALREADY_CLOSING,
        )
    qty = open_qty if command.qty is None else min(command.qty, open_qty)
    if qty == open_qty:
        for order in reducing:
            if order.type is not OrderType.MARKET and can_request_cancel(order.status):
                request_cancel(ctx, order, "position closed")
    return create_closing_order(
        ctx, command.account, command.symbol, position_qty, qty, command.strategy, command.trace_id
    )


def close_all(ctx: DecisionContext, command: CloseAll) -> tuple[list[Order], list[Order]]:
    """Cancel every open order, then flatten every position; return (canceled, closing)."""
    state = ctx.state
    ctx.emit(
        OperatorActed(
            command.account, "CLOSE_ALL", command.actor, command.reason or "close-all", ctx.now()
        )
    )
    canceled: list[Order] = []
    for order in list(state.open_orders.values()):
        if command.account is not None and order.account != command.account:
            continue
        if can_request_cancel(order.status):
            request_cancel(ctx, order, command.reason or "close-all")
            canceled.append(order)
    closing: list[Order] = []
    for position in sorted(state.book, key=lambda p: (p.account, p.symbol)):
        if position.qty == ZERO:
            continue
        if command.account is not None and position.account != command.account:
            continue
        closing.append(
            create_closing_order(
                ctx,
                position.account,
                position.symbol,
                position.qty,
                abs(position.qty),
                None,
                command.trace_id,
            )
        )
    return canceled, closing
