"""The watch's timed duties from seed 002 (`engine.watch`): periodic position snapshots,
position validation against the venue, and the order execution timeout.

Each runs on the engine's clock: the tests move the harness's `ManualClock` and run the
watch themselves (`Engine.watch_now`, with the engine's own timer off), so nothing waits
on wall time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
import pytest
from engine_support import ACCOUNT, SECOND, D, Harness, Sessions, limit_order, venue_fill
from gates_support import order, placed, quote, start
from tests.fakes import BTC

from ordergate.domain.events import (
    InstrumentMarkedDirty,
    OrderStatusUnknown,
    PositionsSnapshotted,
    ReconciliationRecorded,
)
from ordergate.domain.values import DirtyCause, OrderStatus
from ordergate.engine.watch import WatchPolicy


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


async def start_watching(sessions: Sessions, policy: WatchPolicy, **options: object) -> Harness:
    return await start(sessions, watch=policy, watch_interval=None, **options)


# --- position snapshots ------------------------------------------------------------------


async def test_position_snapshot_taken_once_per_interval_of_engine_time(sessions):
    h = await start_watching(sessions, WatchPolicy(position_snapshot_interval=300))
    await placed(h, order(qty="0.1"))  # long 0.1 at 50,000
    quote(h, BTC.symbol, "51000")

    await h.engine.watch_now()  # the first watch takes one
    await h.engine.watch_now()  # the same instant: not due
    h.clock.advance(299 * SECOND)
    await h.engine.watch_now()  # 299 s later: not due yet
    before_due = len(h.events(PositionsSnapshotted))
    h.clock.advance(1 * SECOND)
    await h.engine.watch_now()  # 300 s after the first: due

    snapshots = h.events(PositionsSnapshotted)
    assert before_due == 1
    assert len(snapshots) == 2
    assert snapshots[1].ts - snapshots[0].ts == 300 * SECOND
    latest = snapshots[-1]
    assert latest.account == ACCOUNT
    [line] = latest.positions
    assert (line.symbol, line.qty, line.mark) == (BTC.symbol, D("0.1"), D("51000"))
    assert line.unrealized_pnl == line.qty * (line.mark - line.avg_price) * BTC.contract_size


async def test_position_snapshot_without_interval_never_taken(sessions):
    h = await start_watching(sessions, WatchPolicy())
    await placed(h, order(qty="0.1"))

    for _ in range(3):
        await h.engine.watch_now()
        h.clock.advance(3600 * SECOND)

    assert h.events(PositionsSnapshotted) == []


async def test_position_snapshot_with_no_open_position_journals_nothing(sessions):
    h = await start_watching(sessions, WatchPolicy(position_snapshot_interval=1))

    await h.engine.watch_now()

    assert h.events(PositionsSnapshotted) == []


async def test_position_snapshot_replays_to_the_same_state(sessions):
    h = await start_watching(sessions, WatchPolicy(position_snapshot_interval=60))
    await placed(h, order(qty="0.1"))
    await h.engine.watch_now()

    replayed = await h.replayed()

    assert h.events(PositionsSnapshotted)
    assert replayed.book.qty(ACCOUNT, BTC.symbol) == h.position()


# --- position validation -----------------------------------------------------------------


def position_validations(h: Harness) -> list[ReconciliationRecorded]:
    return [e for e in h.events(ReconciliationRecorded) if e.scope == "positions"]


async def test_position_validation_runs_once_per_interval_of_engine_time(sessions):
    h = await start_watching(sessions, WatchPolicy(position_validation_interval=3600))
    await placed(h, limit_order(price="49000"))  # resting: flat here and at the fake venue

    await h.engine.watch_now()  # the first watch validates
    await h.engine.watch_now()
    h.clock.advance(3599 * SECOND)
    await h.engine.watch_now()
    before_due = len(position_validations(h))
    h.clock.advance(1 * SECOND)
    await h.engine.watch_now()

    validations = position_validations(h)
    assert before_due == 1
    assert len(validations) == 2
    assert all(v.account == ACCOUNT and v.diffs == () for v in validations)


async def test_position_validation_finds_a_fill_the_venue_has_and_ordergate_lacks(sessions):
    h = await start_watching(sessions, WatchPolicy(position_validation_interval=60))
    view = await placed(h, limit_order(price="49000"))
    await h.engine.watch_now()  # agrees
    # An execution at the venue that never reached ordergate (the stream was down).
    lost = venue_fill(view, "0.1", "49000", trade_id="T-LOST")
    h.venue.fills_sent.append(msgspec.structs.replace(lost, ts=h.clock.now_ns()))

    h.clock.advance(60 * SECOND)
    await h.engine.watch_now()

    first, latest = position_validations(h)
    assert first.diffs == ()
    assert any("T-LOST" in line for line in latest.diffs), latest.diffs
    assert h.position() == view.qty  # the missing fill adopted, as reconciliation does


# --- order execution timeout --------------------------------------------------------------


async def test_order_unconfirmed_past_execution_timeout_becomes_unknown_and_is_asked(sessions):
    h = await start_watching(sessions, WatchPolicy(order_execution_timeout=30))
    h.venue.silent = True  # takes the order, never acknowledges it on the stream
    view = await h.place(limit_order(price="49000"))
    await h.settle()
    assert h.engine.order(view.order_id).status is OrderStatus.SUBMITTED

    h.clock.advance(29 * SECOND)
    await h.engine.watch_now()
    still_submitted = h.engine.order(view.order_id).status
    h.clock.advance(1 * SECOND)
    await h.engine.watch_now()
    settled = await h.settled(view.order_id)

    assert still_submitted is OrderStatus.SUBMITTED
    [unknown] = h.events(OrderStatusUnknown, view.order_id)
    assert "execution timeout" in unknown.reason
    dirty = [e for e in h.events(InstrumentMarkedDirty) if e.symbol == BTC.symbol]
    assert [d.cause for d in dirty] == [DirtyCause.AMBIGUOUS_REQUEST]
    assert h.venue.requests("query", view.client_order_id)
    assert h.venue.requests("submit", view.client_order_id) == [view.client_order_id]
    assert settled.status is OrderStatus.ACCEPTED  # the venue had it: adopted as working


async def test_order_acknowledged_in_time_is_left_alone(sessions):
    h = await start_watching(sessions, WatchPolicy(order_execution_timeout=30))
    view = await placed(h, limit_order(price="49000"))

    h.clock.advance(3600 * SECOND)
    await h.engine.watch_now()

    assert view.status is OrderStatus.ACCEPTED
    assert h.events(OrderStatusUnknown) == []


def test_watch_policy_refuses_a_non_positive_interval():
    with pytest.raises(ValueError, match="order_execution_timeout"):
        WatchPolicy(order_execution_timeout=0)
