"""`InProcessVenue`: the `Venue` requests of a book that matches in this process.

The paper venue and the shadow venue both trade on a `MatchingEngine` in ordergate's own
process; they differ in where prices come from (a replay, the real venue's quotes) and
how the book starts. What they share is here: requests are `async def` that finish
without suspending, and what they cause is queued in production order and delivered by
`events()` (one consumer; a deque and an `asyncio.Event`, not a task per event). A
submit returns a receipt when the client order id is new; its acceptance or rejection is
the receipt itself and the stream (numbered without gaps) carries only what follows.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Mapping
from decimal import Decimal
from typing import Final

from ordergate.domain.errors import RetryableVenueError
from ordergate.domain.instruments import Instrument
from ordergate.engine.venue_reports import (
    Quote,
    SubmitReceipt,
    VenueBalance,
    VenueEvent,
    VenueFill,
    VenueOrderRejected,
    VenueOrderReport,
    VenueOrderRequest,
    VenuePosition,
)
from ordergate.matching.core import CLOSED_ORDER_HISTORY, MatchingEngine

# Executions per account the venue still lists (`get_fills`), as many as closed orders.
FILL_HISTORY: Final = CLOSED_ORDER_HISTORY


class InProcessVenue:
    """A `Venue` over a `MatchingEngine` held in this process (see the module)."""

    def __init__(self, core: MatchingEngine, name: str) -> None:
        self._core = core
        self._name = name
        self._connected = False
        self._queue: deque[VenueEvent] = deque()
        # The latest executions since this venue started, per account (a restart forgets
        # them, as the rest of its memory; a venue's execution history ends somewhere).
        self._fills: dict[str, deque[VenueFill]] = {}
        self._ready = asyncio.Event()

    @property
    def name(self) -> str:
        return self._name

    @property
    def live(self) -> bool:
        return False

    @property
    def acceptance_window(self) -> float:
        return 0.0  # in process: a request is carried out, or not, before its call returns

    @property
    def instruments(self) -> Mapping[str, Instrument]:
        return self._core.instruments

    def quote(self, symbol: str) -> Quote | None:
        """The quote the book last matched against (what its fills are priced at)."""
        return self._core.quote(symbol)

    # --- Venue -------------------------------------------------------------------------------

    async def connect(self) -> None:
        self._connected = True

    async def disconnect(self) -> None:
        self._connected = False

    async def submit_order(self, request: VenueOrderRequest) -> SubmitReceipt:
        self._require_connection()
        venue_order_id, events = self._core.submit(request, stream_ack=False)
        rejected = bool(events) and isinstance(events[0], VenueOrderRejected)
        self._publish(events)
        return SubmitReceipt(venue_order_id, accepted=not rejected)

    async def cancel_order(self, account: str, symbol: str, client_order_id: str) -> None:
        self._require_connection()
        self._publish(self._core.cancel(account, symbol, client_order_id))

    async def replace_order(
        self,
        account: str,
        symbol: str,
        client_order_id: str,
        qty: Decimal,
        price: Decimal | None,
        stop_price: Decimal | None,
    ) -> None:
        self._require_connection()
        self._publish(self._core.replace(account, symbol, client_order_id, qty, price, stop_price))

    async def get_order(
        self, account: str, symbol: str, client_order_id: str
    ) -> VenueOrderReport | None:
        self._require_connection()
        return self._core.order_report(account, symbol, client_order_id)

    async def get_open_orders(
        self, account: str, symbol: str | None = None
    ) -> list[VenueOrderReport]:
        self._require_connection()
        return self._core.open_orders(account, symbol)

    async def get_positions(self, account: str) -> list[VenuePosition]:
        self._require_connection()
        return self._core.positions(account)

    async def get_balances(self, account: str) -> list[VenueBalance]:
        self._require_connection()
        return self._core.balances(account)

    async def get_fills(self, account: str, since_ts: int = 0) -> list[VenueFill]:
        self._require_connection()
        return [f for f in self._fills.get(account, ()) if f.ts >= since_ts]

    async def events(self) -> AsyncIterator[VenueEvent]:
        """Yield the venue's events in production order, waiting when there are none."""
        queue = self._queue
        while True:
            while queue:
                yield queue.popleft()
            self._ready.clear()
            await self._ready.wait()

    # --- helpers -----------------------------------------------------------------------------

    def _publish(self, events: list[VenueEvent]) -> None:
        if not events:
            return
        self._queue.extend(events)
        self._ready.set()
        for event in events:
            if isinstance(event, VenueFill):
                fills = self._fills.get(event.account)
                if fills is None:
                    fills = self._fills[event.account] = deque(maxlen=FILL_HISTORY)
                fills.append(event)

    def _require_connection(self) -> None:
        if not self._connected:
            raise RetryableVenueError(f"venue {self.name} is not connected")
