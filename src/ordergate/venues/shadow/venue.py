"""`ShadowVenue`: the real venue's book and quotes, a paper book's fills, nothing sent.

It is two ports: the `Venue` (orders, queries, an event stream) and the `MarketData`
(`quote`). Orders go to a `MatchingEngine` (the deterministic core the paper venue and
the simulators share), never to the real venue, which it holds only as `VenueReads`:
there is no method to send with. The shadow book moves with the real venue's quotes:
`pull_quotes` (run by `run` as a feed) turns each new quote into a market step stamped
with the quote's own time (never earlier than the book's), so resting shadow orders fill
as the live market moves.

On `connect` a fresh shadow book starts from the real account: its balances as cash, its
positions at their average prices. ordergate's positions are the sum of fills and
reconciliation never adopts a position, but it adopts fills of orders it never placed:
so `get_fills` also reports, for each opening position, one fill of an external order
(`shadow-open-<account>-<symbol>`, the whole position at its average price, no fee), and
the start-up reconciliation journals them, making the journal's positions the venue's.
A shadow book re-seeded from a journal (`restore`, after a restart) reads no opening
book and reports no opening fills: the journal holds them already. The real account's
own open orders are never copied: they are real, and the shadow report lists them.

Requests are those of every book in this process (`venues.in_process`), as the paper
venue's are. It is never `live`: nothing is sent, no money is at stake, no arming is
needed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Final

import structlog

from ordergate.domain.instruments import Instrument
from ordergate.domain.values import ZERO, LiquiditySide, Side
from ordergate.engine.ports import MarketData
from ordergate.engine.venue_reports import (
    Quote,
    VenueBalance,
    VenueFill,
    VenueOrderReport,
    VenuePosition,
)
from ordergate.matching.core import MatchingEngine
from ordergate.matching.feed import FeedStep, SymbolUpdate
from ordergate.matching.marketdata import PricePoint
from ordergate.matching.restore import RestoredOrder
from ordergate.matching.rules import ExecutionRules
from ordergate.venues.in_process import InProcessVenue
from ordergate.venues.shadow.reads import VenueReads

log = structlog.get_logger("ordergate.venues.shadow")

# Venue order and trade ids of the shadow book start with this: a journal's orders can be
# told apart from a real venue's (`shadow-s12-O3`).
SHADOW_ID_PREFIX: Final = "shadow-"
# Client order ids of the external orders that carry the opening fills.
OPENING_PREFIX: Final = "shadow-open-"
# How often the feed looks for new quotes: it reads the real wiring's market data in
# memory (the ticker poll, the paper replay), so asking often costs nothing.
QUOTE_POLL_SECONDS: Final = 0.05


def opening_order_id(account: str, symbol: str) -> str:
    """The client order id of the external order that opens `account`'s `symbol`."""
    return f"{OPENING_PREFIX}{account}-{symbol}"


