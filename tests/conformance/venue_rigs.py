"""Rigs for the venue conformance suite: one venue under test, and a hand on its market.

A rig gives the suite a connected `Venue`, an account with cash, one instrument, and
`set_quote` to move that instrument's best bid and ask (one market step: resting orders
that the new prices reach are matched). Resting orders fill at most `PASSIVE_CAP` per
step, so a partial fill is one step away. `events` records everything the venue streams.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from ordergate.domain.instruments import Instrument
from ordergate.engine.ports import Venue, VenueEvent
from ordergate.venues.paper import (
    ExecutionRules,
    FeedStep,
    PaperVenue,
    PricePoint,
    ReplayFeed,
    SymbolUpdate,
)

D = Decimal
ACCOUNT = "conformance"
CASH = D(100_000)
PASSIVE_CAP = D("0.005")  # most of one resting order that fills per market step
MINUTE = 60_000_000_000
WAIT_SECONDS = 10.0

BTC = Instrument(
    symbol="BTCUSDT",
    base_currency="BTC",
    quote_currency="USDT",
    tick_size=D("0.1"),
    lot_step=D("0.001"),
    min_qty=D("0.001"),
    min_notional=D("5"),
    contract_size=D(1),
    margin_rate=D("0.01"),
    maker_fee_rate=D("0.0002"),
    taker_fee_rate=D("0.00055"),
)


@dataclass
class EventLog:
    """Everything a venue streamed, read by one background task."""

    events: list[VenueEvent] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def record(self, stream: AsyncIterator[VenueEvent]) -> None:
        async for event in stream:
            async with self._changed:
                self.events.append(event)
                self._changed.notify_all()

    async def wait_for(
        self, predicate: Callable[[list[VenueEvent]], bool], what: str
    ) -> list[VenueEvent]:
        """Wait until `predicate(events)` holds; fail the test naming `what` if it never does."""

        async def satisfied() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: predicate(self.events))

        try:
            await asyncio.wait_for(satisfied(), WAIT_SECONDS)
        except TimeoutError:
            kinds = [type(e).__name__ for e in self.events]
            raise AssertionError(f"timed out waiting for {what}; streamed: {kinds}") from None
        return self.events

    def of(self, client_order_id: str) -> list[VenueEvent]:
        return [e for e in self.events if getattr(e, "client_order_id", None) == client_order_id]


class VenueRig(Protocol):
    name: str
    venue: Venue
    account: str
    instrument: Instrument
    events: EventLog

    async def set_quote(self, bid: Decimal, ask: Decimal) -> None: ...


@dataclass
class PaperRig:
    """The paper venue with no replay: the suite's `set_quote` is its whole market."""

    venue: PaperVenue
    events: EventLog
    name: str = "paper"
    account: str = ACCOUNT
    instrument: Instrument = BTC

    async def set_quote(self, bid: Decimal, ask: Decimal) -> None:
        ts = self.venue.now_ns() + MINUTE
        point = PricePoint(bid, ask)
        symbol = self.instrument.symbol
        self.venue.apply_step(FeedStep(ts, (SymbolUpdate(symbol, ts, (point,), (bid + ask) / 2),)))
        await asyncio.sleep(0)  # let the recorder take what the step streamed


@asynccontextmanager
async def recording(venue: Venue) -> AsyncIterator[EventLog]:
    log = EventLog()
    reader = asyncio.create_task(log.record(venue.events()))
    try:
        yield log
    finally:
        reader.cancel()
        with suppress(asyncio.CancelledError):
            await reader


@asynccontextmanager
async def paper_rig() -> AsyncIterator[PaperRig]:
    venue = PaperVenue(
        [BTC],
        ReplayFeed({}),
        {ACCOUNT: {BTC.quote_currency: CASH}},
        session="conformance",
        rules={BTC.symbol: ExecutionRules(max_passive_qty_per_step=PASSIVE_CAP)},
    )
    await venue.connect()
    async with recording(venue) as log:
        yield PaperRig(venue, log)
    await venue.disconnect()
