"""Rigs for the venue conformance suite: one venue under test, and a hand on its market.

A rig gives the suite a connected `Venue`, an account with cash, one instrument, and
`set_quote` to move that instrument's best bid and ask (one market step: resting orders
that the new prices reach are matched). Resting orders fill at most `PASSIVE_CAP` per
step, so a partial fill is one step away. `events` records everything the venue streams.

Rigs: the paper venue, the ccxt adapter against the Bybit v5 simulator (real ccxt,
real HTTP and websocket on loopback), the shadow venue (a paper book over a real
account's reads and quotes; the real account here is a paper venue), NautilusTrader's
simulated exchange (`venues.nautilus`), a NautilusTrader `TradingNode` trading
through its own Bybit client against the Bybit simulator (`venues.nautilus_live`), and
the MT5 venue through the bridge against the EA simulator, on a netting and on a hedging
account (`venues.mt5`, real ZeroMQ sockets on loopback), and the Robinhood venue
through the real robin_stocks against the Robinhood simulator (`venues.robinhood`).

A rig whose venue takes limit orders only (`limit_only`) is sent the suite's market
orders as marketable limits: at the far touch plus a 5% collar, as Robinhood's own
market buys are sent.

A rig names the suite's tests its venue legitimately fails in `differences` (test name →
why): the suite expects each of them to fail (a strict xfail), so the exception stays
documented, and is noticed the day it no longer holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Protocol

from tests.venue_support import EventLog, bybit_sim_venue, recording

from ordergate.domain.instruments import Instrument
from ordergate.engine.ports import Venue
from ordergate.engine.venue_reports import Quote
from ordergate.matching import ExecutionRules, FeedStep, PricePoint, ReplayFeed, SymbolUpdate
from ordergate.simulators.bybit import BybitSimulator, SimulatorConfig
from ordergate.simulators.mt5.model import SymbolSpec
from ordergate.simulators.mt5.server import Mt5SimConfig, Mt5Simulator
from ordergate.simulators.robinhood import RobinhoodSimConfig, RobinhoodSimulator
from ordergate.venues.paper import PaperVenue
from ordergate.venues.shadow import ReadOnlyVenue, ShadowVenue

if TYPE_CHECKING:
    from ordergate.venues.nautilus import NautilusVenue

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
    differences: Mapping[str, str]

    async def set_quote(self, bid: Decimal, ask: Decimal) -> None: ...


@dataclass
class PaperRig:
    """The paper venue with no replay: the suite's `set_quote` is its whole market."""

    venue: PaperVenue
    events: EventLog
    name: str = "paper"
    account: str = ACCOUNT
    instrument: Instrument = BTC
    differences: Mapping[str, str] = field(default_factory=dict)

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
class BybitSimRig:
    """A venue trading on the Bybit v5 simulator over loopback (ccxt, or NautilusTrader's
    own Bybit client): `set_quote` moves the simulator's market, and the venue hears of
    fills over Bybit's private stream."""

    name: str
    venue: Venue
    set_simulator_quote: Callable[[Decimal, Decimal], None]
    events: EventLog
    instrument: Instrument
    account: str = ACCOUNT
    differences: Mapping[str, str] = field(default_factory=dict)

    async def set_quote(self, bid: Decimal, ask: Decimal) -> None:
        self.set_simulator_quote(bid, ask)
        await asyncio.sleep(0)


@asynccontextmanager
async def ccxt_bybit_sim_rig() -> AsyncIterator[BybitSimRig]:
    async with bybit_sim_venue(ACCOUNT, BTC.symbol, CASH, PASSIVE_CAP) as (sim, venue):
        [instrument] = venue.instruments

        def set_quote(bid: Decimal, ask: Decimal) -> None:
            sim.set_quote(instrument.symbol, bid=bid, ask=ask)

        async with recording(venue) as log:
            yield BybitSimRig("ccxt-bybit-sim", venue, set_quote, log, instrument)


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
    differences: Mapping[str, str] = field(default_factory=dict)

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


