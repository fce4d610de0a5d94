"""Checkpoints: a state restored from a checkpoint at any point of a journal, then fed the
rest of it, is the state a full replay builds, field for field and dict order included.

The journals come from the engine under random commands, venue fills (resent, late,
racing cancels and replaces) and retirements that keep nothing, so retired orders are
recalled by resent fills along the way: every cut point is a crash point a restart
could resume from.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from engine_support import D, Harness, Sessions, limit_order, venue_fill
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine_properties import act, action

from ordergate.domain.errors import CheckpointUnreadable
from ordergate.domain.events import Event
from ordergate.engine.checkpoint import (
    CHECKPOINTS_KEPT,
    CheckpointPolicy,
    StateCheckpoint,
    decode,
    encode,
)
from ordergate.engine.digest import state_digest
from ordergate.engine.replay import verify_store
from ordergate.engine.resume import resume
from ordergate.engine.retention import RetentionPolicy
from ordergate.engine.state import OmsState
from ordergate.engine.views import OrderView
from ordergate.store.memory import MemoryStore

actions = st.lists(st.one_of(st.just(("retire",)), action), max_size=40)
cuts = st.lists(st.floats(0, 1), min_size=1, max_size=4)


async def journal_of(script: list[tuple[Any, ...]]) -> list[Event]:
    sessions = Sessions()
    try:
        h = await sessions.start(
            retention=RetentionPolicy(max_age_seconds=0, max_finished=0), watch_interval=None
        )
        orders: list[OrderView] = []
        for action in script:
            if action == ("retire",):
                await h.engine.watch_now()
            else:
                await act(h, orders, action)
        await h.settle()
        return await h.stored_events()
    finally:
        await sessions.close()


def folded(events: list[Event], state: OmsState | None = None) -> OmsState:
    state = state if state is not None else OmsState()
    for event in events:
        state.apply(event)
    state.take_changes()
    return state


def through_payload(state: OmsState) -> OmsState:
    return OmsState.from_checkpoint(decode(encode(state.checkpoint())))


@settings(max_examples=60, deadline=None)
@given(script=actions, at=cuts)
def test_a_checkpoint_anywhere_then_the_rest_folds_to_the_full_replay(script, at):
    events = asyncio.run(journal_of(script))
    full = folded(events)
    for fraction in at:
        cut = round(fraction * len(events))
        resumed = folded(events[cut:], through_payload(folded(events[:cut])))

        assert resumed.checkpoint() == full.checkpoint()
        assert state_digest(resumed) == state_digest(full)
        assert list(resumed.orders) == list(full.orders)
        assert list(resumed.open_orders) == list(full.open_orders)


def test_a_checkpoint_holds_everything_the_state_holds():
    """A new attribute of `OmsState` must be checkpointed (or derived on restore): this
    names every one, so adding one fails here until `checkpoint()` knows it."""
    derived = {"by_client_id", "by_idempotency_key", "children", "book", "_keys", "_margin_keys"}
    derived.add("_signal_orders")
    pending = {"_changed_orders", "_new_fills", "_changed_positions", "_changed_accounts"}
    pending |= {"_retired", "_retired_signals"}
    renamed = {
        "event_count": "seq",
        "_order_symbols": "order_symbols",
        "_counted": "counted",
        "open_orders": "open_order_ids",
    }
    held = set(vars(OmsState())) - derived - pending
    fields = set(StateCheckpoint.__struct_fields__)
    assert {renamed.get(name, name) for name in held} <= fields
    assert fields - {renamed.get(name, name) for name in held} == {"version", "positions"}


def test_a_damaged_payload_is_refused_not_misread():
    payload = bytearray(encode(OmsState().checkpoint()))
    payload[len(payload) // 2] ^= 0xFF

    with pytest.raises(CheckpointUnreadable):
        decode(bytes(payload))


def test_a_checkpoint_of_another_version_is_refused():
    newer = msgspec.structs.replace(OmsState().checkpoint(), version=99)

    with pytest.raises(CheckpointUnreadable):
        decode(encode(newer))


# --- written by the engine, resumed from at start ----------------------------------------


async def checkpointed_session(sessions: Sessions, every: int) -> Harness:
    h = await sessions.start(
        checkpoints=CheckpointPolicy(every_events=every, every_seconds=None),
        retention=RetentionPolicy(max_age_seconds=0, max_finished=2),
        watch_interval=None,
    )
    for n in range(12):
        order = await h.place(limit_order(qty="0.1", idempotency_key=f"k{n}"))
        h.venue.push(venue_fill(order, "0.1", trade_id=f"T{n}"))
        await h.settle()
        await h.engine.watch_now()
    await h.settle()
    return h


async def damage(h: Harness, seq: int) -> None:
    """Flip the bytes of a stored checkpoint's payload, as a bad disk would."""
    if isinstance(h.store, MemoryStore):
        stored = h.store._checkpoints[seq]
        flipped = bytes(b ^ 0x5A for b in stored.payload)
        h.store._checkpoints[seq] = msgspec.structs.replace(stored, payload=flipped)
    else:
        await h.store._pool.execute(
            "UPDATE checkpoints SET payload = decode(md5(payload::text), 'hex') WHERE seq = $1",
            seq,
        )


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


