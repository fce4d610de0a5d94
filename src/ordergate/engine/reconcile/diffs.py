"""The differences between ordergate's truth and one venue snapshot: a pure function.

`find_diffs` takes the state and one account's snapshot (open orders, recent fills,
positions) and names each difference, by kind:

- ORDER_MISSING    working here, not open at the venue (filled or canceled unseen?)
- ORDER_UNKNOWN    open at the venue, never placed through ordergate
- ORDER_MISMATCH   on both sides, but quantity or prices differ
- FILL_MISSING     executed at the venue, not journaled here
- POSITION_MISMATCH  the position differs even once the missing fills are counted
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

import msgspec

from ordergate.domain.events import OrderSnapshot
from ordergate.domain.values import ZERO, OrderStatus
from ordergate.engine.state import OmsState
from ordergate.engine.venue_reports import VenueFill, VenueOrderReport, VenuePosition

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


class Scope(StrEnum):
    ORDERS = "orders"
    POSITIONS = "positions"
    ALL = "all"


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


def settled_by_retired(
    snapshot: VenueSnapshot, retired: dict[str, OrderSnapshot]
) -> tuple[VenueSnapshot, tuple[OrderSnapshot, ...]]:
    """Split what a snapshot says of retired orders (by client order id): fills whose trade
    id the retired order holds are known, and leave the snapshot; an order the venue has
    open, or a fill it lacks, names an order to recall before comparing."""
    recall: dict[str, OrderSnapshot] = {}
    fills = []
    for fill in snapshot.fills:
        order = retired.get(fill.client_order_id)
        if order is None:
            fills.append(fill)
        elif fill.trade_id not in order.trade_ids:
            fills.append(fill)
            recall[order.client_order_id] = order
    for report in snapshot.open_orders:
        order = retired.get(report.client_order_id)
        if order is not None:
            recall[order.client_order_id] = order
    kept = msgspec.structs.replace(snapshot, fills=fills)
    return kept, tuple(recall.values())


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
