"""Target positions: a strategy says where each position should be, ordergate takes it there.

A target set is decided in one batch: for each symbol, the position and every open order
of the account in it give the worst case, the position if all of them filled. Orders are
sized so that the worst case never passes the target: an order still in flight, a cancel
not yet confirmed, another strategy's resting order, each counts as if it will fill. So
whatever the order in which fills and acknowledgements arrive, no position passes its
target because of what a target placed.

- The strategy's own open orders that no longer fit are reduced (a resting limit is
  replaced down) or cancelled: orders on the wrong side of the target, and the excess of
  those toward it. Other strategies' orders are counted, never touched.
- The gap is rounded down to the instrument's step; what is left below the step or the
  minimum quantity is reported, not ordered.
- Gates are asked first: under HALT, or while the position is in doubt (dirty), a step
  places nothing and says why; under REDUCING only a step that reduces the position
  toward zero goes, reduce-only. Every order placed goes through the whole pre-trade
  path, and a denial is reported on the step: the target is not retried in a loop. A
  set is worked once, when it is set; sending it again with a new key works the gap
  again.
- The set (`TargetsSet`) is journaled after the orders its steps placed; sent again with
  the same key it is answered from that record.
"""

from __future__ import annotations

from decimal import Decimal

from ordergate.domain.errors import Conflict, IdempotencyConflict
from ordergate.domain.events import TargetsSet, TargetStep
from ordergate.domain.orders import Order, can_request_cancel, can_request_replace
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import ZERO, OrderType, Side, TradingState
from ordergate.engine.amendments import check_replacement, request_cancel, request_replace
from ordergate.engine.commands import PlaceOrder, SetTargets
from ordergate.engine.context import DecisionContext
from ordergate.engine.placement import create_order

NO_ORDER_NEEDED = "target met: the position and the working orders reach it"


def set_targets(ctx: DecisionContext, command: SetTargets) -> tuple[TargetsSet, bool]:
    """Work the targets; return (the journaled set, whether it was new)."""
    fingerprint = command.fingerprint()
    set_id = command.idempotency_key or f"targets-{ctx.state.event_count + 1}"
    known = ctx.state.target_sets.get((command.account, set_id))
    if known is not None:
        if known.fingerprint != fingerprint:
            raise IdempotencyConflict(f"target set key {set_id!r} was used for other targets")
        return known, False
    for symbol, _ in command.targets:  # refused before anything is emitted
        taken = ctx.state.by_idempotency_key.get((command.account, order_key(set_id, symbol)))
        if taken is not None:
            raise IdempotencyConflict(
                f"order key {order_key(set_id, symbol)!r} of target set {set_id!r} names "
                f"order {taken.order_id}, placed otherwise"
            )
    steps = tuple(_step(ctx, command, set_id, symbol, target) for symbol, target in command.targets)
    event = TargetsSet(
        set_id=set_id,
        fingerprint=fingerprint,
        account=command.account,
        strategy=command.strategy,
        order_type=command.order_type,
        steps=steps,
        trace_id=command.trace_id,
        ts=ctx.now(),
    )
    ctx.emit(event)
    return event, True


def _step(
    ctx: DecisionContext, command: SetTargets, set_id: str, symbol: str, target: Decimal
) -> TargetStep:
    state = ctx.state
    account = command.account
    position = state.book.qty(account, symbol)
    working = [o for o in state.open_orders.values() if o.account == account and o.symbol == symbol]
    buying = sum((o.leaves_qty for o in working if o.side is Side.BUY), ZERO)
    selling = sum((o.leaves_qty for o in working if o.side is Side.SELL), ZERO)
    seen = _Seen(symbol, target, position, buying, selling)
    instrument = state.instruments.get(symbol)
    if instrument is None:
        return seen.held(ReasonCode.SYMBOL_NOT_ALLOWED, f"{symbol} is not an instrument here")
    dirty = state.dirty_mark(account, symbol)
    if dirty is not None:
        return seen.held(
            ReasonCode.INSTRUMENT_DIRTY,
            f"the {symbol} position is in doubt ({dirty.cause}: {dirty.detail}): no target "
            "is worked until reconciliation agrees",
        )
    own = [o for o in working if o.strategy == command.strategy]
    # Own orders that no longer fit: the wrong side, and what overshoots the target.
    canceled: list[str] = []
    reduced: list[tuple[str, Decimal]] = []
    buy_excess = position + buying - max(target, position)
    sell_excess = min(target, position) - (position - selling)
    for side, excess in ((Side.BUY, buy_excess), (Side.SELL, sell_excess)):
        if excess > ZERO:
            mine = [o for o in own if o.side is side and not o.cancel_requested]
            _trim(ctx, mine, excess, canceled, reduced)
    seen = seen.with_trims(tuple(canceled), tuple(reduced))
    gap = target - (position + buying) if target > position else target - (position - selling)
    if (target > position and gap <= ZERO) or (target < position and gap >= ZERO):
        return seen.held(None, NO_ORDER_NEEDED)
    if target == position:
        return seen.held(None, NO_ORDER_NEEDED)
    side = Side.BUY if gap > ZERO else Side.SELL
    qty = instrument.round_qty_down(abs(gap))
    remainder = abs(gap) - qty
    if qty <= ZERO or qty < instrument.min_qty:
        return seen.held(
            ReasonCode.QTY_BELOW_MIN,
            f"the gap {abs(gap)} is below the step {instrument.lot_step} or the minimum "
            f"{instrument.min_qty}: left",
            remainder=abs(gap),
        )
    gate = state.trading_state(account, symbol)
    reducing = position != ZERO and side is not _side_of(position) and qty <= abs(position)
    if gate is not None and gate.state is TradingState.HALTED:
        return seen.held(
            ReasonCode.TRADING_HALTED,
            f"trading is halted ({gate.reason}): targets place nothing",
            remainder=remainder,
        )
    if gate is not None and gate.state is TradingState.REDUCING and not reducing:
        return seen.held(
            ReasonCode.TRADING_REDUCING,
            f"trading is reducing ({gate.reason}): only a step toward flat is placed",
            remainder=remainder,
        )
    order = create_order(
        ctx,
        PlaceOrder(
            account=account,
            symbol=symbol,
            side=side,
            qty=qty,
            type=command.order_type,
            price_at_offset=command.order_type is OrderType.LIMIT,
            reduce_only=reducing and gate is not None and gate.state is TradingState.REDUCING,
            idempotency_key=order_key(set_id, symbol),
            strategy=command.strategy,
            trace_id=command.trace_id,
        ),
    )
    return seen.placed(order, remainder)


