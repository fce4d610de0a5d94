"""Retention: finished orders leave the hot state, and every promise holds for them after.

An old idempotency key still names its order; a late fill, a duplicate execution or a
late ack for a retired order meets the order as it was (recalled from the store first);
reconciliation knows the venue's history of retired orders as ours; and replay gives the
state the engine had, retirements and recalls included.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest
from engine_support import (
    ACCOUNT,
    SECOND,
    D,
    Sessions,
    is_status,
    limit_order,
    market_order,
    venue_fill,
)
from reconcile_support import SnapshotVenue, reconcile
from reconcile_support import start as start_reconciling_harness
from test_engine_write_ahead import GatedJournal, spin
from tests.waiting import eventually

from ordergate.domain.events import (
    Event,
    FinishedOrdersRetired,
    OrderFilled,
    OrderInitialized,
    RetiredOrderRecalled,
)
from ordergate.domain.orders import OrderFlag
from ordergate.domain.values import OrderStatus
from ordergate.engine.commands import AdjustBalance, CancelOrder
from ordergate.engine.digest import state_digest
from ordergate.engine.retention import RetentionPolicy
from ordergate.engine.subscriptions import JournaledEvent
from ordergate.engine.venue_reports import VenueOrderCanceled
from ordergate.engine.views import ReadModelChanges

KEEP_NONE = RetentionPolicy(max_age_seconds=0, max_finished=0)


class SlowGatedJournal(GatedJournal):
    """Appends wait for the gate, and then take a few turns of the loop (as a database
    round trip does) before the store has the batch."""

    async def append(self, events: Sequence[Event], changes: ReadModelChanges) -> int:
        self.entered.set()
        await self.gate.wait()
        await spin(5)
        return await self.store.append(events, changes)


def deposit() -> AdjustBalance:
    return AdjustBalance(ACCOUNT, "USDT", D(1), "deposit")


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


async def start(sessions: Sessions, policy: RetentionPolicy = KEEP_NONE, **options):
    return await sessions.start(retention=policy, watch_interval=None, **options)


async def retire_now(h) -> None:
    await h.engine.watch_now()
    await h.settle()


async def test_finished_orders_beyond_the_count_leave_the_hot_state_and_stay_readable(sessions):
    h = await start(sessions, RetentionPolicy(max_age_seconds=3600, max_finished=3))
    placed = [await h.place(market_order(qty="0.01")) for _ in range(8)]
    resting = await h.place(limit_order())
    await h.settle()

    await retire_now(h)

    retired = [e for batch in h.events(FinishedOrdersRetired) for e in batch.order_ids]
    assert retired == [o.order_id for o in placed[:5]]  # the oldest finished first
    assert h.engine.order_count == 4  # three finished kept, one open
    assert h.engine.retired_order_count == 5
    assert h.engine.order(placed[0].order_id) is None  # no longer published from memory
    view = await h.store.order(placed[0].order_id)
    assert view is not None
    assert view.status is OrderStatus.FILLED
    assert h.engine.state.open_orders.keys() == {resting.order_id}
    assert h.position() == D("0.08")


async def test_finished_orders_older_than_the_age_retire_at_the_watch(sessions):
    h = await start(sessions, RetentionPolicy(max_age_seconds=60, max_finished=1000))
    old = await h.place(market_order(qty="0.01"))
    await h.settle()
    h.clock.advance(61 * SECOND)
    young = await h.place(market_order(qty="0.01"))
    await h.settle()

    await retire_now(h)

    assert [e.order_ids for e in h.events(FinishedOrdersRetired)] == [(old.order_id,)]
    assert h.engine.order(young.order_id) is not None


async def test_an_old_idempotency_key_names_its_retired_order_across_a_restart(sessions):
    h = await start(sessions)
    first = await h.engine.place(market_order(idempotency_key="k1"))
    await h.settle()
    await retire_now(h)
    assert h.engine.order_count == 0

    again = await h.engine.place(market_order(idempotency_key="k1"))
    await h.settle()

    assert not again.created
    assert again.order.order_id == first.order.order_id
    assert again.order.status is OrderStatus.FILLED
    assert [e.order.order_id for e in h.events(RetiredOrderRecalled)] == [first.order.order_id]

    await retire_now(h)
    h = await sessions.restart(h, retention=KEEP_NONE, watch_interval=None)
    after_restart = await h.engine.place(market_order(idempotency_key="k1"))
    await h.settle()

    assert not after_restart.created
    assert after_restart.order.order_id == first.order.order_id
    assert len(h.events(OrderInitialized)) == 1
    assert h.venue.requests("submit") == [first.order.client_order_id]
    assert h.position() == D("0.1")


async def test_an_old_key_for_another_request_is_still_a_conflict(sessions):
    from ordergate.domain.errors import IdempotencyConflict

    h = await start(sessions)
    await h.engine.place(market_order(idempotency_key="k1"))
    await h.settle()
    await retire_now(h)

    with pytest.raises(IdempotencyConflict):
        await h.engine.place(market_order(qty="0.2", idempotency_key="k1"))
    assert len(h.events(OrderInitialized)) == 1


async def test_a_new_key_after_retirements_places_without_recalling(sessions):
    h = await start(sessions)
    for n in range(5):
        await h.engine.place(market_order(qty="0.01", idempotency_key=f"old-{n}"))
    await h.settle()
    await retire_now(h)

    fresh = await h.engine.place(market_order(qty="0.01", idempotency_key="new"))
    await h.settle()

    assert fresh.created
    assert h.events(RetiredOrderRecalled) == []


async def test_a_late_fill_for_a_retired_order_is_applied_once_and_flagged(sessions):
    h = await start(sessions)
    order = await h.place(limit_order(qty="0.3"))
    await h.settle()
    await h.engine.cancel(CancelOrder(order.order_id))
    await h.settle()
    await retire_now(h)
    assert h.engine.order(order.order_id) is None

    h.venue.push(venue_fill(order, "0.1", trade_id="LATE1"))
    await h.settle()
    h.venue.push(venue_fill(order, "0.1", trade_id="LATE1"))  # delivered again
    await h.settle()

    fills = h.events(OrderFilled)
    assert [f.trade_id for f in fills] == ["LATE1"]
    assert h.position() == D("0.1")
    recalled = await h.engine.wait_for(order.order_id, is_status(OrderStatus.CANCELED), 1)
    assert recalled.filled_qty == D("0.1")
    assert OrderFlag.LATE_FILL in recalled.flags
    assert h.engine.unmatched_venue_events == 0


async def test_a_duplicate_execution_of_a_retired_order_changes_nothing(sessions):
    h = await start(sessions)
    order = await h.place(limit_order(qty="0.2"))
    h.venue.push(venue_fill(order, "0.2", trade_id="T1"))
    await h.settle()
    await retire_now(h)
    before = h.position()

    h.venue.push(venue_fill(order, "0.2", trade_id="T1"))
    await h.settle()

    assert len(h.events(OrderFilled)) == 1
    assert h.position() == before == D("0.2")
    assert h.engine.unmatched_venue_events == 0
    # it came back to be compared, and leaves again at the next sweep
    assert len(h.events(RetiredOrderRecalled)) == 1
    await retire_now(h)
    assert h.engine.order_count == 0


async def test_a_late_cancel_ack_for_a_retired_filled_order_is_dropped(sessions):
    h = await start(sessions)
    order = await h.place(limit_order(qty="0.2"))
    h.venue.push(venue_fill(order, "0.2", trade_id="T1"))
    await h.settle()
    await retire_now(h)
    dropped = h.engine.dropped_venue_events

    h.venue.push(VenueOrderCanceled(order.client_order_id, None, None, None, 0))
    await h.settle()

    view = await h.store.order(order.order_id)
    assert view is not None
    assert view.status is OrderStatus.FILLED
    assert h.engine.dropped_venue_events == dropped + 1
    assert h.engine.unmatched_venue_events == 0


async def test_an_event_for_an_order_never_placed_is_still_unmatched(sessions):
    h = await start(sessions)
    order = await h.place(market_order())
    await h.settle()
    await retire_now(h)

    h.venue.push(venue_fill(order, "0.1", trade_id="Z", client_order_id="not-ours"))
    await h.settle()

    assert h.engine.unmatched_venue_events == 1
    assert h.events(RetiredOrderRecalled) == []


async def test_a_fill_decided_in_the_batch_that_retires_its_order_is_applied(sessions):
    """The retirement and the late fill are decided in one batch: the store holds the
    retired order only once that batch is journaled, so the fill must wait for it."""
    journal = await sessions.journal()
    gated = SlowGatedJournal(journal.store)
    h = await start(sessions, journal=journal, through=gated)
    order = await h.place(limit_order(qty="0.3"))
    await h.settle()
    await h.engine.cancel(CancelOrder(order.order_id))
    await h.settle()

    gated.gate.clear()
    gated.entered.clear()
    blocked = asyncio.ensure_future(h.engine.adjust_balance(deposit()))
    await gated.entered.wait()  # a batch is in flight: the next one collects meanwhile
    sweep = asyncio.ensure_future(h.engine.watch_now())
    h.venue.push(venue_fill(order, "0.1", trade_id="RACE"))
    await eventually(lambda: order.client_order_id in h.engine._writer._recalling)
    assert order.order_id not in h.engine.state.orders  # retired, in a batch not journaled
    gated.gate.set()
    await asyncio.gather(blocked, sweep)
    await h.settle()

    assert [e.order_ids for e in h.events(FinishedOrdersRetired)] == [(order.order_id,)]
    assert [f.trade_id for f in h.events(OrderFilled)] == ["RACE"]
    assert h.position() == D("0.1")
    assert h.engine.unmatched_venue_events == 0


async def test_an_answer_names_its_order_though_the_same_batch_retires_it(sessions):
    """An old key placed again, answered from the order held; a sweep in the same batch
    retires that order before the batch is journaled. The answer is still the order (the
    SIGKILL test met an INTERNAL_ERROR here, with retention keeping nothing)."""
    journal = await sessions.journal()
    gated = SlowGatedJournal(journal.store)
    h = await start(sessions, journal=journal, through=gated)
    first = await h.engine.place(market_order(idempotency_key="k1"))
    await h.settle()

    gated.gate.clear()
    gated.entered.clear()
    blocked = asyncio.ensure_future(h.engine.adjust_balance(deposit()))
    await gated.entered.wait()  # a batch is in flight: the next one collects meanwhile
    again = asyncio.ensure_future(h.engine.place(market_order(idempotency_key="k1")))
    await spin()
    sweep = asyncio.ensure_future(h.engine.watch_now())
    await eventually(lambda: first.order.order_id not in h.engine.state.orders)
    gated.gate.set()
    placed, _, _ = await asyncio.gather(again, blocked, sweep)

    assert not placed.created
    assert placed.order.order_id == first.order.order_id
    assert placed.order.status is OrderStatus.FILLED
    assert len(h.events(OrderInitialized)) == 1


async def test_replay_gives_the_state_the_engine_had_with_retirements_and_recalls(sessions):
    h = await start(sessions, RetentionPolicy(max_age_seconds=3600, max_finished=2))
    orders = [await h.place(limit_order(qty="0.1")) for _ in range(6)]
    for n, order in enumerate(orders):
        h.venue.push(venue_fill(order, "0.1", trade_id=f"F{n}"))
    await h.settle()
    await retire_now(h)
    h.venue.push(venue_fill(orders[0], "0.1", trade_id="F0"))  # a duplicate: recalls it
    await h.engine.place(market_order(idempotency_key="fresh"))
    await h.settle()

    replayed = await h.replayed()

    assert state_digest(replayed) == state_digest(h.engine.state)
    assert set(replayed.orders) == set(h.engine.state.orders)
    assert replayed.retired_count == h.engine.retired_order_count
    assert replayed.book.get(ACCOUNT, "BTCUSDT") == h.engine.state.book.get(ACCOUNT, "BTCUSDT")


async def test_a_bracket_parent_retires_with_its_children_only_once_they_are_done(sessions):
    h = await start(sessions)
    parent = await h.place(limit_order(qty="0.1", price="50000", stop_loss=D("45000")))
    h.venue.push(venue_fill(parent, "0.1", trade_id="P1"))
    await h.settle()
    children = [o for o in h.engine.state.orders.values() if o.parent_order_id]
    assert len(children) == 1
    assert children[0].status.is_open

    await retire_now(h)
    assert h.events(FinishedOrdersRetired) == []  # the parent waits for its stop

    await h.engine.cancel(CancelOrder(children[0].order_id))
    await h.settle()
    await retire_now(h)

    assert [e.order_ids for e in h.events(FinishedOrdersRetired)] == [
        (parent.order_id, children[0].order_id)
    ]


async def test_reconciliation_knows_the_history_of_retired_orders_and_adopts_nothing(sessions):
    h, venue = await start_reconciling_harness(sessions, retention=KEEP_NONE, watch_interval=None)
    assert isinstance(venue, SnapshotVenue)
    for _ in range(3):
        await h.place(market_order(qty="0.01"))
    await h.settle()
    await retire_now(h)

    report = await reconcile(h)
    again = await reconcile(h)

    assert report.diffs == []
    assert again.diffs == []
    assert h.events(RetiredOrderRecalled) == []
    assert all(not e.external for e in h.events(OrderInitialized))
    assert h.position() == D("0.03")


async def test_a_sweep_right_after_a_recall_cannot_part_an_old_key_from_its_order(sessions):
    """The recall and the decision on the key are one step: a sweep queued the moment the
    recall is journaled (here, by a subscriber) comes after the answer, not between."""
    h = await start(sessions)
    first = await h.engine.place(market_order(idempotency_key="k1"))
    await h.settle()
    await retire_now(h)
    sweeps: list[asyncio.Task[None]] = []

    def sweep_on_recall(journaled: JournaledEvent) -> None:
        if isinstance(journaled.event, RetiredOrderRecalled):
            sweeps.append(asyncio.ensure_future(h.engine.watch_now()))

    h.engine.subscribe(sweep_on_recall)
    again = await h.engine.place(market_order(idempotency_key="k1"))
    await asyncio.gather(*sweeps)
    await h.settle()

    assert sweeps, "the recall was never heard"
    assert not again.created
    assert again.order.order_id == first.order.order_id
    assert len(h.events(OrderInitialized)) == 1
