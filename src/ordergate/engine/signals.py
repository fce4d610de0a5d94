"""Trading signals in the engine: one signal, one batch, journaled before anything is sent.

`process_signal` runs inside a writer batch. A signal already journaled is answered from
its `SignalReceived` (a redelivery places nothing); the same id with other content is an
`IdempotencyConflict`. Otherwise the policy (`domain.signal_policy.decide`) chooses the
orders; the signal is journaled with that decision, the strategy's orders the decision
selects are cancelled, and each order goes through the ordinary placement path, risk
checks included. A dry-run signal journals the orders it would place, each with every
reason risk would deny it, and sends nothing.

Cancels a signal asks for are not throttled: they only take risk off.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import msgspec

from ordergate.domain.errors import IdempotencyConflict
from ordergate.domain.events import PlannedOrder, SignalReceived
from ordergate.domain.orders import Order, can_request_cancel
from ordergate.domain.signal_model import SignalReason, TradingSignal
from ordergate.domain.signal_policy import (
    OpenOrderRef,
    SignalDecision,
    SignalPolicy,
    decide,
    order_key,
    orders_to_cancel,
    stale_orders,
)
from ordergate.engine.amendments import request_cancel
from ordergate.engine.commands import PlaceOrder
from ordergate.engine.context import DecisionContext
from ordergate.engine.placement import place, preview


@dataclass(frozen=True, slots=True)
class SignalOutcome:
    """What became of a signal: its journaled record and the orders placed for it."""

    received: SignalReceived
    orders: tuple[Order, ...]
    duplicate: bool


def fingerprint(signal: TradingSignal) -> str:
    """Identify a signal's content, so a reused id with another body can be told apart."""
    return hashlib.blake2b(msgspec.json.encode(signal), digest_size=16).hexdigest()


def check_redelivery(known: SignalReceived, signal: TradingSignal) -> None:
    """A signal id taken before names that signal: another body under it is a conflict."""
    if known.fingerprint != fingerprint(signal):
        raise IdempotencyConflict(f"signal id {signal.signal_id!r} was used for a different signal")


def process_signal(
    ctx: DecisionContext, signal: TradingSignal, policy: SignalPolicy
) -> SignalOutcome:
    known = ctx.state.signals.get(signal.signal_id)
    if known is not None:
        check_redelivery(known, signal)
        return SignalOutcome(known, _orders_of(ctx, known), duplicate=True)
    instrument = ctx.state.instruments.get(signal.symbol)
    if instrument is None:
        received = _received(
            ctx, signal, policy, None, reason_code=SignalReason.SIGNAL_UNKNOWN_SYMBOL.value
        )
        ctx.emit(received)
        return SignalOutcome(received, (), duplicate=False)
    limits = ctx.limits.resolve(signal.account, signal.symbol, signal.strategy)
    decision = decide(signal, ctx.market_data.quote(signal.symbol), instrument, limits, policy)
    commands = [
        PlaceOrder(**msgspec.structs.asdict(intent), signal_id=signal.signal_id)
        for intent in decision.orders
    ]
    for command in commands:  # refused before anything is emitted: the batch stays clean
        assert command.idempotency_key is not None  # every signal order has one
        taken = ctx.state.by_idempotency_key.get((command.account, command.idempotency_key))
        if taken is not None:
            raise IdempotencyConflict(
                f"order key {command.idempotency_key!r} of signal {signal.signal_id!r} names "
                f"order {taken.order_id}, placed otherwise"
            )
    if decision.dry_run:
        planned = tuple(_planned(ctx, command) for command in commands)
        received = _received(ctx, signal, policy, decision, planned=planned)
        ctx.emit(received)
        return SignalOutcome(received, (), duplicate=False)
    canceled: tuple[str, ...] = ()
    if not decision.refused:
        canceled = orders_to_cancel(decision.cancel, _open_refs(ctx))
    received = _received(ctx, signal, policy, decision, canceled=canceled)
    ctx.emit(received)
    for order_id in canceled:
        request_cancel(ctx, ctx.state.orders[order_id], f"replaced by signal {signal.signal_id}")
    placed = tuple(place(ctx, command)[0] for command in commands)
    return SignalOutcome(received, placed, duplicate=False)


def cancel_stale_orders(ctx: DecisionContext, policy: SignalPolicy) -> list[Order]:
    """Cancel the signal orders still open `cancel_stale_order_timeout` after placing."""
    refs = [r for r in _open_refs(ctx) if ctx.state.orders[r.order_id].signal_id is not None]
    stale = [ctx.state.orders[order_id] for order_id in stale_orders(refs, ctx.now(), policy)]
    for order in stale:
        request_cancel(ctx, order, "stale: no fill within cancel_stale_order_timeout")
    return stale


def _open_refs(ctx: DecisionContext) -> list[OpenOrderRef]:
    """Open orders a cancel can be asked for now, oldest first."""
    return [
        OpenOrderRef(
            order_id=o.order_id,
            account=o.account,
            symbol=o.symbol,
            side=o.side,
            created_ts=o.created_ts,
            idempotency_key=o.idempotency_key,
            strategy=o.strategy,
        )
        for o in ctx.state.open_orders.values()
        if can_request_cancel(o.status) and not o.cancel_requested
    ]


def order_keys(received: SignalReceived) -> list[str]:
    """The idempotency keys the signal's orders were placed under (if it placed any)."""
    if received.parts <= 1:
        return [order_key(received.signal_id)]
    return [order_key(received.signal_id, part) for part in range(1, received.parts + 1)]


def _orders_of(ctx: DecisionContext, received: SignalReceived) -> tuple[Order, ...]:
    return tuple(
        order
        for order in ctx.state.orders.values()
        if order.signal_id == received.signal_id and order.account == received.account
    )


def _planned(ctx: DecisionContext, command: PlaceOrder) -> PlannedOrder:
    verdict = preview(ctx, command)
    assert command.idempotency_key is not None
    return PlannedOrder(
        side=command.side,
        type=command.type,
        qty=command.qty,
        price=command.price,
        price_at_offset=command.price_at_offset,
        idempotency_key=command.idempotency_key,
        denials=tuple(d.code for d in verdict.denials),
    )


def _received(
    ctx: DecisionContext,
    signal: TradingSignal,
    policy: SignalPolicy,
    decision: SignalDecision | None,
    *,
    reason_code: str | None = None,
    canceled: tuple[str, ...] = (),
    planned: tuple[PlannedOrder, ...] = (),
) -> SignalReceived:
    inputs = None if decision is None else decision.inputs
    if decision is not None and decision.reason is not None:
        reason_code = decision.reason.value
    detail = f"no instrument {signal.symbol} here" if decision is None else decision.message
    return SignalReceived(
        signal_id=signal.signal_id,
        fingerprint=fingerprint(signal),
        account=signal.account,
        symbol=signal.symbol,
        strategy=signal.strategy,
        side=signal.side,
        confidence=signal.confidence,
        qty=signal.qty,
        notional=signal.notional,
        price_hint=signal.price,
        trace_id=signal.trace_id,
        signal_ts=signal.timestamp,
        dry_run=policy.dry_run,
        reason_code=reason_code,
        detail=detail,
        order_type=None if inputs is None else inputs.order_type,
        pricing=None if inputs is None or inputs.pricing is None else inputs.pricing.value,
        reference_price=None if inputs is None else inputs.reference_price,
        spread_pct=None if inputs is None else inputs.spread_pct,
        parts=0 if inputs is None else inputs.parts,
        canceled_order_ids=canceled,
        planned=planned,
        ts=ctx.now(),
    )