def order_key(set_id: str, symbol: str) -> str:
    """The idempotency key of the order a target set places for a symbol."""
    return f"tgt:{set_id}:{symbol}"


def _side_of(position: Decimal) -> Side:
    return Side.BUY if position > ZERO else Side.SELL


def _trim(
    ctx: DecisionContext,
    orders: list[Order],
    excess: Decimal,
    canceled: list[str],
    reduced: list[tuple[str, Decimal]],
) -> None:
    """Take `excess` off these orders, newest first: replace a resting limit down when
    only part of it goes, cancel the rest. An order whose state allows neither is left
    (it still counts on the worst case, so nothing is placed beside it)."""
    left = excess
    for order in reversed(orders):
        if left <= ZERO:
            return
        leaves = order.leaves_qty
        if leaves > left and _replace_down(ctx, order, order.qty - left):
            reduced.append((order.order_id, order.qty - left))
            return
        if can_request_cancel(order.status):
            request_cancel(ctx, order, "target: no longer fits")
            canceled.append(order.order_id)
            left -= leaves


def _replace_down(ctx: DecisionContext, order: Order, qty: Decimal) -> bool:
    if order.type is OrderType.MARKET or not can_request_replace(order.status):
        return False
    instrument = ctx.state.instruments.get(order.symbol)
    if instrument is None or not instrument.is_on_step(qty) or qty <= order.filled_qty:
        return False
    try:
        check_replacement(ctx, order, qty, order.price, order.stop_price)
    except Conflict:
        return False
    request_replace(ctx, order, qty, order.price, order.stop_price)
    return True


class _Seen:
    """The figures a step was sized from, and what it did to the strategy's orders."""

    def __init__(
        self,
        symbol: str,
        target: Decimal,
        position: Decimal,
        buying: Decimal,
        selling: Decimal,
        canceled: tuple[str, ...] = (),
        reduced: tuple[tuple[str, Decimal], ...] = (),
    ) -> None:
        self.symbol, self.target, self.position = symbol, target, position
        self.buying, self.selling = buying, selling
        self.canceled, self.reduced = canceled, reduced

    def with_trims(
        self, canceled: tuple[str, ...], reduced: tuple[tuple[str, Decimal], ...]
    ) -> _Seen:
        return _Seen(
            self.symbol, self.target, self.position, self.buying, self.selling, canceled, reduced
        )

    def held(
        self, reason_code: str | None, detail: str, *, remainder: Decimal = ZERO
    ) -> TargetStep:
        return self._step(None, None, ZERO, remainder, reason_code, detail)

    def placed(self, order: Order, remainder: Decimal) -> TargetStep:
        detail = f"{order.side} {order.qty} placed toward the target"
        return self._step(
            order.order_id,
            order.side,
            order.qty,
            remainder,
            order.reason_code,  # a denial, if pre-trade risk denied it
            order.reason or detail,
        )

    def _step(
        self,
        order_id: str | None,
        side: Side | None,
        qty: Decimal,
        remainder: Decimal,
        reason_code: str | None,
        detail: str,
    ) -> TargetStep:
        return TargetStep(
            symbol=self.symbol,
            target=self.target,
            position=self.position,
            working_buy=self.buying,
            working_sell=self.selling,
            order_id=order_id,
            side=side,
            qty=qty,
            remainder=remainder,
            canceled=self.canceled,
            reduced=self.reduced,
            reason_code=reason_code,
            detail=detail,
        )
