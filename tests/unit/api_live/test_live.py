"""The live stream's parts without a server: the bounded queue, the framing, a message."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from ordergate.api.live import EventQueue, StreamSlots, event_message, sse
from ordergate.domain.errors import ServerBusy
from ordergate.domain.events import OrderDenied, TradingStateChanged
from ordergate.domain.values import TradingState
from ordergate.engine.subscriptions import JournaledEvent

TS = 1_704_153_600_000_000_000  # 2024-01-02T00:00:00Z


def denied(seq: int) -> JournaledEvent:
    return JournaledEvent(seq, OrderDenied(f"0-{seq}", "TRADING_HALTED", "halted", TS))


def test_event_queue_within_its_limit_gives_events_in_order() -> None:
    queue = EventQueue(limit=3)
    for seq in (1, 2, 3):
        queue.put(denied(seq))
    items, overflowed = queue.take()
    assert [i.seq for i in items] == [1, 2, 3]
    assert not overflowed
    assert len(queue) == 0
    assert not queue.ready.is_set()


def test_event_queue_past_its_limit_never_grows_and_says_it_dropped() -> None:
    queue = EventQueue(limit=3)
    for seq in range(1, 1001):
        queue.put(denied(seq))
        assert len(queue) <= 3
    items, overflowed = queue.take()
    assert overflowed
    assert items == []  # everything after the drop was dropped too, until taken
    queue.put(denied(1001))
    items, overflowed = queue.take()
    assert [i.seq for i in items] == [1001]
    assert not overflowed


def test_stream_slots_over_the_cap_are_refused_busy() -> None:
    slots = StreamSlots(cap=1)
    slots.enter()
    with pytest.raises(ServerBusy):
        slots.enter()
    slots.leave()
    slots.enter()
    assert slots.count == 1


def test_sse_frames_one_event_with_id_name_and_one_json_line() -> None:
    frame = sse("journal", {"reason": "two\nlines", "qty": Decimal("0.10")}, 7)
    assert frame.endswith(b"\n\n")
    lines = frame.decode().removesuffix("\n\n").split("\n")
    assert lines[:2] == ["id: 7", "event: journal"]
    assert len(lines) == 3  # a newline in a value cannot end the event early
    assert json.loads(lines[2].removeprefix("data: ")) == {"reason": "two\nlines", "qty": "0.10"}


def test_event_message_names_the_event_and_keeps_the_order_type_field() -> None:
    event = TradingStateChanged(None, None, TradingState.HALTED, "drill", "key:abc", TS)
    message = event_message(JournaledEvent(5, event), lambda _: None)
    assert message["event_type"] == "TradingStateChanged"
    assert message["seq"] == 5
    assert message["state"] == "HALTED"
    assert message["ts"] == "2024-01-02T00:00:00+00:00"
    assert "order" not in message
