"""`RobinhoodSimulator`: the composition root of the simulator, and its Python API.

Building one binds nothing; `start` serves api.robinhood.com's paths (and phoenix's
under `PHOENIX_PREFIX`) on one loopback port and, in replay mode, starts the market;
`stop` undoes it. The methods below `start` are the broker's truth, for test
assertions, and its controls (quotes, faults, tokens, the account lock).
"""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal
from types import TracebackType
from typing import Final

from aiohttp import web

from ordergate.domain.errors import InvalidRequest
from ordergate.simulators.ids import IdSource
from ordergate.simulators.robinhood.auth import Authenticator
from ordergate.simulators.robinhood.broker import Broker
from ordergate.simulators.robinhood.config import (
    API_ORIGIN,
    PHOENIX_ORIGIN,
    PHOENIX_PREFIX,
    RobinhoodSimConfig,
)
from ordergate.simulators.robinhood.faults import FaultPlan
from ordergate.simulators.robinhood.market import ReplayDriver, manual_touch
from ordergate.simulators.robinhood.rest import RestApi, SeenRequest
from ordergate.simulators.robinhood.routes_account import AccountRoutes
from ordergate.simulators.robinhood.routes_auth import AuthRoutes
from ordergate.simulators.robinhood.routes_market import MarketRoutes
from ordergate.simulators.robinhood.routes_trading import TradingRoutes
from ordergate.simulators.robinhood.stocks import CATALOGUE
from ordergate.simulators.robinhood.wire import JsonObject, Urls
from ordergate.simulators.robinhood.workflow import VerificationWorkflows

# Held answers get this long to finish when the server stops.
_SHUTDOWN_SECONDS: Final = 1.0


class RobinhoodSimulator:
    """Robinhood's private REST API on loopback, for robin_stocks to trade against."""

    def __init__(self, config: RobinhoodSimConfig | None = None) -> None:
        self.config = config = config or RobinhoodSimConfig()
        ids = IdSource(config.seed)
        self._faults = FaultPlan()
        stocks = {symbol: CATALOGUE[symbol] for symbol in config.symbols}
        self._broker = Broker(
            stocks,
            cash=config.cash,
            resting_liquidity=config.resting_liquidity,
            confirm_after_steps=config.confirm_after_steps,
            always_open=config.hours == "always",
            faults=self._faults,
            ids=ids,
            clock=config.clock,
        )
        workflows = VerificationWorkflows(ids)
        self._auth = Authenticator(
            username=config.username,
            password=config.password,
            mfa=config.mfa,
            totp_secret=config.totp_secret,
            lifetime_s=config.token_lifetime_s,
            workflows=workflows,
            clock=config.clock,
        )
        self._urls = Urls(config.url_origin or "http://127.0.0.1", config.account_number)
        self._trading = TradingRoutes(
            self._broker, config.account_number, self._urls, config.page_size
        )
        routes = [
            *AuthRoutes(self._auth, workflows).routes(),
            *AccountRoutes(
                self._broker,
                config.account_number,
                self._urls,
                config.page_size,
                opened_ns=config.clock(),
                locked=lambda: self._auth.locked,
            ).routes(),
            *MarketRoutes(self._broker, self._urls, config.resting_liquidity).routes(),
            *self._trading.routes(),
        ]
        self._rest = RestApi(routes, auth=self._auth, faults=self._faults)
        self._runner: web.AppRunner | None = None
        self._replay: asyncio.Task[None] | None = None
        self._host = ""
        self._port = 0

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve on `host:port` (port 0: a free one, read it from `base_url`)."""
        if self._runner is not None:
            raise InvalidRequest("the simulator is already running")
        app = web.Application()
        self._rest.install(app)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=_SHUTDOWN_SECONDS)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        self._runner = runner
        self._host = host
        self._port = runner.addresses[0][1]
        if self.config.url_origin is None:
            self._urls.origin = self.base_url
        if self.config.market == "replay":
            driver = ReplayDriver(
                self._broker.stocks, self._broker.step, self.config.bars_per_second
            )
            self._replay = asyncio.create_task(driver.run(), name="robinhood-sim-replay")

    async def stop(self) -> None:
        """Stop the market, release held answers, close connections and unbind."""
        if self._replay is not None:
            self._replay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._replay
            self._replay = None
        self._rest.release_held()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> RobinhoodSimulator:
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
    def base_url(self) -> str:
        """Where api.robinhood.com's paths are served: "http://127.0.0.1:<port>"."""
        return f"http://{self._host}:{self._port}"

    @property
    def origins(self) -> dict[str, str]:
        """Each Robinhood origin robin_stocks' stock trading calls, and where the
        simulator serves it: what a transport adapter rewrites."""
        return {API_ORIGIN: self.base_url, PHOENIX_ORIGIN: f"{self.base_url}{PHOENIX_PREFIX}"}

    # --- controls ----------------------------------------------------------------------

    def set_quote(
        self, symbol: str, *, bid: Decimal, ask: Decimal, last: Decimal | None = None
    ) -> None:
        """Make `bid`/`ask` the symbol's touch (`last`: the bid unless given): one market
        step, which advances, expires and matches the symbol's open orders."""
        if symbol not in self._broker.stocks:
            raise InvalidRequest(f"unknown symbol {symbol!r}")
        self._broker.step(symbol, manual_touch(bid, ask, last))

    def fault(self, kind: str, count: int = 1, path: str | None = None, **params: object) -> None:
        """Arm fault `kind` for its next `count` chances to act (see `faults`): `path`
        narrows a request fault to one path (as sent, or its route pattern);
        `retry_after` (rate_limit), `status` (server_error), `delay` (lost_response) and
        `quantity` (partial_then_cancel) tune it."""
        self._faults.add(kind, count, path, params)

    def expire_tokens(self) -> None:
        """Every access token issued so far answers 401 from now on."""
        self._auth.expire_all()

    def lock_account(self) -> None:
        """Logins (and refreshes) fail from now on, as a locked account's do."""
        self._auth.locked = True

    # --- the broker's truth ------------------------------------------------------------

    @property
    def fired(self) -> list[str]:
        """The kinds of the faults that acted, in order."""
        return self._faults.fired

    @property
    def requests(self) -> list[SeenRequest]:
        """The latest requests, oldest first: (method, path, form, JSON body or query)."""
        return self._rest.requests

    def orders(self) -> list[JsonObject]:
        """Every order, oldest first, as `GET orders/{id}/` answers it."""
        return [self._trading.payload(order) for order in self._broker.orders()]

    def position(self, symbol: str) -> Decimal:
        """Shares of `symbol` held."""
        if symbol not in self._broker.stocks:
            raise InvalidRequest(f"unknown symbol {symbol!r}")
        return self._broker.ledger.quantity(symbol)

    @property
    def cash(self) -> Decimal:
        return self._broker.ledger.cash

    @property
    def buying_power(self) -> Decimal:
        """Cash less what open buys hold."""
        return self._broker.buying_power()
