"""Reconciliation: compare ordergate's truth with the venue's snapshots, and act on it.

`find_diffs` is pure: the state and one account's snapshot (open orders, recent fills,
positions) in, the differences out:

- ORDER_MISSING    working here, not open at the venue (filled or canceled unseen?)
- ORDER_UNKNOWN    open at the venue, never placed through ordergate
- ORDER_MISMATCH   on both sides, but quantity or prices differ
- FILL_MISSING     executed at the venue, not journaled here
- POSITION_MISMATCH  the position differs even once the missing fills are counted

`remedy` then applies a policy per kind, in the writer: ADOPT (journal the venue's
facts: an external order, a fill; or ask the venue what became of an order), HALT (the
instrument stops trading) or ALERT (an event for an operator). A position is never copied
from the venue: it is the sum of fills, so a position mismatch can only halt or alert.
When an account's reconciliation finds nothing left to resolve, its dirty marks clear.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

import msgspec
import structlog

from ordergate.domain.events import (
    AlertRaised,
    InstrumentCleared,
    OrderAccepted,
    OrderInitialized,
    ReconciliationRecorded,
    TradingStateChanged,
)
from ordergate.domain.orders import Order
from ordergate.domain.values import (
    ZERO,
    DirtyCause,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TradingState,
)
from ordergate.engine.context import DecisionContext
from ordergate.engine.control import mark_dirty
from ordergate.engine.dispatch import CancelRequest, QueryRequest
from ordergate.engine.ports import Venue
from ordergate.engine.state import OmsState
from ordergate.engine.venue_reports import VenueFill, VenueOrderReport, VenuePosition

log = structlog.get_logger("ordergate.reconcile")

# Orders whose venue state we expect to see in the open-orders snapshot. Orders still in
# flight (PENDING_SUBMIT, SUBMITTED, UNKNOWN) are settled by queries, not by snapshots.
SETTLED_OPEN = frozenset(
    {
        OrderStatus.ACCEPTED,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.PENDING_REPLACE,
    }
)


class DiffKind(StrEnum):
    ORDER_MISSING = "ORDER_MISSING"
    ORDER_UNKNOWN = "ORDER_UNKNOWN"
    ORDER_MISMATCH = "ORDER_MISMATCH"
    FILL_MISSING = "FILL_MISSING"
    POSITION_MISMATCH = "POSITION_MISMATCH"


class Remedy(StrEnum):
    ADOPT = "ADOPT"
    HALT = "HALT"
    ALERT = "ALERT"


class Scope(StrEnum):
    ORDERS = "orders"
    POSITIONS = "positions"
    ALL = "all"


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


class VenueSnapshot(msgspec.Struct, frozen=True):
    account: str
    open_orders: list[VenueOrderReport]
    fills: list[VenueFill]
    positions: list[VenuePosition]


class Diff(msgspec.Struct, frozen=True):
    kind: DiffKind
    symbol: str
    detail: str
    client_order_id: str | None = None
    ours: str | None = None
    venue: str | None = None
    trade_id: str | None = None

    def line(self) -> str:
        return f"{self.kind} {self.symbol}: {self.detail}"


class ReconciliationReport(msgspec.Struct, frozen=True):
    account: str
    scope: Scope
    diffs: list[Diff]
    actions: list[str]
    agreed: bool


def find_diffs(state: OmsState, snapshot: VenueSnapshot, scope: Scope) -> list[Diff]:
    account = snapshot.account
    diffs: list[Diff] = []
    if scope in (Scope.ORDERS, Scope.ALL):
        reports = [r for r in snapshot.open_orders if r.account == account]
        diffs += _order_diffs(state, account, reports)
    if scope in (Scope.POSITIONS, Scope.ALL):
        fills = [f for f in snapshot.fills if f.account == account]
        missing = [f for f in fills if not _journaled(state, account, f)]
        diffs += [
            Diff(
                DiffKind.FILL_MISSING,
                f.symbol,
                f"trade {f.trade_id}: {f.side} {f.qty} @ {f.price} (order {f.client_order_id})",
                f.client_order_id,
                None,
                str(f.qty),
                f.trade_id,
            )
            for f in missing
        ]
        diffs += _position_diffs(state, account, snapshot.positions, missing)
    return diffs


def _journaled(state: OmsState, account: str, fill: VenueFill) -> bool:
    order = state.by_client_id.get(fill.client_order_id)
    return order is not None and state.book.has_fill(account, order.order_id, fill.trade_id)


def _order_diffs(state: OmsState, account: str, reports: list[VenueOrderReport]) -> list[Diff]:
    diffs: list[Diff] = []
    at_venue = {r.client_order_id: r for r in reports}
    for order in state.open_orders.values():
        if order.account != account or order.status not in SETTLED_OPEN:
            continue
        if order.client_order_id not in at_venue:
            diffs.append(
                Diff(
                    DiffKind.ORDER_MISSING,
                    order.symbol,
                    f"order {order.order_id} is {order.status} here, not open at the venue",
                    order.client_order_id,
                    str(order.status),
                    None,
                )
            )
    for report in reports:
        known = state.by_client_id.get(report.client_order_id)
        if known is None:
            diffs.append(
                Diff(
                    DiffKind.ORDER_UNKNOWN,
                    report.symbol,
                    f"{report.side} {report.qty} {report.type} open at the venue, unknown here",
                    report.client_order_id,
                    None,
                    str(report.status),
                )
            )
        elif known.status in SETTLED_OPEN:
            here = (known.qty, known.price, known.stop_price)
            there = (report.qty, report.price, report.stop_price)
            if here != there:  # compared as numbers: 1 and 1.000 agree
                ours, theirs = _terms(*here), _terms(*there)
                diffs.append(
                    Diff(
                        DiffKind.ORDER_MISMATCH,
                        report.symbol,
                        f"order {known.order_id}: {ours} here, {theirs} at the venue",
                        report.client_order_id,
                        ours,
                        theirs,
                    )
                )
        elif known.status.is_terminal:
            diffs.append(
                Diff(
                    DiffKind.ORDER_MISMATCH,
                    report.symbol,
                    f"order {known.order_id} is {known.status} here but open at the venue",
                    report.client_order_id,
                    str(known.status),
                    str(report.status),
                )
            )
    return diffs


def _terms(qty: Decimal, price: Decimal | None, stop_price: Decimal | None) -> str:
    parts = [f"qty {qty}"]
    if price is not None:
        parts.append(f"price {price}")
    if stop_price is not None:
        parts.append(f"stop {stop_price}")
    return " ".join(parts)


def _position_diffs(
    state: OmsState,
    account: str,
    positions: list[VenuePosition],
    missing_fills: list[VenueFill],
) -> list[Diff]:
    ours: dict[str, Decimal] = {
        p.symbol: p.qty for p in state.book.of_account(account) if p.qty != ZERO
    }
    for fill in missing_fills:  # as if adopted: what remains is a true mismatch
        ours[fill.symbol] = ours.get(fill.symbol, ZERO) + fill.side.sign * fill.qty
    theirs = {p.symbol: p.qty for p in positions if p.account == account and p.qty != ZERO}
    diffs = []
    for symbol in sorted(set(ours) | set(theirs)):
        here, there = ours.get(symbol, ZERO), theirs.get(symbol, ZERO)
        if here != there:
            diffs.append(
                Diff(
                    DiffKind.POSITION_MISMATCH,
                    symbol,
                    f"position is {here} here (fills included), {there} at the venue",
                    None,
                    str(here),
                    str(there),
                )
            )
    return diffs


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


# --- the reconciler: snapshots from the venue, remedies by the engine ---------------------


Reconcile = Callable[[VenueSnapshot, Scope], Awaitable[ReconciliationReport]]


class Reconciler:
    """Fetches snapshots and hands them to the engine: on start, on a timer, on demand,
    and soon after the engine marks an account dirty."""

    def __init__(
        self,
        venue: Venue,
        reconcile: Reconcile,
        accounts: Callable[[], Iterable[str]],
        interval: float | None,
        fills_since: Callable[[], int] = lambda: 0,
    ) -> None:
        self._venue = venue
        self._fills_since = fills_since
        self._reconcile = reconcile
        self._accounts = accounts
        self._interval = interval
        self._pending: set[str] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def run(
        self, accounts: Iterable[str] | None = None, scope: Scope = Scope.ALL
    ) -> list[ReconciliationReport]:
        """Reconcile the given accounts (default: every account) now."""
        reports = []
        async with self._lock:
            for account in sorted(accounts if accounts is not None else self._accounts()):
                snapshot = await self.snapshot(account, scope)
                reports.append(await self._reconcile(snapshot, scope))
        return reports

    async def snapshot(self, account: str, scope: Scope) -> VenueSnapshot:
        venue = self._venue
        orders = await venue.get_open_orders(account) if scope is not Scope.POSITIONS else []
        fills: list[VenueFill] = []
        positions: list[VenuePosition] = []
        if scope is not Scope.ORDERS:
            # Executions from before the journal began are history, not missing fills.
            fills = await venue.get_fills(account, self._fills_since())
            positions = await venue.get_positions(account)
        return VenueSnapshot(account, orders, fills, positions)

    def request(self, accounts: Iterable[str]) -> None:
        """Ask for a reconciliation of these accounts soon (the engine calls this)."""
        self._pending.update(accounts)
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="reconciler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self._interval)
            except TimeoutError:
                self._pending.update(self._accounts())
            self._wake.clear()
            accounts, self._pending = self._pending, set()
            try:
                await self.run(accounts)
            except Exception as exc:  # the venue may be down: try again shortly
                log.warning("reconciliation failed; will retry", error=repr(exc))
                self._pending.update(accounts)
                await asyncio.sleep(1.0)
                self._wake.set()