async def test_the_engine_checkpoints_as_it_goes_and_a_start_resumes_from_the_newest(sessions):
    h = await checkpointed_session(sessions, every=20)
    await h.engine.stop()  # a clean stop checkpoints the head too
    seqs = await h.store.checkpoint_seqs()
    head = len(await h.stored_events())

    resumed = await resume(h.store)

    assert seqs[0] == head
    assert len(seqs) == CHECKPOINTS_KEPT
    assert resumed.checkpoint_seq == head
    assert resumed.report.ok
    assert resumed.state.checkpoint() == folded(await h.stored_events()).checkpoint()


async def test_a_damaged_or_missing_checkpoint_costs_time_only(sessions):
    h = await checkpointed_session(sessions, every=20)
    await h.engine.stop()
    events = await h.stored_events()
    newest, older, _ = await h.store.checkpoint_seqs()
    await damage(h, newest)
    full = folded(events)

    from_older = await resume(h.store)
    for seq in (await h.store.checkpoint_seqs())[1:]:
        await damage(h, seq)
    from_scratch = await resume(h.store)

    assert from_older.checkpoint_seq == older
    assert [p.split(":")[0] for p in from_older.passed_over] == [f"seq {newest}"]
    assert from_scratch.checkpoint_seq == 0
    assert len(from_scratch.passed_over) == CHECKPOINTS_KEPT
    for resumed in (from_older, from_scratch):
        assert resumed.report.ok
        assert resumed.state.checkpoint() == full.checkpoint()
        assert state_digest(resumed.state) == state_digest(full)


async def test_an_engine_started_from_a_checkpoint_keeps_every_promise(sessions):
    h = await checkpointed_session(sessions, every=15)
    await h.engine.stop()
    resumed = await resume(h.store)
    assert resumed.checkpoint_seq > 0
    state = resumed.state
    state.discard_changes()
    h2 = await sessions.start(
        venue=h.venue, journal=h.journal, market=h.market, clock=h.clock, state=state, fund=()
    )

    again = await h2.engine.place(limit_order(qty="0.1", idempotency_key="k0"))  # retired
    await h2.settle()

    assert not again.created
    assert h2.position() == D("1.2")
    assert state_digest(await h2.replayed()) == state_digest(h2.engine.state)


async def test_verification_compares_every_checkpoint_with_the_replay_at_its_seq(sessions):
    h = await checkpointed_session(sessions, every=20)
    await h.engine.stop()
    kept = [await h.store.checkpoint(seq) for seq in await h.store.checkpoint_seqs()]
    stored = [c for c in kept if c is not None]
    assert len(stored) == CHECKPOINTS_KEPT

    good = await verify_store(h.store, checkpoints=stored)
    # A checkpoint that decodes but says another state: one order's status changed.
    middle = decode(stored[1].payload)
    order = middle.orders[0]
    wrong = msgspec.structs.replace(
        middle, orders=[msgspec.structs.replace(order, filled_qty=D(7)), *middle.orders[1:]]
    )
    forged = msgspec.structs.replace(stored[1], payload=encode(wrong))
    bad = await verify_store(h.store, checkpoints=[stored[0], forged, stored[2]])

    assert good.ok, good.problems
    assert good.checkpoints == CHECKPOINTS_KEPT
    assert bad.problems == [f"checkpoint at seq {stored[1].seq}: differs from the replay in orders"]
