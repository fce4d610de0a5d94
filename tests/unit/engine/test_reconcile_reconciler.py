"""`Reconciler`: snapshots fetched on demand, on a timer and on the engine's dirty marks;
and UNKNOWN orders settled by a query, never by a second submit."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from engine_support import ACCOUNT, D, Sessions, limit_order, market_order
from reconcile_support import OTHER, reconciler_of, start
from tests.fakes import BTC
from tests.waiting import eventually

from ordergate.domain.errors import AmbiguousVenueError, RetryableVenueError
from ordergate.domain.events import (
    InstrumentCleared,
    InstrumentMarkedDirty,
    ReconciliationRecorded,
    TradingStateChanged,
)
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import DirtyCause, OrderStatus
from ordergate.engine.reconcile import Reconciler, Scope


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


@pytest.fixture
async def reconcilers() -> AsyncIterator[list[Reconciler]]:
    """Reconcilers a test starts; stopped before the engines are."""
    started: list[Reconciler] = []
    yield started
    for reconciler in started:
        await reconciler.stop()


def recorded(h, account: str | None = None) -> list[ReconciliationRecorded]:
    return [e for e in h.events(ReconciliationRecorded) if account is None or e.account == account]


def snapshot_accounts(venue) -> list[str]:
    return [account for kind, account in venue.calls if kind == "open_orders"]


# --- run ----------------------------------------------------------------------------------------


async def test_reconciler_run_reconciles_every_account(sessions):
    h, venue = await start(sessions, fund=(ACCOUNT, OTHER))

    reports = await reconciler_of(h).run()

    assert [r.account for r in reports] == [ACCOUNT, OTHER]
    assert all(r.agreed for r in reports)
    assert [e.account for e in recorded(h)] == [ACCOUNT, OTHER]
    assert snapshot_accounts(venue) == [ACCOUNT, OTHER]


async def test_reconciler_run_given_accounts_reconciles_only_those(sessions):
    h, venue = await start(sessions, fund=(ACCOUNT, OTHER))

    reports = await reconciler_of(h).run([OTHER])

    assert [r.account for r in reports] == [OTHER]
    assert [e.account for e in recorded(h)] == [OTHER]
    assert {account for _, account in venue.calls} == {OTHER}


@pytest.mark.parametrize(
    ("scope", "fetched"),
    [
        (Scope.ORDERS, ["open_orders"]),
        (Scope.POSITIONS, ["fills", "positions"]),
        (Scope.ALL, ["open_orders", "fills", "positions"]),
    ],
)
async def test_reconciler_snapshot_fetches_only_what_its_scope_compares(sessions, scope, fetched):
    h, venue = await start(sessions)

    [result] = await reconciler_of(h).run(scope=scope)

    assert result.scope is scope
    assert [kind for kind, _ in venue.calls] == fetched
    assert recorded(h)[-1].scope == scope.value


# --- the loop: on request, on a timer, through failures --------------------------------------


async def test_reconciler_request_after_start_runs_soon(sessions, reconcilers):
    h, _ = await start(sessions, fund=(ACCOUNT, OTHER))
    reconciler = reconciler_of(h, interval=None)  # no timer: only requests
    reconcilers.append(reconciler)
    reconciler.start()
    assert recorded(h) == []

    reconciler.request({OTHER})

    assert await eventually(lambda: recorded(h, OTHER) != [])
    assert recorded(h, ACCOUNT) == []


async def test_reconciler_periodic_loop_runs_on_its_interval(sessions, reconcilers):
    h, _ = await start(sessions)
    reconciler = reconciler_of(h, interval=0.01)
    reconcilers.append(reconciler)

    reconciler.start()

    assert await eventually(lambda: len(recorded(h, ACCOUNT)) >= 3)


async def test_reconciler_venue_failing_on_snapshot_is_retried_loop_survives(sessions, reconcilers):
    h, venue = await start(sessions)
    venue.snapshot_failures.append(RetryableVenueError("venue is down"))
    reconciler = reconciler_of(h, interval=0.01)
    reconcilers.append(reconciler)

    reconciler.start()

    assert await eventually(lambda: recorded(h, ACCOUNT) != [])
    assert not venue.snapshot_failures
    assert await eventually(lambda: len(recorded(h, ACCOUNT)) >= 2)  # and it keeps going


async def test_reconciler_requested_run_failing_is_retried_without_a_timer(sessions, reconcilers):
    h, venue = await start(sessions)
    venue.snapshot_failures.append(RetryableVenueError("venue is down"))
    reconciler = reconciler_of(h, interval=None)
    reconcilers.append(reconciler)
    reconciler.start()

    reconciler.request({ACCOUNT})

    assert await eventually(lambda: recorded(h, ACCOUNT) != [])


async def test_reconciler_run_venue_failing_raises_to_caller(sessions):
    h, venue = await start(sessions)
    venue.snapshot_failures.append(RetryableVenueError("venue is down"))

    with pytest.raises(RetryableVenueError):
        await reconciler_of(h).run()

    assert recorded(h) == []


# --- the engine's hook: dirty marks ask for a reconciliation --------------------------------


async def hooked(h, reconcilers, interval: float | None = None) -> Reconciler:
    reconciler = reconciler_of(h, interval)
    h.engine.on_reconcile_needed(reconciler.request)
    reconcilers.append(reconciler)
    reconciler.start()
    return reconciler


def clean(h) -> bool:
    return h.engine.state.dirty == {}


async def test_reconciler_hook_ambiguous_submit_ends_clean_after_venue_is_asked(
    sessions, reconcilers
):
    h, venue = await start(sessions)
    await hooked(h, reconcilers)
    venue.lost_answers = 1

    placed = await h.place(limit_order())

    assert await eventually(lambda: h.events(InstrumentCleared) != [] and clean(h))
    await h.settle()
    marks = h.events(InstrumentMarkedDirty)
    assert [(m.account, m.symbol, m.cause) for m in marks] == [
        (ACCOUNT, BTC.symbol, DirtyCause.AMBIGUOUS_REQUEST)
    ]
    assert recorded(h, ACCOUNT) != []
    assert venue.requests("query", placed.client_order_id) == [placed.client_order_id]
    view = h.engine.order(placed.order_id)
    assert view is not None
    assert view.status is OrderStatus.ACCEPTED
    follow_up = await h.place(limit_order(price="39000", qty="0.01"))
    assert follow_up.status is not OrderStatus.DENIED


async def test_reconciler_hook_mismatch_asks_again_and_settles_clean(sessions, reconcilers):
    h, venue = await start(sessions)
    resting = await h.place(limit_order())
    await h.settle()
    venue.silent_cancel(resting.client_order_id)
    await hooked(h, reconcilers, interval=0.05)

    assert await eventually(lambda: h.events(InstrumentMarkedDirty) != [])
    assert await eventually(lambda: h.events(InstrumentCleared) != [] and clean(h))
    view = h.engine.order(resting.order_id)
    assert view is not None
    assert view.status is OrderStatus.CANCELED


async def test_reconciler_fill_landing_during_snapshot_does_not_halt(sessions):
    h, venue = await start(sessions)
    resting = await h.place(limit_order(qty="0.1"))
    await h.settle()
    venue.after_fills_snapshot = lambda: venue.fill(resting.client_order_id, D("0.05"), D("40000"))

    await reconciler_of(h).run()
    await h.settle()

    assert h.position() == D("0.05")  # the fill streamed in
    assert h.events(TradingStateChanged) == []


# --- UNKNOWN is resolved by a query, never by resubmitting -------------------------------


async def test_unknown_order_existing_at_venue_one_submit_one_query_then_accepted(
    sessions, reconcilers
):
    h, venue = await start(sessions)
    await hooked(h, reconcilers)
    venue.lost_answers = 1  # reached the venue, the answer was lost

    placed = await h.place(limit_order())
    assert await eventually(lambda: clean(h) and h.events(InstrumentCleared) != [])
    await h.settle()

    coid = placed.client_order_id
    assert venue.requests("submit", coid) == [coid]
    assert venue.requests("query", coid) == [coid]
    assert len(venue.submitted) == 1
    view = h.engine.order(placed.order_id)
    assert view is not None
    assert view.status is OrderStatus.ACCEPTED


async def test_unknown_order_absent_at_venue_one_submit_one_query_then_rejected(
    sessions, reconcilers
):
    h, venue = await start(sessions)
    await hooked(h, reconcilers)
    venue.fail_next.append(AmbiguousVenueError("timed out"))  # never reached the venue

    placed = await h.place(market_order(qty="0.1"))
    assert await eventually(lambda: clean(h) and h.events(InstrumentCleared) != [])
    await h.settle()

    coid = placed.client_order_id
    assert venue.requests("submit", coid) == [coid]
    assert venue.requests("query", coid) == [coid]
    assert venue.submitted == []
    view = h.engine.order(placed.order_id)
    assert view is not None
    assert view.status is OrderStatus.REJECTED
    assert view.reason_code == ReasonCode.VENUE_ORDER_NOT_FOUND
    assert h.position() == D(0)
