"""`InProcessVenue`: the `Venue` requests of a book that matches in this process.

The paper venue and the shadow venue both trade on a `MatchingEngine` in ordergate's own
process; they differ in where prices come from (a replay, the real venue's quotes) and
how the book starts. What they share is here: requests are `async def` that finish
without suspending, and what they cause is queued in production order and delivered by
`events()` (`VenueEventQueue`). A submit returns a receipt when the client order id is
new; its acceptance or rejection is the receipt itself and the stream (numbered without
gaps) carries only what follows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from decimal import Decimal

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
from ordergate.matching.core import MatchingEngine
from ordergate.venues.event_queue import VenueEventQueue


class InProcessVenue:
    """A `Venue` over a `MatchingEngine` held in this process (see the module)."""

    def __init__(self, core: MatchingEngine, name: str) -> None:
        self._core = core
        self._name = name
        self._connected = False
        self._stream = VenueEventQueue()

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
        return self._stream.fills(account, since_ts)

    def events(self) -> AsyncIterator[VenueEvent]:
        return self._stream.events()

    def drain_events(self) -> list[VenueEvent]:
        """What the venue has queued, without waiting: for a caller that steps the market
        itself and reads between steps (the parity report), instead of `events()`."""
        return self._stream.drain()

    # --- helpers -----------------------------------------------------------------------------

    def _publish(self, events: list[VenueEvent]) -> None:
        self._stream.publish(events)

    def _require_connection(self) -> None:
        if not self._connected:
            raise RetryableVenueError(f"venue {self.name} is not connected")
