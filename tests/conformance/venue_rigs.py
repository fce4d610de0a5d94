"""Rigs for the venue conformance suite: one venue under test, and a hand on its market.

A rig gives the suite a connected `Venue`, an account with cash, one instrument, and
`set_quote` to move that instrument's best bid and ask (one market step: resting orders
that the new prices reach are matched). Resting orders fill at most `PASSIVE_CAP` per
step, so a partial fill is one step away. `events` records everything the venue streams.

Rigs: the paper venue, the ccxt adapter against the Bybit v5 simulator (real ccxt,
real HTTP and websocket on loopback), and the shadow venue (a paper book over a real
account's reads and quotes; the real account here is a paper venue).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from tests.venue_support import EventLog, bybit_sim_venue, recording

from ordergate.domain.instruments import Instrument
from ordergate.engine.ports import Venue
from ordergate.engine.venue_reports import Quote
from ordergate.matching import ExecutionRules, FeedStep, PricePoint, ReplayFeed, SymbolUpdate
from ordergate.venues.ccxt import CcxtVenue
from ordergate.venues.paper import PaperVenue
from ordergate.venues.shadow import ReadOnlyVenue, ShadowVenue

D = Decimal
ACCOUNT = "conformance"
CASH = D(100_000)
PASSIVE_CAP = D("0.005")  # most of one resting order that fills per market step
MINUTE = 60_000_000_000

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


@dataclass
class CcxtBybitSimRig:
    """The ccxt adapter trading on the Bybit v5 simulator over loopback."""

    venue: CcxtVenue
    set_simulator_quote: Callable[[Decimal, Decimal], None]
    events: EventLog
    instrument: Instrument
    name: str = "ccxt-bybit-sim"
    account: str = ACCOUNT

    async def set_quote(self, bid: Decimal, ask: Decimal) -> None:
        self.set_simulator_quote(bid, ask)
        await asyncio.sleep(0)


@asynccontextmanager
async def ccxt_bybit_sim_rig() -> AsyncIterator[CcxtBybitSimRig]:
    async with bybit_sim_venue(ACCOUNT, BTC.symbol, CASH, PASSIVE_CAP) as (sim, venue):
        [instrument] = venue.instruments

        def set_quote(bid: Decimal, ask: Decimal) -> None:
            sim.set_quote(instrument.symbol, bid=bid, ask=ask)

        async with recording(venue) as log:
            yield CcxtBybitSimRig(venue, set_quote, log, instrument)


@dataclass
class Quotes:
    """The real market as the shadow venue reads it: the latest quote per symbol."""

    latest: dict[str, Quote]

    def quote(self, symbol: str) -> Quote | None:
        return self.latest.get(symbol)


@dataclass
class ShadowRig:
    """The shadow venue: the suite's `set_quote` is a new live quote, pulled at once."""

    venue: ShadowVenue
    quotes: Quotes
    events: EventLog
    name: str = "shadow"
    account: str = ACCOUNT
    instrument: Instrument = BTC

    async def set_quote(self, bid: Decimal, ask: Decimal) -> None:
        ts = self.venue.now_ns + MINUTE
        symbol = self.instrument.symbol
        self.quotes.latest[symbol] = Quote(symbol, bid, ask, (bid + ask) / 2, ts)
        self.venue.pull_quotes()
        await asyncio.sleep(0)  # let the recorder take what the step streamed


@asynccontextmanager
async def shadow_rig() -> AsyncIterator[ShadowRig]:
    real = PaperVenue([BTC], ReplayFeed({}), {ACCOUNT: {BTC.quote_currency: CASH}}, session="real")
    quotes = Quotes({})
    venue = ShadowVenue(
        ReadOnlyVenue(real),
        quotes,
        [BTC],
        [ACCOUNT],
        session="conformance",
        start_ns=0,
        rules={BTC.symbol: ExecutionRules(max_passive_qty_per_step=PASSIVE_CAP)},
    )
    await venue.connect()
    async with recording(venue) as log:
        yield ShadowRig(venue, quotes, log)
    await venue.disconnect()
