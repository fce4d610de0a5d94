"""The venue's event stream and execution history, as the paper venue keeps them.

Requests and market steps finish without suspending; what they cause is queued in
production order and delivered by `events()` to one consumer (a deque and an
`asyncio.Event`, not a task per event). Fills are also kept per account, the latest
`FILL_HISTORY`, for `get_fills`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterable
from typing import Final

from ordergate.engine.venue_reports import VenueEvent, VenueFill

FILL_HISTORY: Final = 10_000


class EventStream:
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

    async def events(self) -> AsyncIterator[VenueEvent]:
        """Yield the venue's events in production order, waiting when there are none."""
        queue = self._queue
        while True:
            while queue:
                yield queue.popleft()
            self._ready.clear()
            await self._ready.wait()