class ShadowVenue(InProcessVenue):
    """A paper book over the real venue's account and live quotes: a `Venue` and
    `MarketData` that send nothing to the real venue."""

    def __init__(
        self,
        real: VenueReads,
        quotes: MarketData,
        instruments: Sequence[Instrument],
        accounts: Sequence[str],
        *,
        session: str,
        start_ns: int,
        rules: Mapping[str, ExecutionRules] | None = None,
    ) -> None:
        """Shadow `real` for `accounts`, matching against `quotes` (the real wiring's
        market data). `session` keeps ids unique across restarts; `start_ns` is the book's
        time before its first quote (the real wiring's clock now)."""
        core = MatchingEngine(
            instruments,
            {account: {} for account in accounts},
            session=f"{SHADOW_ID_PREFIX}{session}",
            rules=rules,
            start_ns=start_ns,
        )
        super().__init__(core, f"shadow-{real.name}")
        self._real = real
        self._quotes = quotes
        self._accounts = tuple(accounts)
        self._session = session
        self._symbols = tuple(sorted(core.instruments))
        self._applied: dict[str, Quote] = {}
        self._seeded = False
        self._opening: dict[str, list[VenueFill]] = {}

    @property
    def now_ns(self) -> int:
        """The shadow book's time: the last quote it matched, or its start."""
        return self._core.now_ns

    # --- MarketData and the feed -------------------------------------------------------------

    def pull_quotes(self) -> int:
        """Match every quote of the real market that is new since the last pull; return
        how many market steps that made. Does nothing before `connect`."""
        if not self._connected:
            return 0
        fresh: list[Quote] = []
        for symbol in self._symbols:
            quote = self._quotes.quote(symbol)
            if quote is None or quote == self._applied.get(symbol):
                continue
            self._applied[symbol] = quote
            if quote.bid <= ZERO or quote.ask < quote.bid:
                log.warning("shadow venue skips an unusable quote", symbol=symbol, quote=str(quote))
                continue
            fresh.append(quote)
        steps = _steps(fresh, self._core.now_ns)
        for step in steps:
            self._publish(self._core.apply_step(step))
        return len(steps)

    async def run(self, interval: float = QUOTE_POLL_SECONDS) -> None:
        """Pull the real market's quotes every `interval` seconds until cancelled."""
        while True:
            self.pull_quotes()
            await asyncio.sleep(interval)

    # --- seeding -----------------------------------------------------------------------------

    def restore(
        self,
        open_orders: Sequence[VenueOrderReport | RestoredOrder],
        positions: Sequence[VenuePosition],
        balances: Sequence[VenueBalance],
    ) -> None:
        """Re-seed the shadow book from a journal after a restart; `connect` will then
        read no opening book from the real venue (the journal has it already)."""
        self._publish(self._core.restore(open_orders, positions, balances))
        self._seeded = True

    async def _seed_from_real(self) -> None:
        """Start the book from the real accounts: their cash, their positions, and an
        opening fill for each position (see the module's docstring)."""
        positions: list[VenuePosition] = []
        balances: list[VenueBalance] = []
        for account in self._accounts:
            balances += await self._real.get_balances(account)
            for position in await self._real.get_positions(account):
                if position.qty == ZERO:
                    continue
                if position.symbol not in self._core.instruments:
                    log.warning(
                        "shadow venue leaves out a position in an instrument it does not trade",
                        account=account,
                        symbol=position.symbol,
                    )
                    continue
                positions.append(position)
        self._core.restore([], positions, balances)
        for position in sorted(positions, key=lambda p: (p.account, p.symbol)):
            self._opening.setdefault(position.account, []).append(self._opening_fill(position))
        self._seeded = True
        log.info(
            "shadow book seeded from the real venue",
            venue=self._real.name,
            positions={f"{p.account}/{p.symbol}": str(p.qty) for p in positions},
        )

    def _opening_fill(self, position: VenuePosition) -> VenueFill:
        instrument = self._core.instruments[position.symbol]
        return VenueFill(
            client_order_id=opening_order_id(position.account, position.symbol),
            account=position.account,
            symbol=position.symbol,
            side=Side.BUY if position.qty > ZERO else Side.SELL,
            trade_id=f"{OPENING_PREFIX}{self._session}-{position.account}-{position.symbol}",
            qty=abs(position.qty),
            price=position.avg_price,
            fee=ZERO,
            fee_currency=instrument.quote_currency,
            liquidity=LiquiditySide.TAKER,
            venue_seq=None,
            ts=self._core.now_ns,
        )

    # --- Venue -------------------------------------------------------------------------------

    async def connect(self) -> None:
        """Connect the real venue (for its reads), seed a fresh book from it, and take the
        first quotes."""
        await self._real.connect()
        if not self._seeded:
            await self._seed_from_real()
        self._connected = True
        self.pull_quotes()

    async def disconnect(self) -> None:
        self._connected = False
        await self._real.disconnect()

    def connection_problem(self) -> str | None:
        """The real venue's connection: without it the shadow book has no live quotes."""
        if not self._connected:
            return "not connected"
        return self._real.connection_problem()

    async def get_fills(self, account: str, since_ts: int = 0) -> list[VenueFill]:
        """The shadow book's executions at or after `since_ts`, after its opening fills.

        The opening fills are listed whatever `since_ts` says: they open the book rather
        than belong to the venue's history, and a journal begun after the book was
        seeded must still adopt them.
        """
        made = await super().get_fills(account, since_ts)
        return [*self._opening.get(account, ()), *made]


def _steps(quotes: list[Quote], now_ns: int) -> list[FeedStep]:
    """The quotes as market steps, one per distinct quote time in time order, each
    stamped with its quotes' time or the book's, whichever is later (time never goes
    back, and a quote that arrives late still moves the market)."""
    by_ts: dict[int, list[Quote]] = {}
    for quote in quotes:
        by_ts.setdefault(max(quote.ts, now_ns), []).append(quote)
    return [
        FeedStep(
            ts,
            tuple(
                SymbolUpdate(q.symbol, ts, (PricePoint(q.bid, q.ask),), q.last)
                for q in sorted(by_ts[ts], key=lambda q: q.symbol)
            ),
        )
        for ts in sorted(by_ts)
    ]
