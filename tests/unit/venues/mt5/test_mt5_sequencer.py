"""The event sequencer: whatever the PUB socket drops, repeats or reorders, the client
delivers each event once and in order, asking `events_since` for what it missed; a new
session stops delivery until the client has taken a snapshot."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ordergate.venues.mt5.sequencer import EventSequencer


def event(seq: int, session: str = "s1", kind: str = "fill") -> dict[str, Any]:
    return {"v": 1, "session": session, "seq": seq, "ts": seq, "type": kind}


def heartbeat(last: int, session: str = "s1") -> dict[str, Any]:
    return event(last, session, "heartbeat")


def test_in_order_frames_pass_straight_through_and_repeats_are_dropped():
    seq = EventSequencer()

    assert [f["seq"] for f in seq.accept(event(1))] == [1]
    assert seq.accept(event(1)) == []
    assert [f["seq"] for f in seq.accept(event(2))] == [2]
    assert seq.needs is None


def test_a_gap_holds_what_follows_until_events_since_fills_it():
    seq = EventSequencer()
    seq.accept(event(1))

    assert seq.accept(event(3)) == []
    assert seq.needs == 1
    assert [f["seq"] for f in seq.recover([event(2), event(3)])] == [2, 3]
    assert seq.needs is None


def test_a_heartbeat_or_a_reply_reveals_a_gap_at_the_tail():
    seq = EventSequencer()
    seq.accept(event(1))

    seq.accept(heartbeat(2))
    assert seq.needs == 1
    seq.recover([event(2)])
    seq.observe("s1", 4)
    assert seq.needs == 2


def test_another_session_stops_delivery_until_reset():
    seq = EventSequencer()
    seq.accept(event(1))

    assert seq.accept(event(1, "s2")) == []
    assert (seq.restarted, seq.needs) == (True, None)
    seq.reset("s2", 1)
    assert [f["seq"] for f in seq.accept(event(2, "s2"))] == [2]
    # A frame of the old session still in the socket's buffer is stale, not a restart.
    assert seq.accept(heartbeat(9, "s1")) == []
    assert (seq.restarted, seq.needs) == (False, None)


@given(
    count=st.integers(min_value=1, max_value=40),
    faults=st.lists(st.sampled_from(["ok", "drop", "dup", "swap"]), max_size=40),
)
def test_any_drop_repeat_or_swap_delivers_every_event_once_in_order(count, faults):
    sent = [event(n) for n in range(1, count + 1)]
    wire: list[dict[str, Any]] = []
    held: dict[str, Any] | None = None
    for index, frame in enumerate(sent):
        fault = faults[index] if index < len(faults) else "ok"
        if fault == "drop":
            continue
        if fault == "swap" and held is None:
            held = frame
            continue
        wire += [frame, frame] if fault == "dup" else [frame]
        if held is not None:
            wire.append(held)
            held = None
    if held is not None:
        wire.append(held)
    wire.append(heartbeat(count))  # the tail is known missing by the next heartbeat

    seq = EventSequencer()
    delivered = []
    for frame in wire:
        delivered += seq.accept(frame)
    while (since := seq.needs) is not None:  # events_since(since): the EA's ring
        delivered += seq.recover(f for f in sent if f["seq"] > since)

    assert [f["seq"] for f in delivered] == list(range(1, count + 1))