# NautilusTrader 1.221's simulated exchange, where it legitimately differs from the
# contract the other venues meet (docs/decisions/0032).
_THROUGH_THE_LIMIT = (
    "NautilusTrader's L1 matching fills a resting limit completely once the market moves "
    "through it ('assumption is there was enough liquidity to fill entire order', "
    "backtest/engine.pyx apply_fills): no partial fill lasts until a later step"
)
NAUTILUS_DIFFERENCES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "test_resting_order_fills_partly_then_fully": _THROUGH_THE_LIMIT,
        "test_cancel_after_a_partial_fill_keeps_the_fill": _THROUGH_THE_LIMIT,
        "test_an_orders_events_come_in_lifecycle_order": _THROUGH_THE_LIMIT
        + " (one fill, where the suite waits for a partial then the rest)",
        "test_an_order_beyond_the_account_is_rejected": (
            "NautilusTrader's margin account checks no margin: its risk engine skips the "
            "check for margin accounts (risk/engine.pyx _check_orders_risk, 'TODO') and "
            "its exchange never refuses for it; ordergate's own pre-trade checks must"
        ),
    }
)


@dataclass
class NautilusRig:
    """NautilusTrader's simulated exchange with no replay: `set_quote` is its market."""

    venue: NautilusVenue
    events: EventLog
    name: str = "nautilus"
    account: str = ACCOUNT
    instrument: Instrument = BTC
    differences: Mapping[str, str] = field(default_factory=lambda: NAUTILUS_DIFFERENCES)

    async def set_quote(self, bid: Decimal, ask: Decimal) -> None:
        ts = self.venue.now_ns() + MINUTE
        point = PricePoint(bid, ask)
        symbol = self.instrument.symbol
        self.venue.apply_step(FeedStep(ts, (SymbolUpdate(symbol, ts, (point,), (bid + ask) / 2),)))
        await asyncio.sleep(0)  # let the recorder take what the step streamed


@asynccontextmanager
async def nautilus_rig() -> AsyncIterator[NautilusRig]:
    # Imported here: NautilusTrader takes a second and a half to load, which the other
    # rigs' runs need not pay.
    from ordergate.venues.nautilus import NautilusVenue

    venue = NautilusVenue(
        [BTC], ReplayFeed({}), {ACCOUNT: {BTC.quote_currency: CASH}}, session="conformance"
    )
    await venue.connect()
    try:
        async with recording(venue) as log:
            yield NautilusRig(venue, log)
    finally:
        await venue.disconnect()
        venue.close()


@asynccontextmanager
async def nautilus_live_rig() -> AsyncIterator[BybitSimRig]:
    from ordergate.venues.nautilus_live import NautilusLiveConfig, NautilusLiveVenue

    sim = BybitSimulator(
        SimulatorConfig(
            balances={BTC.quote_currency: CASH},
            market="manual",
            execution_rules={BTC.symbol: ExecutionRules(max_passive_qty_per_step=PASSIVE_CAP)},
        )
    )
    await sim.start(host="127.0.0.1", port=0)
    api_key, api_secret = sim.api_credentials
    venue = NautilusLiveVenue(
        NautilusLiveConfig(
            account=ACCOUNT,
            symbols=(BTC.symbol,),
            api_key=api_key,
            api_secret=api_secret,
            http_url=sim.rest_url,
            ws_private_url=sim.ws_private_url,
        )
    )
    try:
        await venue.connect()
        [instrument] = venue.instruments

        def set_quote(bid: Decimal, ask: Decimal) -> None:
            sim.set_quote(instrument.symbol, bid=bid, ask=ask)

        async with recording(venue) as log:
            yield BybitSimRig("nautilus-live", venue, set_quote, log, instrument)
    finally:
        await venue.disconnect()
        await sim.stop()


MT5_DIFFERENCES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "test_replace_changes_quantity_and_price": (
            "MT5 cannot change a pending order's volume (TRADE_ACTION_MODIFY has no volume); "
            "the venue refuses such a replace with ORDER_NOT_REPLACEABLE before sending"
        ),
    }
)
MT5_START_MS = 1_767_225_600_000  # 2026-01-01, server time


