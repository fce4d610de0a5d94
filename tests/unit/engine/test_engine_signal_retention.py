"""Retention of trading signals: a signal leaves the hot state with the last of its orders,
and a redelivered one is still answered from its record, whatever its age, across a
restart, placing nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from engine_support import Sessions, limit_order
from test_engine_retention import KEEP_NONE, retire_now, start
from test_engine_signals import market, signal

from ordergate.domain.errors import IdempotencyConflict
from ordergate.domain.events import FinishedOrdersRetired, OrderInitialized, SignalReceived
from ordergate.domain.values import OrderStatus
from ordergate.engine.digest import state_digest
from ordergate.engine.replay import verify_store
from ordergate.engine.state import OmsState, retired_signal_key


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


async def start_signals(sessions: Sessions, **options):
    return await start(sessions, market=market(), **options)


async def test_a_signal_leaves_with_its_last_order_and_its_record_is_kept(sessions):
    h = await start_signals(sessions)
    await h.engine.process_signal(signal("sig-1"))
    await h.settle()

    await retire_now(h)

    state = h.engine._ctx.state
    [retirement] = h.events(FinishedOrdersRetired)
    assert retirement.signal_ids == ("sig-1",)
    assert state.signals == {}
    assert state.orders == {}
    assert await h.store.retired_signal("sig-1") == h.events(SignalReceived)[0]


async def test_a_signal_with_an_order_still_open_stays_whatever_its_age(sessions):
    h = await start_signals(sessions)
    resting = await h.place(limit_order(price="40000"))  # keeps its account busy, not sig-2
    await h.engine.process_signal(signal("sig-2", confidence="0.55", price="40000"))
    await h.settle()
    held = h.engine._ctx.state
    assert any(o.signal_id == "sig-2" and o.status.is_open for o in held.orders.values())

    await retire_now(h)

    assert "sig-2" in held.signals
    assert resting.order_id in held.orders
    assert all(e.signal_ids == () for e in h.events(FinishedOrdersRetired))


async def test_a_redelivered_retired_signal_is_a_duplicate_that_places_nothing(sessions):
    h = await start_signals(sessions)
    first = await h.engine.process_signal(signal("sig-3"))
    await h.settle()
    await retire_now(h)
    journaled = len(h.events())

    again = await h.engine.process_signal(signal("sig-3"))
    await h.settle()

    assert again.duplicate
    assert again.received == first.received
    assert [o.order_id for o in again.orders] == [o.order_id for o in first.orders]
    assert [o.status for o in again.orders] == [OrderStatus.FILLED]
    assert len(h.events()) == journaled  # answered from the store: nothing journaled
    assert len(h.events(OrderInitialized)) == 1


async def test_a_retired_signal_id_reused_for_another_signal_is_a_conflict(sessions):
    h = await start_signals(sessions)
    await h.engine.process_signal(signal("sig-4"))
    await h.settle()
    await retire_now(h)

    with pytest.raises(IdempotencyConflict):
        await h.engine.process_signal(signal("sig-4", qty="0.2"))


async def test_a_retired_signal_is_still_known_after_a_restart(sessions):
    h = await start_signals(sessions)
    first = await h.engine.process_signal(signal("sig-5"))
    await h.settle()
    await retire_now(h)

    h = await sessions.restart(h, retention=KEEP_NONE, watch_interval=None)
    again = await h.engine.process_signal(signal("sig-5"))
    await h.settle()

    assert again.duplicate
    assert again.received == first.received
    assert len(h.events(SignalReceived)) == 1
    assert h.venue.requests("submit") == [first.orders[0].client_order_id]


async def test_a_signal_the_filter_only_may_have_seen_is_taken_as_new(sessions):
    """A Bloom filter answers "maybe": a store that has no such signal settles it."""
    h = await start_signals(sessions)
    h.engine._ctx.state.retired_keys.add(retired_signal_key("sig-6"))

    taken = await h.engine.process_signal(signal("sig-6"))
    await h.settle()

    assert not taken.duplicate
    assert [e.signal_id for e in h.events(SignalReceived)] == ["sig-6"]


async def test_replay_and_checkpoint_give_the_state_the_engine_had_after_signals_retire(
    sessions,
):
    h = await start_signals(sessions)
    for n in range(3):
        await h.engine.process_signal(signal(f"sig-7-{n}"))
        await h.settle()
    await h.engine.process_signal(signal("sig-8", confidence="0.55", price="40000"))
    await h.settle()
    await retire_now(h)
    live = h.engine._ctx.state

    replayed = OmsState.replay(h.events())
    restored = OmsState.from_checkpoint(replayed.checkpoint())

    assert sorted(live.signals) == ["sig-8"]
    for state in (replayed, restored):
        assert state_digest(state) == state_digest(live)
        assert sorted(state.signals) == sorted(live.signals)
        assert state.signal_orders("sig-8") == live.signal_orders("sig-8") == 1
        assert retired_signal_key("sig-7-0") in state.retired_keys
    report = await verify_store(h.store)
    assert report.ok, report.problems
