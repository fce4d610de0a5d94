"""Retention: which finished orders leave the engine's hot state, and when.

An order that is finished (terminal, nothing more due from the venue) changes only if the
venue or a client names it again, which gets rarer by the hour. Holding every such order
made the engine's memory, start-up and takeover grow with everything ever traded. So the
engine retires finished orders beyond a count or an age, whichever comes first, with one
journaled `FinishedOrdersRetired` per sweep; the fold then drops them and the stores keep
them (`docs/decisions/0017-retention.md`). Trading signals leave the same way, each with
the last of its orders, so a signal-driven node does not grow with every signal taken.

The journal stays the whole truth: an order named again is recalled from the
retired-orders store (`RetiredOrderRecalled`) before anything is decided about it, so a
late fill or an old idempotency key meets the order as it was; a redelivered signal is
answered from the retired-signals store.
"""

from __future__ import annotations

from dataclasses import dataclass

from ordergate.domain.events import FinishedOrdersRetired
from ordergate.engine.context import DecisionContext
from ordergate.engine.state import OmsState

NS_PER_SECOND = 1_000_000_000


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Keep a finished order hot while it finished less than `max_age_seconds` ago and is
    among the last `max_finished`; retire at most `sweep_limit` per event."""

    max_age_seconds: float = 3600.0
    max_finished: int = 10_000
    sweep_limit: int = 4096

    def __post_init__(self) -> None:
        if self.max_age_seconds < 0 or self.max_finished < 0 or self.sweep_limit < 1:
            raise ValueError(f"retention policy out of range: {self}")

    def due(self, finished: int) -> bool:
        """Over the count by a whole sweep: retire now, not at the next watch tick."""
        return finished >= self.max_finished + self.sweep_limit


def retire_finished(ctx: DecisionContext, policy: RetentionPolicy) -> int:
    """Retire the finished orders the policy no longer keeps; return how many.

    Oldest finished first. An order with a parent still held goes with its parent; a
    parent waits while any of its children is not finished, and then takes them along.
    """
    state = ctx.state
    now = ctx.now()
    horizon = now - int(policy.max_age_seconds * NS_PER_SECOND)
    excess = len(state.finished) - policy.max_finished
    chosen: list[str] = []
    for order_id, finished_ts in state.finished.items():
        if excess <= 0 and finished_ts > horizon:
            break
        order = state.orders[order_id]
        if order.parent_order_id is not None and order.parent_order_id in state.orders:
            continue
        children = [state.orders[c] for c in state.children.get(order_id, ()) if c in state.orders]
        if not all(child.finished for child in children):
            continue
        chosen.append(order_id)
        chosen.extend(child.order_id for child in children)
        excess -= 1 + len(children)
        if len(chosen) >= policy.sweep_limit:
            break
    signal_ids = _signals_to_retire(state, chosen, horizon, policy)
    if chosen or signal_ids:
        ctx.emit(FinishedOrdersRetired(tuple(chosen), now, signal_ids))
    return len(chosen)


def _signals_to_retire(
    state: OmsState, retiring: list[str], horizon: int, policy: RetentionPolicy
) -> tuple[str, ...]:
    """The signals that leave with this sweep: beyond the count or the age (as finished
    orders), and holding no order once `retiring` have left. Oldest first."""
    leaving: dict[str, int] = {}
    for order_id in retiring:
        signal_id = state.orders[order_id].signal_id
        if signal_id is not None:
            leaving[signal_id] = leaving.get(signal_id, 0) + 1
    excess = len(state.signals) - policy.max_finished
    chosen: list[str] = []
    for signal_id, received in state.signals.items():
        if excess <= 0 and received.ts > horizon:
            break
        if state.signal_orders(signal_id) > leaving.get(signal_id, 0):
            continue  # an order of it stays: the signal stays with it
        chosen.append(signal_id)
        excess -= 1
        if len(chosen) >= policy.sweep_limit:
            break
    return tuple(chosen)