@dataclass
class Mt5Rig:
    """The MT5 venue against the EA simulator: `set_quote` is a tick, a minute after the
    last, at the simulated trade server; the venue hears of fills on the EA's events."""

    name: str
    venue: Venue
    simulator: Mt5Simulator
    events: EventLog
    instrument: Instrument
    account: str = ACCOUNT
    differences: Mapping[str, str] = field(default_factory=lambda: MT5_DIFFERENCES)
    ticks: int = 0

    async def set_quote(self, bid: Decimal, ask: Decimal) -> None:
        self.ticks += 1
        time_ms = MT5_START_MS + self.ticks * 60_000
        self.simulator.set_quote(self.instrument.symbol, bid, ask, time_ms)
        await asyncio.sleep(0)


def btcusd_spec() -> SymbolSpec:
    """BTC as an MT5 broker lists it: one coin a lot, 0.001 lot steps, one decimal."""
    return SymbolSpec(
        "BTCUSD",
        digits=1,
        contract_size=D(1),
        volume_min=D("0.001"),
        volume_step=D("0.001"),
        volume_max=D(100),
        currency_base="BTC",
        currency_profit="USD",
    )


@asynccontextmanager
async def mt5_rig(margin_mode: str) -> AsyncIterator[Mt5Rig]:
    from ordergate.venues.mt5 import Mt5Config, Mt5Venue

    spec = btcusd_spec()
    simulator = Mt5Simulator(
        Mt5SimConfig(
            margin_mode=margin_mode,
            symbols=(spec,),
            balance=CASH,
            commission_per_lot=D(5),
            resting_liquidity={spec.symbol: PASSIVE_CAP},
            heartbeat_ms=50,
        )
    )
    await simulator.start()
    simulator.set_quote(spec.symbol, D("50000.0"), D("50010.0"), MT5_START_MS)
    venue = Mt5Venue(
        Mt5Config(account=ACCOUNT, rep_url=simulator.rep_url, pub_url=simulator.pub_url)
    )
    try:
        await venue.connect()
        [instrument] = venue.instruments
        async with recording(venue) as log:
            yield Mt5Rig(f"mt5-{margin_mode}", venue, simulator, log, instrument)
    finally:
        await venue.disconnect()
        await simulator.stop()


def mt5_netting_rig() -> AbstractAsyncContextManager[Mt5Rig]:
    return mt5_rig("netting")


def mt5_hedging_rig() -> AbstractAsyncContextManager[Mt5Rig]:
    return mt5_rig("hedging")


ROBINHOOD_DIFFERENCES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "test_replace_changes_quantity_and_price": (
            "Robinhood cannot change a stock order (no replace endpoint); the venue refuses "
            "a replace with ORDER_NOT_REPLACEABLE"
        ),
        "test_fees_reduce_the_balance": (
            "a Robinhood account is a cash account: a buy pays its notional out of cash, so "
            "the balance falls by more than the fees"
        ),
    }
)


@dataclass
class RobinhoodRig:
    """The Robinhood venue against the simulator: `set_quote` is one market step."""

    venue: Venue
    simulator: RobinhoodSimulator
    events: EventLog
    instrument: Instrument
    name: str = "robinhood"
    account: str = ACCOUNT
    differences: Mapping[str, str] = field(default_factory=lambda: ROBINHOOD_DIFFERENCES)
    limit_only: bool = True

    async def set_quote(self, bid: Decimal, ask: Decimal) -> None:
        self.simulator.set_quote(self.instrument.symbol, bid=bid, ask=ask)
        await asyncio.sleep(0)


@asynccontextmanager
async def robinhood_rig() -> AsyncIterator[RobinhoodRig]:
    from ordergate.venues.robinhood import RobinhoodConfig, RobinhoodVenue

    simulator = RobinhoodSimulator(
        RobinhoodSimConfig(symbols=("AAPL",), cash=CASH, resting_liquidity={"AAPL": PASSIVE_CAP})
    )
    await simulator.start()
    venue = RobinhoodVenue(
        RobinhoodConfig(
            account=ACCOUNT,
            username=simulator.config.username,
            password=simulator.config.password,
            symbols=("AAPL",),
            base_url=simulator.base_url,
            poll_interval=0.02,
            timeout=5.0,
        )
    )
    try:
        await venue.connect()
        [instrument] = venue.instruments
        async with recording(venue) as log:
            yield RobinhoodRig(venue, simulator, log, instrument)
    finally:
        await venue.disconnect()
        await simulator.stop()
