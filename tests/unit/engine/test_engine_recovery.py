"""Recovery after a restart: orders whose last request's fate is open are settled, by a
query for a submit (never a blind resubmit) and by sending cancels and replaces again."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
from engine_support import D, Harness, Sessions, limit_order
from tests.fakes import BTC

from ordergate.domain.events import InstrumentUpdated, OrderStatusUnknown
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderStatus
from ordergate.engine.commands import CancelOrder, ReplaceOrder
from ordergate.engine.digest import state_digest
from ordergate.engine.replay import verify_store


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


def status_of(h: Harness, order_id: str) -> OrderStatus:
    view = h.engine.order(order_id)
    assert view is not None
    return view.status


async def restarted(sessions: Sessions, h: Harness) -> Harness:
    """Restart with a venue that now answers every request."""
    await h.engine.stop()
    h.venue.hold.clear()
    h.venue.hang_after_taking = False
    h.venue.hang_after_canceling = False
    h.venue.silent = False
    h.venue.release.set()
    return await sessions.restart(h)


async def test_restart_pending_submit_taken_by_venue_queried_and_accepted(sessions):
    h = await sessions.start()
    h.venue.hang_after_taking = True  # the order rests at the venue; the answer never comes
    placed = await h.place(limit_order())
    assert status_of(h, placed.order_id) is OrderStatus.PENDING_SUBMIT

    h2 = await restarted(sessions, h)
    view = await h2.settled(placed.order_id)

    assert view.status is OrderStatus.ACCEPTED
    assert view.venue_order_id == "V1"
    assert h2.venue.requests("submit") == [placed.client_order_id]  # never resubmitted
    assert h2.venue.requests("query") == [placed.client_order_id]
    unknowns = h2.events(OrderStatusUnknown, placed.order_id)
    assert [u.reason for u in unknowns] == ["restart: submit outcome unknown"]


async def test_restart_pending_submit_never_taken_rejected_not_found(sessions):
    h = await sessions.start()
    h.venue.hold.add("submit")  # the submit never got through
    placed = await h.place(limit_order())

    h2 = await restarted(sessions, h)
    view = await h2.settled(placed.order_id)

    assert view.status is OrderStatus.REJECTED
    assert view.reason_code == ReasonCode.VENUE_ORDER_NOT_FOUND
    assert h2.venue.requests("submit") == [placed.client_order_id]
    assert h2.venue.orders == {}
    assert h2.engine.order_margin("acct") == {"USDT": D(0)}


async def test_restart_pending_submit_from_journal_alone_is_queried_not_resubmitted(sessions):
    h = await sessions.start()
    h.venue.hold.add("submit")
    placed = await h.place(limit_order())
    await h.engine.stop()
    h.venue.hold.clear()
    h.venue.calls.clear()  # a different process: the venue has seen nothing from it
    # Replay as a fresh process would, into an engine over the same journal.
    replayed = await h.replayed()
    assert replayed.orders[placed.order_id].status is OrderStatus.PENDING_SUBMIT

    h2 = await sessions.restart(h)
    await h2.settle()

    assert h2.venue.calls == [("query", placed.client_order_id)]


async def test_restart_pending_cancel_of_acknowledged_order_sends_cancel_again(sessions):
    h = await sessions.start()
    resting = await h.place(limit_order())
    await h.settle()
    h.venue.hold.add("cancel")  # the cancel is sent; the process dies before the answer
    await h.engine.cancel(CancelOrder(resting.order_id))
    assert status_of(h, resting.order_id) is OrderStatus.PENDING_CANCEL

    h2 = await restarted(sessions, h)
    view = await h2.settled(resting.order_id)

    assert view.status is OrderStatus.CANCELED
    assert h2.venue.requests("cancel") == [resting.client_order_id] * 2
    assert h2.venue.requests("query") == []
    assert h2.events(OrderStatusUnknown) == []


async def test_restart_pending_replace_sends_replace_again(sessions):
    h = await sessions.start()
    resting = await h.place(limit_order(price="40000"))
    await h.settle()
    h.venue.hold.add("replace")
    await h.engine.replace(ReplaceOrder(resting.order_id, qty=D("0.2"), price=D(40100)))
    assert status_of(h, resting.order_id) is OrderStatus.PENDING_REPLACE

    h2 = await restarted(sessions, h)
    view = await h2.settled(resting.order_id)

    assert view.status is OrderStatus.ACCEPTED
    assert (view.qty, view.price) == (D("0.2"), D(40100))
    assert h2.venue.requests("replace") == [resting.client_order_id] * 2
    assert h2.venue.replaces == [(resting.client_order_id, D("0.2"), D(40100), None)]


async def test_restart_submitted_order_queried_and_accepted(sessions):
    h = await sessions.start()
    h.venue.silent = True  # the venue takes the order but its ack never streams
    placed = await h.place(limit_order())
    submitted = await h.settled(placed.order_id)
    assert submitted.status is OrderStatus.SUBMITTED

    h2 = await restarted(sessions, h)
    view = await h2.settled(placed.order_id)

    assert view.status is OrderStatus.ACCEPTED
    assert h2.venue.requests("query") == [placed.client_order_id]
    assert h2.venue.requests("submit") == [placed.client_order_id]
    assert h2.events(OrderStatusUnknown) == []  # SUBMITTED is asked about, not doubted


async def test_restart_settled_orders_left_alone(sessions):
    h = await sessions.start()
    resting = await h.place(limit_order())
    await h.settle()
    before = state_digest(h.engine.state)
    calls = len(h.venue.calls)

    h2 = await restarted(sessions, h)
    await h2.settle()

    assert len(h2.venue.calls) == calls
    assert state_digest(h2.engine.state) == before
    assert status_of(h2, resting.order_id) is OrderStatus.ACCEPTED


async def test_restart_cancel_requested_before_submit_answer_still_cancels(sessions):
    h = await sessions.start()
    h.venue.hang_after_taking = True
    placed = await h.place(limit_order())
    await h.engine.cancel(CancelOrder(placed.order_id))
    assert status_of(h, placed.order_id) is OrderStatus.PENDING_CANCEL

    h2 = await restarted(sessions, h)
    view = await h2.settled(placed.order_id)

    assert view.status is OrderStatus.CANCELED


async def test_restart_cancel_done_at_venue_before_crash_ends_canceled(sessions):
    h = await sessions.start()
    resting = await h.place(limit_order())
    await h.settle()
    h.venue.hang_after_canceling = True  # canceled at the venue; the process dies
    await h.engine.cancel(CancelOrder(resting.order_id))

    h2 = await restarted(sessions, h)
    view = await h2.settled(resting.order_id)

    assert view.status is not OrderStatus.ACCEPTED
    assert h2.engine.order_margin("acct") == {"USDT": D(0)}


async def test_restart_same_instruments_journals_nothing_new(sessions):
    h = await sessions.start()
    await h.place(limit_order())
    await h.settle()
    journaled = len(await h.stored_events())

    h2 = await restarted(sessions, h)
    await h2.settle()

    assert len(await h2.stored_events()) == journaled
    assert h2.events(InstrumentUpdated)[0].instrument == BTC


async def test_restart_changed_instrument_journaled_and_used(sessions):
    h = await sessions.start()
    await h.engine.stop()
    wider = dataclasses.replace(BTC, margin_rate=D("0.5"))
    state = await h.replayed()
    state.take_changes()

    h2 = await sessions.start(
        venue=h.venue,
        journal=h.journal,
        market=h.market,
        clock=h.clock,
        state=state,
        instruments=[wider],
        fund=(),
    )
    placed = await h2.place(limit_order(qty="1", price="40000"))

    assert [e.instrument for e in h2.events(InstrumentUpdated)] == [BTC, wider]
    assert placed.status is OrderStatus.PENDING_SUBMIT
    assert h2.engine.order_margin("acct") == {"USDT": D(20000)}  # 1 * 40,000 * 0.5
    await h2.settle()  # verify reads the journal, then the read models: nothing may come between
    assert (await verify_store(h2.store)).ok
