"""Journaled events for host code: callbacks and async iterators, after the commit.

Seed 003's hooks: a strategy can invalidate its caches and release its own bookkeeping
when an order fills, cancels or is rejected. Delivery happens only once the events are
journaled, with their journal sequence, in journal order.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence

import msgspec
import structlog

from ordergate.domain.events import Event

log = structlog.get_logger("ordergate.subscriptions")


class JournaledEvent(msgspec.Struct, frozen=True, gc=False):
    seq: int
    event: Event


Callback = Callable[[JournaledEvent], None]


class Subscriptions:
    def __init__(self, queue_limit: int = 100_000) -> None:
        self._callbacks: list[Callback] = []
        self._queues: list[_Stream] = []
        self._queue_limit = queue_limit

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        """Call `callback` with each journaled event; return a function that unsubscribes."""
        self._callbacks.append(callback)

        def unsubscribe() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return unsubscribe

    def stream(self) -> AsyncIterator[JournaledEvent]:
        """Journaled events from this call on (it listens at once, not at the first read).
        A reader that falls more than the queue limit behind loses the oldest ones (and
        a warning is logged). `aclose()` it, or leave its `async for`, to stop listening."""
        stream = _Stream(self._queue_limit)
        self._queues.append(stream)
        return self._read(stream)

    async def _read(self, stream: _Stream) -> AsyncIterator[JournaledEvent]:
        try:
            while True:
                while stream.items:
                    yield stream.items.popleft()
                stream.ready.clear()
                await stream.ready.wait()
        finally:
            self._queues.remove(stream)

    def publish(self, last_seq: int, events: Sequence[Event]) -> None:
        if not self._callbacks and not self._queues:
            return
        first = last_seq - len(events) + 1
        journaled = [JournaledEvent(first + i, e) for i, e in enumerate(events)]
        for callback in list(self._callbacks):
            for item in journaled:
                try:
                    callback(item)
                except Exception:  # one bad event must not cost it the others
                    log.exception("a subscriber's callback failed", callback=repr(callback))
        for stream in self._queues:
            stream.extend(journaled)


class _Stream:
    def __init__(self, limit: int) -> None:
        self.items: deque[JournaledEvent] = deque(maxlen=limit)
        self.ready = asyncio.Event()
        self.limit = limit

    def extend(self, items: list[JournaledEvent]) -> None:
        if len(self.items) + len(items) > self.limit:
            log.warning("a subscriber fell behind; oldest events dropped", limit=self.limit)
        self.items.extend(items)
        self.ready.set()
