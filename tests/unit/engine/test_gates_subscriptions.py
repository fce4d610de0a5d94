"""Subscriptions (seed 003's hooks): host code hears every journaled event, after the commit.

`Engine.subscribe(callback)` and `Engine.stream()` deliver each event with its journal
sequence, in journal order, only once it is journaled; fills, cancels and rejections
included, so a strategy can release its own bookkeeping.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from engine_support import Harness, Sessions
from gates_support import D, order, placed, start
from tests.waiting import TIMEOUT, eventually

from ordergate.domain.errors import RejectedByVenue
from ordergate.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderFilled,
    OrderRejected,
    TradingStateChanged,
)
from ordergate.domain.values import TradingState
from ordergate.engine.commands import CancelOrder, SetTradingState
from ordergate.engine.subscriptions import JournaledEvent


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


class Recorder:
    """A callback that keeps what it hears and checks the journal already holds it.

    At each call it notes a seq beyond the store's committed head (the store advances its
    head only once an append has committed); `not_in_journal` then also reads the journal
    back and names every seq whose stored event is not the one heard.
    """

    def __init__(self, h: Harness) -> None:
        self.h = h
        self.items: list[JournaledEvent] = []
        self.ahead_of_journal: list[int] = []

    def __call__(self, item: JournaledEvent) -> None:
        if item.seq > self.h.store.head_seq:
            self.ahead_of_journal.append(item.seq)
        self.items.append(item)

    async def not_in_journal(self) -> list[int]:
        """Seqs heard before the journal held them, or that the journal holds otherwise."""
        stored = await self.h.stored_events()
        differing = [
            i.seq for i in self.items if i.seq > len(stored) or stored[i.seq - 1] != i.event
        ]
        return sorted(set(self.ahead_of_journal) | set(differing))

    def types(self) -> list[type]:
        return [type(i.event) for i in self.items]


async def lifecycle(h: Harness) -> None:
    """A fill, a cancel, a venue rejection and a denial."""
    await placed(h, order(qty="0.01"))
    resting = await placed(h, order(qty="0.01", price="49000"))
    await h.engine.cancel(CancelOrder(resting.order_id))
    await h.settle()  # the cancel reaches the venue before the next request is scripted
    h.venue.fail_next.append(RejectedByVenue("no", code="VENUE_REJECTED"))
    await placed(h, order(qty="0.02", price="48000"))
    await placed(h, order(qty="0.0015"))
    await h.settle()


async def test_subscribe_receives_every_journaled_event_in_order(sessions):
    h = await start(sessions)
    before = h.store.head_seq
    recorder = Recorder(h)
    h.engine.subscribe(recorder)

    await lifecycle(h)

    seqs = [i.seq for i in recorder.items]
    assert seqs == list(range(before + 1, h.store.head_seq + 1))
    assert [i.event for i in recorder.items] == (await h.stored_events())[before:]
    assert await recorder.not_in_journal() == []


async def test_subscribe_includes_fills_cancels_rejections_and_denials(sessions):
    h = await start(sessions)
    recorder = Recorder(h)
    h.engine.subscribe(recorder)

    await lifecycle(h)

    for kind in (OrderAccepted, OrderFilled, OrderCanceled, OrderRejected, OrderDenied):
        assert kind in recorder.types(), kind.__name__


async def test_subscribe_includes_control_events(sessions):
    h = await start(sessions)
    recorder = Recorder(h)
    h.engine.subscribe(recorder)

    await h.engine.set_trading_state(SetTradingState(TradingState.HALTED, "why", "ops", "acct"))

    assert recorder.types() == [TradingStateChanged]


async def test_subscribe_callback_never_runs_before_the_journal_holds_the_event(sessions):
    h = await start(sessions)
    recorder = Recorder(h)
    h.engine.subscribe(recorder)

    await lifecycle(h)
    await lifecycle(h)

    assert recorder.items
    assert await recorder.not_in_journal() == []


async def test_unsubscribe_stops_delivery(sessions):
    h = await start(sessions)
    recorder = Recorder(h)
    unsubscribe = h.engine.subscribe(recorder)
    await placed(h, order(qty="0.01"))
    heard = len(recorder.items)

    unsubscribe()
    await placed(h, order(qty="0.01"))
    unsubscribe()  # twice is harmless

    assert heard > 0
    assert len(recorder.items) == heard


async def test_subscribe_failing_callback_stops_neither_engine_nor_other_subscribers(sessions):
    h = await start(sessions)
    calls: list[int] = []

    def failing(item: JournaledEvent) -> None:
        calls.append(item.seq)
        raise RuntimeError("subscriber bug")

    h.engine.subscribe(failing)
    recorder = Recorder(h)
    h.engine.subscribe(recorder)
    before = h.store.head_seq

    await lifecycle(h)
    view = await placed(h, order(qty="0.01"))

    assert h.engine.running
    assert view.filled_qty == D("0.01")
    assert [i.seq for i in recorder.items] == list(range(before + 1, h.store.head_seq + 1))
    assert len(calls) > 1  # still called for later batches


async def test_stream_yields_the_same_events_as_a_callback(sessions):
    h = await start(sessions)
    recorder = Recorder(h)
    h.engine.subscribe(recorder)
    streamed: list[JournaledEvent] = []
    started = asyncio.Event()

    async def consume() -> None:
        stream = h.engine.stream()
        started.set()
        while True:
            streamed.append(await anext(stream))

    task = asyncio.create_task(consume())
    await started.wait()
    await asyncio.sleep(0)  # let the iterator register before anything is journaled

    await lifecycle(h)
    await eventually(lambda: len(streamed) >= len(recorder.items), message="the stream to catch up")
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

    assert streamed == recorder.items
    assert len(streamed) > 5


async def test_stream_closed_gets_nothing_more(sessions):
    h = await start(sessions)
    stream = h.engine.stream()
    first = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)
    await placed(h, order(qty="0.01"))
    item = await first

    await stream.aclose()
    await placed(h, order(qty="0.01"))

    assert item.seq > 0
    assert h.engine.running


async def test_stream_sees_events_journaled_between_creation_and_first_read(sessions):
    h = await start(sessions)
    stream = h.engine.stream()

    view = await placed(h, order(qty="0.01"))
    item = await asyncio.wait_for(anext(stream), TIMEOUT)
    await stream.aclose()

    assert getattr(item.event, "order_id", None) == view.order_id
