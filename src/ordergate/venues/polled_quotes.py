"""Market data for venues ordergate reads by polling: the latest quote per symbol.

A live venue's prices arrive by REST (`fetch`, e.g. `CcxtVenue.fetch_quotes`), every
`interval` seconds. A poll that fails keeps the last quotes: their timestamps stay
old, so the engine's feed gate (`feed_stale_after_ms`) closes on them rather than on a
price made up here. A quote older than the one held is ignored (responses can overtake
each other).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

from ordergate.domain.errors import InvalidRequest, VenueError
from ordergate.engine.venue_reports import Quote

log = structlog.get_logger("ordergate.market_data")


class PolledQuotes:
    """The `MarketData` port over a quote fetch polled at a fixed interval."""

    def __init__(self, fetch: Callable[[], Awaitable[list[Quote]]], interval: float) -> None:
        if interval <= 0:
            raise InvalidRequest("the quote poll interval must be positive")
        self._fetch = fetch
        self._interval = interval
        self._quotes: dict[str, Quote] = {}

    def quote(self, symbol: str) -> Quote | None:
        return self._quotes.get(symbol)

    async def refresh(self) -> None:
        """Fetch once and keep what is newer than what is held."""
        for quote in await self._fetch():
            held = self._quotes.get(quote.symbol)
            if held is None or quote.ts >= held.ts:
                self._quotes[quote.symbol] = quote

    async def run(self) -> None:
        """Poll until cancelled; a failed poll is logged and the next one tried."""
        while True:
            try:
                await self.refresh()
            except VenueError as exc:
                log.warning("quote poll failed", error=str(exc))
            await asyncio.sleep(self._interval)
