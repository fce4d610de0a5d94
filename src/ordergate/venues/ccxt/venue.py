"""`CcxtVenue`: ordergate's `Venue` port over any exchange ccxt supports.

REST goes through `ccxt.async_support` (one exchange, behind ordergate's request budget
and error classification: `gateway`); the private order and execution streams through
`ccxt.pro` (a second exchange sharing the first one's markets: `stream`). Both are built
strict (`payloads`): an answer or message too large or not JSON is refused before ccxt
reads it. What the venue says comes in through one `Intake` and leaves as events on
`events()`.

A submit's receipt carries the venue order id and `accepted=False`: the acceptance (or
the rejection) arrives on the stream, or from the follow-up lookup if the stream stays
silent. Orders are named to the venue by their client order id throughout.
`fetch_quotes` reads the venue's tickers for `PolledQuotes`, under the same budget.

A cluster node gives the venue its partition lease as `may_send`: every REST request asks
it as the request leaves (`payloads`), not when the engine hands it over, and one it
withholds raises `JournalFenced` with nothing sent.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt_rest  # type: ignore[import-untyped]
import ccxt.pro as ccxt_pro  # type: ignore[import-untyped]
import structlog

from ordergate.domain.errors import (
    JournalFenced,
    RejectedByVenue,
    RetryableVenueError,
    VenueError,
)
from ordergate.domain.instruments import Instrument
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderType, Side
from ordergate.engine.venue_reports import (
    Quote,
    SubmitReceipt,
    VenueBalance,
    VenueEvent,
    VenueFill,
    VenueOrderReport,
    VenueOrderRequest,
    VenuePosition,
)
from ordergate.venues.ccxt.budget import RequestBudget
from ordergate.venues.ccxt.config import CcxtVenueConfig
from ordergate.venues.ccxt.decimals import NS_PER_MS
from ordergate.venues.ccxt.dialects import Dialect, dialect_for
from ordergate.venues.ccxt.dialects.base import UNSTATED_ACCEPTANCE_WINDOW
from ordergate.venues.ccxt.errors import UnsupportedByVenue
from ordergate.venues.ccxt.gateway import Gateway
from ordergate.venues.ccxt.intake import Intake, order_ref
from ordergate.venues.ccxt.markets import MarketDirectory, MarketEntry, load_directory
from ordergate.venues.ccxt.payloads import PayloadGuard, strict_exchange
from ordergate.venues.ccxt.stream import StreamSupervisor
from ordergate.venues.ccxt.tickers import quote_of
from ordergate.venues.ccxt.tracker import OrderTracker
from ordergate.venues.ccxt.translate import Translator
from ordergate.venues.single_account import check_account

log = structlog.get_logger("ordergate.venues.ccxt")


@dataclass(frozen=True, slots=True)
class _Session:
    """What exists while connected: the exchanges and everything built on their markets."""

    gateway: Gateway
    stream_exchange: Any
    markets: MarketDirectory
    translator: Translator
    intake: Intake
    stream: StreamSupervisor


class CcxtVenue:
    """One exchange account through ccxt, as an ordergate `Venue`."""

    def __init__(
        self, config: CcxtVenueConfig, *, may_send: Callable[[], bool] | None = None
    ) -> None:
        """`may_send`: asked as each REST request leaves; once it says no, nothing more
        is sent (None: always send)."""
        self._config = config
        self._may_send = may_send
        self._dialect: Dialect = dialect_for(config.exchange_id)
        self._budget = RequestBudget(config.request_rate)
        self._events: asyncio.Queue[VenueEvent] = asyncio.Queue()
        self._tracker = OrderTracker()
        self._session: _Session | None = None

    @property
    def name(self) -> str:
        return self._config.venue_name

    @property
    def live(self) -> bool:
        return self._config.live

    @property
    def acceptance_window(self) -> float:
        """The exchange's receive window (see `Dialect.acceptance_window`); before the
        exchange is built, the window of an exchange that states none."""
        if self._session is None:
            return UNSTATED_ACCEPTANCE_WINDOW
        return self._dialect.acceptance_window(self._session.gateway.exchange)

    @property
    def instruments(self) -> list[Instrument]:
        """The configured markets as ordergate instruments (known once connected)."""
        return [e.instrument for e in self._connected().markets.entries]

    def connection_problem(self) -> str | None:
        """Not connected, or the private stream is down (orders are polled meanwhile)."""
        if self._session is None:
            return "not connected"
        if self._session.stream.down:
            return "the private stream is down; polling by REST until it is back"
        return None

    # --- lifecycle --------------------------------------------------------------------------

    async def connect(self) -> None:
        """Load markets, check the credentials, and start the private streams."""
        if self._session is not None:
            return
        settings = self._config.exchange_settings(
            self._dialect.constructor_defaults(self._config.market_type)
        )
        guard = PayloadGuard(
            self._config.max_payload_bytes, self._dialect.json_stream, self._unreadable
        )
        exchange_id, may_send = self._config.exchange_id, self._may_send
        rest = _exchange(ccxt_rest, exchange_id, settings, guard, may_send)
        ws = _exchange(ccxt_pro, exchange_id, settings, guard, may_send)
        if self._config.sandbox:
            rest.set_sandbox_mode(True)
            ws.set_sandbox_mode(True)
        try:
            self._session = await self._open(rest, ws)
        except BaseException:
            await asyncio.gather(rest.close(), ws.close(), return_exceptions=True)
            raise
        self._session.stream.start()
        log.info("venue connected", venue=self.name, symbols=list(self._config.symbols))

    async def disconnect(self) -> None:
        """Stop the streams and close both exchanges."""
        session, self._session = self._session, None
        if session is None:
            return
        await session.stream.stop()
        await session.intake.close()
        await asyncio.gather(
            session.gateway.exchange.close(),
            session.stream_exchange.close(),
            return_exceptions=True,
        )

    async def _open(self, rest: Any, ws: Any) -> _Session:
        gateway = Gateway(rest, self._budget, self._config.retry)
        await gateway.read("load markets", rest.load_markets)
        ws.set_markets(rest.markets, rest.currencies)
        await self._dialect.prepare(gateway, ws)
        config = self._config
        markets = load_directory(
            rest.markets,
            config.symbols,
            config.market_type,
            rest.precisionMode,
            self._dialect.min_notional,
        )
        await gateway.read("check credentials", rest.fetch_balance)
        translator = Translator(config.account, markets, self._dialect)
        intake = Intake(
            gateway,
            self._dialect,
            markets,
            translator,
            self._tracker,
            self._emit,
            config.fill_grace,
        )
        stream = StreamSupervisor(
            ws,
            gateway,
            self._dialect,
            markets,
            intake,
            self._emit,
            config.poll_interval,
            config.retry,
        )
        return _Session(gateway, ws, markets, translator, intake, stream)

    # --- orders -----------------------------------------------------------------------------

    async def submit_order(self, request: VenueOrderRequest) -> SubmitReceipt:
        session = self._connected()
        self._check_account(request.account)
        entry = session.markets.entry(request.symbol)
        exchange = session.gateway.exchange
        call = self._dialect.order_call(exchange, request, entry)
        self._tracker.submitted(request)  # its acknowledgement may overtake the answer
        try:
            order = await session.gateway.write(
                "create order",
                lambda: exchange.create_order(
                    entry.ccxt_symbol, call.type, call.side, call.amount, call.price, call.params
                ),
            )
        except (RejectedByVenue, RetryableVenueError, JournalFenced):
            self._tracker.refused(request.client_order_id)  # nothing to track at the venue
            raise
        venue_order_id = order.get("id") or None
        self._tracker.identified(request.client_order_id, request.symbol, venue_order_id)
        session.intake.confirm_later(
            request.client_order_id, request.symbol, self._config.confirm_after
        )
        return SubmitReceipt(venue_order_id)

    async def cancel_order(self, account: str, symbol: str, client_order_id: str) -> None:
        session = self._connected()
        self._check_account(account)
        entry = session.markets.entry(symbol)
        tracked = self._tracker.get(client_order_id)
        ref = order_ref(client_order_id, tracked.venue_order_id if tracked else None)
        self._tracker.cancel_requested(client_order_id, symbol)
        await self._dialect.cancel(session.gateway, entry, ref)
        session.intake.confirm_later(client_order_id, symbol, self._config.confirm_after)

    async def replace_order(
        self,
        account: str,
        symbol: str,
        client_order_id: str,
        qty: Decimal,
        price: Decimal | None,
        stop_price: Decimal | None,
    ) -> None:
        session = self._connected()
        self._check_account(account)
        entry = session.markets.entry(symbol)
        order_type, side = await self._type_and_side(session, entry, client_order_id)
        tracked = self._tracker.get(client_order_id)
        ref = order_ref(client_order_id, tracked.venue_order_id if tracked else None)
        self._tracker.replace_requested(client_order_id, symbol, (qty, price, stop_price))
        try:
            await self._dialect.amend(
                session.gateway, entry, ref, order_type, side, qty, price, stop_price
            )
        except (RejectedByVenue, RetryableVenueError, JournalFenced):
            self._tracker.replace_requested(client_order_id, symbol, None)  # nothing changed
            raise
        session.intake.confirm_later(client_order_id, symbol, self._config.confirm_after)

    async def _type_and_side(
        self, session: _Session, entry: MarketEntry, client_order_id: str
    ) -> tuple[OrderType, Side]:
        """An order's type and side, which amending needs: remembered, or asked for."""
        tracked = self._tracker.get(client_order_id)
        if tracked is None or tracked.type is None or tracked.side is None:
            report = await session.intake.refresh(entry, order_ref(client_order_id))
            if report is None:
                raise RejectedByVenue(
                    f"no order {client_order_id} at the venue to replace",
                    code=ReasonCode.VENUE_ORDER_NOT_FOUND,
                )
            return report.type, report.side
        return tracked.type, tracked.side

    # --- queries ----------------------------------------------------------------------------

    async def get_order(
        self, account: str, symbol: str, client_order_id: str
    ) -> VenueOrderReport | None:
        session = self._connected()
        self._check_account(account)
        if not session.markets.has(symbol):
            return None
        tracked = self._tracker.get(client_order_id)
        ref = order_ref(client_order_id, tracked.venue_order_id if tracked else None)
        return await session.intake.refresh(session.markets.entry(symbol), ref)

    async def get_open_orders(
        self, account: str, symbol: str | None = None
    ) -> list[VenueOrderReport]:
        session = self._connected()
        self._check_account(account)
        reports = []
        for entry in self._entries(session, symbol):
            orders = await self._dialect.open_orders(session.gateway, entry)
            for order in orders:
                report = session.translator.order(order)
                if report is not None:
                    reports.append(report)
        return reports

    async def get_positions(self, account: str) -> list[VenuePosition]:
        session = self._connected()
        self._check_account(account)
        contracts = [e for e in session.markets.entries if e.contract]
        if not contracts:
            return []  # spot holds balances, not positions
        raw = await self._dialect.positions(session.gateway, contracts)
        positions = (session.translator.position(p) for p in raw)
        return [p for p in positions if p is not None]

    async def get_balances(self, account: str) -> list[VenueBalance]:
        session = self._connected()
        self._check_account(account)
        exchange = session.gateway.exchange
        balance = await session.gateway.read("fetch balance", exchange.fetch_balance)
        return session.translator.balances(balance)

    async def get_fills(self, account: str, since_ts: int = 0) -> list[VenueFill]:
        session = self._connected()
        self._check_account(account)
        since_ms = since_ts // NS_PER_MS if since_ts > 0 else None
        fills: list[VenueFill] = []
        for entry in session.markets.entries:
            trades = await self._dialect.my_trades(session.gateway, entry, since_ms)
            fills += await session.intake.fills(trades)
        return sorted((f for f in fills if f.ts >= since_ts), key=lambda f: (f.ts, f.trade_id))

    async def fetch_quotes(self) -> list[Quote]:
        """Best bid, ask and last of every configured market, from the venue's tickers."""
        session = self._connected()
        exchange = session.gateway.exchange
        entries = session.markets.entries
        if exchange.has.get("fetchTickers"):
            symbols = [e.ccxt_symbol for e in entries]
            tickers = await session.gateway.read(
                "fetch tickers", lambda: exchange.fetch_tickers(symbols)
            )
        else:
            tickers = {}
            for entry in entries:
                ccxt_symbol = entry.ccxt_symbol
                tickers[ccxt_symbol] = await session.gateway.read(
                    "fetch ticker", functools.partial(exchange.fetch_ticker, ccxt_symbol)
                )
        received_ns = time.time_ns()
        quotes = []
        for ccxt_symbol, ticker in tickers.items():
            market = session.markets.by_ccxt_symbol(ccxt_symbol)
            quote = None if market is None else quote_of(ticker, market, received_ns)
            if quote is not None:
                quotes.append(quote)
        return quotes

    async def events(self) -> AsyncIterator[VenueEvent]:
        """The venue's events in the order the adapter learned them (one consumer)."""
        while True:
            yield await self._events.get()

    # --- helpers ----------------------------------------------------------------------------

    def _emit(self, events: list[VenueEvent]) -> None:
        for event in events:
            self._events.put_nowait(event)

    def _unreadable(self, error: VenueError) -> None:
        """A websocket message was refused unread (`payloads`): the stream's to answer."""
        if self._session is None:
            log.warning("venue message unreadable", venue=self.name, reason=error.code)
            return
        self._session.stream.unreadable(error)

    def _connected(self) -> _Session:
        if self._session is None:
            raise RetryableVenueError(f"venue {self.name} is not connected")
        return self._session

    def _check_account(self, account: str) -> None:
        check_account(self.name, self._config.account, account)

    @staticmethod
    def _entries(session: _Session, symbol: str | None) -> list[MarketEntry]:
        if symbol is None:
            return session.markets.entries
        return [session.markets.entry(symbol)] if session.markets.has(symbol) else []


def _exchange(
    module: Any,
    exchange_id: str,
    settings: dict[str, Any],
    guard: PayloadGuard,
    may_send: Callable[[], bool] | None,
) -> Any:
    try:
        exchange_class = getattr(module, exchange_id)
    except AttributeError:
        raise UnsupportedByVenue(f"ccxt has no exchange {exchange_id!r}") from None
    return strict_exchange(exchange_class, settings, guard, may_send)
