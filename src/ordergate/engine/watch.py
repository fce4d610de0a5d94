"""The watch's timed duties beside the loss warnings (`control.LossWatch`): periodic
position snapshots and the order execution timeout (seed 002's
`POSITION_SNAPSHOT_INTERVAL` and `ORDER_EXECUTION_TIMEOUT`).

Both are decided in the writer on the engine's clock (market-data time on the paper
venue), so a test drives them by moving that clock and running the watch (`watch_now`).
Position *validation* against the venue reads the venue, so it runs beside the writer,
in `Engine.watch_now`, through the reconciler (positions only).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ordergate.domain.events import OrderStatusUnknown, PositionLine, PositionsSnapshotted
from ordergate.domain.values import ZERO, DirtyCause, OrderStatus
from ordergate.engine.context import DecisionContext
from ordergate.engine.control import mark_dirty
from ordergate.engine.placement import mark_of
from ordergate.engine.venue_events import query_of

NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class WatchPolicy:
    """Seconds of engine time; None turns the duty off.

    - `position_snapshot_interval`: journal every account's open positions this often.
    - `position_validation_interval`: compare positions with the venue this often.
    - `order_execution_timeout`: a SUBMITTED order the venue has not confirmed (acked,
      filled, rejected) within this is in doubt: UNKNOWN, and the venue is asked.
    """

    position_snapshot_interval: float | None = None
    position_validation_interval: float | None = None
    order_execution_timeout: float | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None and value <= 0:
                raise ValueError(f"{f.name} must be positive (None: off)")


class Due:
    """Whether a duty repeated every `interval` seconds is due at a time; the first time
    asked it is (a fresh start takes a snapshot, validates, at once)."""

    def __init__(self, interval: float | None) -> None:
        self._interval_ns = None if interval is None else int(interval * NS)
        self._last: int | None = None

    def __call__(self, now: int) -> bool:
        if self._interval_ns is None:
            return False
        if self._last is not None and now - self._last < self._interval_ns:
            return False
        self._last = now
        return True


class PositionSnapshots:
    """Journal `PositionsSnapshotted` for every account with an open position, once per
    interval of engine time."""

    def __init__(self, interval: float | None) -> None:
        self._due = Due(interval)

    def check(self, ctx: DecisionContext) -> None:
        now = ctx.now()
        if not self._due(now):
            return
        marks = mark_of(ctx)
        by_account: dict[str, list[PositionLine]] = {}
        for position in sorted(ctx.state.book, key=lambda p: (p.account, p.symbol)):
            if position.qty == ZERO:
                continue
            instrument = ctx.state.instruments.get(position.symbol)
            mark = marks(position.symbol)
            pnl = None
            if mark is not None and instrument is not None:
                pnl = position.unrealized_pnl(mark, instrument.contract_size)
            line = PositionLine(
                position.symbol,
                position.qty,
                position.avg_price,
                position.realized_pnl,
                mark,
                pnl,
            )
            by_account.setdefault(position.account, []).append(line)
        for account, lines in by_account.items():
            ctx.emit(PositionsSnapshotted(account, tuple(lines), now))


def flag_unconfirmed(ctx: DecisionContext, timeout: float | None) -> None:
    """Put in doubt every SUBMITTED order the venue has left unconfirmed past `timeout`.

    A SUBMITTED order was taken by the venue's API but neither acknowledged, filled nor
    rejected since: its stream may have lost the answer. It becomes UNKNOWN, its
    instrument dirty (new risk waits, DESIGN promise 6), and the venue is asked by client
    order id, which settles it (decision 0009); it is never sent again.
    """
    if timeout is None:
        return
    now = ctx.now()
    limit = int(timeout * NS)
    for order in list(ctx.state.open_orders.values()):
        if order.status is not OrderStatus.SUBMITTED or now - order.updated_ts < limit:
            continue
        detail = (
            f"order {order.order_id} not confirmed by the venue within the execution "
            f"timeout ({timeout:g} s)"
        )
        mark_dirty(ctx, order.account, order.symbol, DirtyCause.AMBIGUOUS_REQUEST, detail)
        ctx.emit(OrderStatusUnknown(order.order_id, detail, now))
        ctx.send(query_of(order))
