"""`VenueEventQueue`: the event stream and execution history of a venue held in process.

The paper, shadow and NautilusTrader venues carry out requests and market steps without
suspending; what they cause is queued here in production order and delivered by
`events()` to one consumer (a deque and an `asyncio.Event`, not a task per event).
Fills are also kept per account, the latest `FILL_HISTORY`, for `get_fills`: a venue's
execution history ends somewhere, and a restart forgets it with the rest of its memory.

A caller that drives the venue itself, step by step, reads what each step caused with
`drain()` instead (the parity report does).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterable
from typing import Final

from ordergate.engine.venue_reports import VenueEvent, VenueFill

# Executions per account the venue still lists, as many as the closed orders it answers for.
FILL_HISTORY: Final = 10_000


class VenueEventQueue:
    """Queued venue events for one consumer, and each account's latest fills."""

    def __init__(self) -> None:
        self._queue: deque[VenueEvent] = deque()
        self._ready = asyncio.Event()
        self._fills: dict[str, deque[VenueFill]] = {}

    def publish(self, events: Iterable[VenueEvent]) -> None:
        queued = False
        for event in events:
            self._queue.append(event)
            queued = True
            if isinstance(event, VenueFill):
                fills = self._fills.get(event.account)
                if fills is None:
                    fills = self._fills[event.account] = deque(maxlen=FILL_HISTORY)
                fills.append(event)
        if queued:
            self._ready.set()

    def fills(self, account: str, since_ts: int) -> list[VenueFill]:
        return [f for f in self._fills.get(account, ()) if f.ts >= since_ts]

    def drain(self) -> list[VenueEvent]:
        """Everything queued, oldest first, without waiting (and taken off the queue)."""
        events = list(self._queue)
        self._queue.clear()
        return events

    async def events(self) -> AsyncIterator[VenueEvent]:
        """Yield the venue's events in production order, waiting when there are none."""
        queue = self._queue
        while True:
            while queue:
                yield queue.popleft()
            self._ready.clear()
            await self._ready.wait()
