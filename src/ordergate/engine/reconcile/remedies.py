"""What to do about the differences, applied by the writer: ADOPT, HALT or ALERT.

ADOPT journals the venue's facts (an external order, a fill) or asks the venue what
became of an order; HALT stops the instrument trading; ALERT raises an event for an
operator. A position is never copied from the venue: it is the sum of fills, so a
position mismatch can only halt or alert. When an account's reconciliation finds nothing
left to resolve, its dirty marks clear.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

import msgspec

from ordergate.domain.events import (
    AlertRaised,
    InstrumentCleared,
    OrderAccepted,
    OrderInitialized,
    ReconciliationRecorded,
    TradingStateChanged,
)
from ordergate.domain.orders import Order
from ordergate.domain.values import ZERO, DirtyCause, OrderType, Side, TimeInForce, TradingState
from ordergate.engine.context import DecisionContext
from ordergate.engine.control import mark_dirty
from ordergate.engine.dispatch import CancelRequest, QueryRequest
from ordergate.engine.reconcile.diffs import (
    Diff,
    DiffKind,
    ReconciliationReport,
    Scope,
    VenueSnapshot,
    find_diffs,
)
from ordergate.engine.state import OmsState
from ordergate.engine.venue_reports import VenueFill, VenueOrderReport


class Remedy(StrEnum):
    ADOPT = "ADOPT"
    HALT = "HALT"
    ALERT = "ALERT"


class ReconcilePolicy(msgspec.Struct, frozen=True):
    """What to do about each kind of difference (positions cannot be adopted)."""

    order_missing: Remedy = Remedy.ADOPT
    order_unknown: Remedy = Remedy.ADOPT
    order_mismatch: Remedy = Remedy.ADOPT
    fill_missing: Remedy = Remedy.ADOPT
    position_mismatch: Remedy = Remedy.HALT

    def __post_init__(self) -> None:
        if self.position_mismatch is Remedy.ADOPT:
            raise ValueError("a position is the sum of fills: it cannot be adopted")

    def for_kind(self, kind: DiffKind) -> Remedy:
        remedy: Remedy = getattr(self, kind.value.lower())
        return remedy


# --- remedies, applied by the writer -------------------------------------------------------


FillAdopter = Callable[[VenueFill], None]


@dataclass(slots=True)
class ReconcileMemory:
    """What one reconciliation leaves for the next (in memory: a restart starts afresh).

    `suspected`: (account, symbol) whose position mismatch was seen once; `alerted`:
    (account, difference) already alerted, not repeated while it lasts.
    """

    suspected: set[tuple[str, str]] = field(default_factory=set)
    alerted: set[tuple[str, str]] = field(default_factory=set)


def remedy(
    ctx: DecisionContext,
    snapshot: VenueSnapshot,
    scope: Scope,
    policy: ReconcilePolicy,
    adopt_fill: FillAdopter,
    memory: ReconcileMemory,
) -> ReconciliationReport:
    """Find the differences and apply the policy; clear the account's doubts if none remain.

    A position mismatch seen for the first time is only suspected: a fill can land
    between the calls that make up a snapshot. The symbol goes dirty and the account is
    reconciled again at once; the policy (HALT or ALERT) applies if the mismatch is
    still there. HALT and ALERT are not repeated while the same difference lasts. Only a
    reconciliation of everything (scope ALL) can clear an account's doubts.
    """
    account = snapshot.account
    state = ctx.state
    diffs = find_diffs(state, snapshot, scope)
    actions: list[str] = []
    unresolved: set[str] = set()
    reports = {r.client_order_id: r for r in snapshot.open_orders}
    suspected = memory.suspected
    mismatched = {d.symbol for d in diffs if d.kind is DiffKind.POSITION_MISMATCH}
    for diff in diffs:
        choice = policy.for_kind(diff.kind)
        if diff.kind is DiffKind.POSITION_MISMATCH and (account, diff.symbol) not in suspected:
            unresolved.add(diff.symbol)
            ctx.batch.reconcile.add(account)  # look again before acting
            actions.append(f"suspect {diff.line()}; reconciling again")
            continue
        if choice is Remedy.ADOPT:
            actions.append(_adopt(ctx, account, diff, reports, snapshot.fills, adopt_fill))
            booked = diff.kind is not DiffKind.FILL_MISSING or _booked(state, account, diff)
            if not booked or diff.kind in (DiffKind.ORDER_MISSING, DiffKind.ORDER_MISMATCH):
                unresolved.add(diff.symbol)  # a query's answer, or a fill that did not book
            continue
        unresolved.add(diff.symbol)
        if choice is Remedy.HALT:
            halted = state.trading_states.get((account, diff.symbol))
            if halted is None or halted.state is not TradingState.HALTED:
                ctx.emit(
                    TradingStateChanged(
                        account,
                        diff.symbol,
                        TradingState.HALTED,
                        f"reconciliation: {diff.line()}",
                        "reconciler",
                        ctx.now(),
                    )
                )
                actions.append(f"halted {account}/{diff.symbol}")
        elif (account, diff.line()) not in memory.alerted:
            memory.alerted.add((account, diff.line()))
            ctx.emit(AlertRaised("RECONCILIATION", account, diff.symbol, diff.line(), ctx.now()))
            actions.append(f"alerted {diff.line()}")
    suspected.difference_update({key for key in suspected if key[0] == account})
    suspected.update((account, symbol) for symbol in mismatched)
    lines = {d.line() for d in diffs}
    memory.alerted.difference_update(
        {key for key in memory.alerted if key[0] == account and key[1] not in lines}
    )
    for symbol in sorted(unresolved):
        mark_dirty(ctx, account, symbol, DirtyCause.RECONCILIATION_MISMATCH, "see reconciliation")
    agreed = not unresolved
    if agreed and scope is Scope.ALL and any(key[0] == account for key in state.dirty):
        ctx.emit(InstrumentCleared(account, None, "reconciliation agreed", ctx.now()))
        actions.append(f"cleared {account}")
    ctx.emit(
        ReconciliationRecorded(account, scope.value, tuple(d.line() for d in diffs), ctx.now())
    )
    return ReconciliationReport(account, scope, diffs, actions, agreed)


def _booked(state: OmsState, account: str, diff: Diff) -> bool:
    order = state.by_client_id.get(diff.client_order_id or "")
    return (
        order is not None
        and diff.trade_id is not None
        and state.book.has_fill(account, order.order_id, diff.trade_id)
    )


def _adopt(
    ctx: DecisionContext,
    account: str,
    diff: Diff,
    reports: dict[str, VenueOrderReport],
    fills: list[VenueFill],
    adopt_fill: FillAdopter,
) -> str:
    coid = diff.client_order_id
    assert coid is not None
    state = ctx.state
    if diff.kind is DiffKind.ORDER_UNKNOWN:
        _adopt_order(ctx, reports[coid])
        return f"adopted external order {coid}"
    if diff.kind is DiffKind.FILL_MISSING:
        if coid not in state.by_client_id:
            _adopt_fill_order(ctx, account, coid, [f for f in fills if f.client_order_id == coid])
        fill = next(f for f in fills if f.client_order_id == coid and f.trade_id == diff.trade_id)
        adopt_fill(fill)
        return f"adopted fill {fill.trade_id} of {coid}"
    order = state.by_client_id[coid]
    if order.status.is_terminal:
        # Done here, open there: a stray order that must not trade. Cancel it at the venue.
        ctx.send(CancelRequest(order.order_id, order.account, order.symbol, coid))
        return f"canceled stray order {order.order_id} at the venue"
    ctx.send(QueryRequest(order.order_id, order.account, order.symbol, order.client_order_id))
    return f"asked the venue about order {order.order_id}"


def _adopt_order(ctx: DecisionContext, report: VenueOrderReport) -> Order:
    """Journal an order ordergate did not place, as the venue reports it."""
    order = _initialize_external(
        ctx,
        report.account,
        report.client_order_id,
        report.symbol,
        report.side,
        report.type,
        report.qty,
        report.price,
        report.stop_price,
    )
    ctx.emit(OrderAccepted(order.order_id, report.venue_order_id, ctx.now()))
    return order


def _adopt_fill_order(
    ctx: DecisionContext, account: str, client_order_id: str, fills: list[VenueFill]
) -> Order:
    """An external order to hang fills on that came with no order ordergate knows."""
    first = fills[0]
    qty = sum((f.qty for f in fills), ZERO)
    order = _initialize_external(
        ctx, account, client_order_id, first.symbol, first.side, OrderType.MARKET, qty, None, None
    )
    ctx.emit(OrderAccepted(order.order_id, None, ctx.now()))
    return order


def _initialize_external(
    ctx: DecisionContext,
    account: str,
    client_order_id: str,
    symbol: str,
    side: Side,
    order_type: OrderType,
    qty: Decimal,
    price: Decimal | None,
    stop_price: Decimal | None,
) -> Order:
    state = ctx.state
    order_id = state.next_order_id()
    ctx.emit(
        OrderInitialized(
            order_id=order_id,
            client_order_id=client_order_id,
            account=account,
            symbol=symbol,
            side=side,
            type=order_type,
            qty=qty,
            price=price,
            stop_price=stop_price,
            time_in_force=TimeInForce.GTC,
            reduce_only=False,
            stop_loss=None,
            take_profit=None,
            strategy=None,
            idempotency_key=None,
            request_hash=None,
            parent_order_id=None,
            trace_id=None,
            ts=ctx.now(),
            external=True,
        )
    )
    # An adopted order skips pre-trade risk: it exists at the venue already.
    return state.orders[order_id]
