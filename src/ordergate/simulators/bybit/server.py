"""`BybitSimulator`: the composition root of the simulator, and its Python API.

Building one binds nothing; `start` serves REST (`/v5/...`), the private websocket
(`/v5/private`), the trade websocket (`/v5/trade`) and the control routes (`/sim/...`)
on one loopback port and, in replay
mode, starts the market; `stop` undoes it. The methods below `start` are the venue's
truth, for test assertions, and its controls (quotes, faults, connection drops).
"""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal
from types import TracebackType
from typing import Final

from aiohttp import web

from ordergate.domain.errors import InvalidRequest
from ordergate.engine.venue_reports import Quote
from ordergate.simulators.bybit.ccxt_settings import PRIVATE_PATH
from ordergate.simulators.bybit.config import SimulatorConfig
from ordergate.simulators.bybit.control import ControlApi
from ordergate.simulators.bybit.exchange import BybitExchange
from ordergate.simulators.bybit.faults import FaultPlan
from ordergate.simulators.bybit.market import ReplayDriver, demo_replay_feed, quote_update
from ordergate.simulators.bybit.ratelimit import RateLimiter
from ordergate.simulators.bybit.records import (
    ExecutionRecord,
    OrderRecord,
    PositionRecord,
    WalletRecord,
)
from ordergate.simulators.bybit.rest import RequestSeen, RestApi
from ordergate.simulators.bybit.routes_account import AccountRoutes
from ordergate.simulators.bybit.routes_market import MarketRoutes
from ordergate.simulators.bybit.routes_trade import TradeRoutes
from ordergate.simulators.bybit.trade_stream import TRADE_PATH, TradeStream
from ordergate.simulators.bybit.websocket import PrivateStream
from ordergate.simulators.ids import IdSource

# Held answers and open sockets get this long to finish when the server stops.
_SHUTDOWN_SECONDS: Final = 2.0


class BybitSimulator:
    """A Bybit v5 venue on loopback that ccxt's `bybit` can trade against unchanged."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        clock = self.config.clock
        ids = IdSource(self.config.seed)
        self._exchange = BybitExchange(
            self.config.instruments,
            self.config.balances,
            rules=self.config.execution_rules,
            ids=ids,
            clock=clock,
        )
        self.faults = FaultPlan(self.config.seed)
        self._stream = PrivateStream(
            self._exchange,
            self.faults,
            ids,
            api_key=self.config.api_key,
            api_secret=self.config.api_secret,
            clock=clock,
        )
        trade = TradeRoutes(self._exchange, clock)
        routes = [
            *MarketRoutes(self._exchange, clock).routes(),
            *trade.routes(),
            *AccountRoutes(self._exchange, self.config.api_key, clock).routes(),
        ]
        limiter = RateLimiter(self.config.rate_limits, lambda: clock() // 1_000_000)
        self._rest = RestApi(
            routes,
            api_key=self.config.api_key,
            api_secret=self.config.api_secret,
            faults=self.faults,
            limiter=limiter,
            clock=clock,
            withhold_seconds=self.config.withhold_seconds,
        )
        self._trade_stream = TradeStream(
            trade.operations(),
            limiter,
            ids,
            api_key=self.config.api_key,
            api_secret=self.config.api_secret,
            clock=clock,
        )
        self._control = ControlApi(
            self._exchange, self.faults, self._stream, self._quote, lambda: self._rest.requests
        )
        self._runner: web.AppRunner | None = None
        self._replay: asyncio.Task[None] | None = None
        self._host = ""
        self._port = 0

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve on `host:port` (port 0: a free one, read it from `rest_url`)."""
        if self._runner is not None:
            raise InvalidRequest("the simulator is already running")
        app = web.Application()
        self._rest.install(app)
        app.router.add_get(PRIVATE_PATH, self._stream.handle)
        app.router.add_get(TRADE_PATH, self._trade_stream.handle)
        self._control.install(app)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=_SHUTDOWN_SECONDS)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        self._host = host
        self._port = runner.addresses[0][1]
        if self.config.market == "replay":
            driver = ReplayDriver(
                self._exchange, demo_replay_feed(), self.config.replay_bars_per_second
            )
            self._replay = asyncio.create_task(driver.run())

    async def stop(self) -> None:
        """Stop the market, release withheld answers, close connections, unbind, and drop
        requests still delayed by a latency fault."""
        if self._replay is not None:
            self._replay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._replay
            self._replay = None
        self._rest.release_withheld()
        await self._stream.close()
        await self._trade_stream.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self._rest.close()

    async def __aenter__(self) -> BybitSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def api_credentials(self) -> tuple[str, str]:
        """(api key, api secret) the simulator accepts."""
        return self.config.api_key, self.config.api_secret

    @property
    def rest_url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def ws_private_url(self) -> str:
        return f"ws://{self._host}:{self._port}{PRIVATE_PATH}"

    @property
    def ws_trade_url(self) -> str:
        return f"ws://{self._host}:{self._port}{TRADE_PATH}"

    # --- market and connections ----------------------------------------------------------

    def set_quote(
        self, symbol: str, *, bid: Decimal, ask: Decimal, last: Decimal | None = None
    ) -> None:
        """Make `bid`/`ask` the symbol's market: one step that matches resting orders."""
        self._quote(symbol, bid, ask, last)

    def drop_private_connections(self) -> None:
        """Close every private websocket connection now."""
        self._stream.drop_all()

    def subscriptions(self) -> frozenset[str]:
        """Topics some authenticated private connection is subscribed to."""
        return self._stream.topics()

    # --- the venue's truth -----------------------------------------------------------------

    def orders(self, symbol: str | None = None) -> list[OrderRecord]:
        """Every order ever placed (of `symbol`), oldest first."""
        return [o for o in self._exchange.orders() if symbol in (None, o.symbol)]

    def order(
        self, *, order_id: str | None = None, order_link_id: str | None = None
    ) -> OrderRecord | None:
        return self._exchange.find_order(order_id, order_link_id)

    def executions(
        self, symbol: str | None = None, *, order_id: str | None = None
    ) -> list[ExecutionRecord]:
        """Every execution (of `symbol`, of one order), oldest first."""
        return [
            execution
            for execution in self._exchange.executions()
            if symbol in (None, execution.symbol) and order_id in (None, execution.order_id)
        ]

    def positions(self) -> list[PositionRecord]:
        """Open positions, by symbol."""
        return self._exchange.positions()

    def position(self, symbol: str) -> PositionRecord:
        """The symbol's position, flat or not."""
        if symbol not in self._exchange.specs:
            raise InvalidRequest(f"unknown symbol {symbol!r}")
        return self._exchange.position(symbol)

    def wallet(self) -> WalletRecord:
        return self._exchange.wallet()

    def requests(self, path: str | None = None) -> list[RequestSeen]:
        """The latest REST requests (to `path`), oldest first; the trade websocket's are
        not among them."""
        return [seen for seen in self._rest.requests if path in (None, seen.path)]

    def quote(self, symbol: str) -> Quote | None:
        """The symbol's current best bid, ask and last price (None before any)."""
        return self._exchange.quote(symbol)

    def _quote(self, symbol: str, bid: Decimal, ask: Decimal, last: Decimal | None) -> None:
        if symbol not in self._exchange.specs:
            raise InvalidRequest(f"unknown symbol {symbol!r}")
        self._exchange.move_market([quote_update(symbol, bid, ask, last)])
