"""What the venue asks Bybit directly: orders, positions, fills, the wallet and tickers.

Through NautilusTrader's own Bybit HTTP API and schemas (its signing, rate limits and
parsing into NautilusTrader's reports), but not through the execution client's
`generate_*_reports`: those log a failed request and return an empty list, which
ordergate's reconciliation would read as "no open orders, no position". Here a failed
read raises `RetryableVenueError` (a read changes nothing at the venue, so asking again
is always safe).

Reports come from the venue as it is now, not from NautilusTrader's cache, so they are
the venue's truth for reconciliation, and orders placed before a restart (which the new
node's cache holds as reconciled copies) are found by their client order id, Bybit's
`orderLinkId`, exactly like the others.
"""

from __future__ import annotations

from collections.abc import Awaitable
from decimal import Decimal
from typing import Any, Final, TypeVar

from nautilus_trader.adapters.bybit import BybitProductType
from nautilus_trader.adapters.bybit.common.enums import BybitEnumParser
from nautilus_trader.adapters.bybit.http.account import BybitAccountHttpAPI
from nautilus_trader.adapters.bybit.http.client import BybitHttpClient
from nautilus_trader.adapters.bybit.http.market import BybitMarketHttpAPI
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.model.identifiers import AccountId, ClientOrderId, InstrumentId

from ordergate.domain.errors import RetryableVenueError
from ordergate.domain.values import ZERO
from ordergate.engine.venue_reports import (
    Quote,
    VenueBalance,
    VenueFill,
    VenueOrderReport,
    VenuePosition,
)
from ordergate.venues.nautilus_live import translate

T = TypeVar("T")
_LINEAR: Final = BybitProductType.LINEAR
# NautilusTrader's Bybit execution client names its account so.
_ACCOUNT_ID: Final = "BYBIT-UNIFIED"
NS_PER_MS: Final = 1_000_000
# Bybit lists executions of the last seven days at most per request window.
_FILL_WINDOW_MS: Final = 7 * 24 * 3_600_000


class BybitAccount:
    """The Bybit account's reads, for one ordergate account and its symbols."""

    def __init__(
        self,
        http: BybitHttpClient,
        clock: Any,
        account: str,
        instrument_ids: dict[str, str],
    ) -> None:
        self._account_api = BybitAccountHttpAPI(client=http, clock=clock)
        self._market_api = BybitMarketHttpAPI(client=http, clock=clock)
        self._clock = clock
        self._account = account
        self._symbols = instrument_ids  # NautilusTrader instrument id -> symbol
        self._ids = {symbol: iid for iid, symbol in instrument_ids.items()}
        self._account_id = AccountId(_ACCOUNT_ID)
        self._enums = BybitEnumParser()

    async def order(self, symbol: str, client_order_id: str) -> VenueOrderReport | None:
        """The order, open or recently closed (Bybit's `/v5/order/realtime` by
        `orderLinkId`); None when Bybit does not know it."""
        orders = await _read(
            "order", self._account_api.query_order(_LINEAR, symbol, client_order_id, None)
        )
        reports = [self._order_report(o, symbol) for o in orders]
        return next((r for r in reports if r is not None), None)

    async def open_orders(self, symbol: str | None) -> list[VenueOrderReport]:
        symbols = [symbol] if symbol is not None else list(self._ids)
        reports: list[VenueOrderReport] = []
        for name in symbols:
            if name not in self._ids:
                continue
            orders = await _read("open orders", self._account_api.query_open_orders(_LINEAR, name))
            reports.extend(r for o in orders if (r := self._order_report(o, name)) is not None)
        return reports

    async def positions(self) -> list[VenuePosition]:
        positions = await _read("positions", self._account_api.query_position_info(_LINEAR))
        found: list[VenuePosition] = []
        for bybit_position in positions:
            symbol = bybit_position.symbol
            if symbol not in self._ids:
                continue
            report = bybit_position.parse_to_position_status_report(
                account_id=self._account_id,
                instrument_id=InstrumentId.from_str(self._ids[symbol]),
                report_id=UUID4(),
                ts_init=self._clock.timestamp_ns(),
            )
            position = translate.position(report, self._account, symbol)
            if position is not None:
                found.append(position)
        return found

    async def fills(self, since_ts: int) -> list[VenueFill]:
        """Executions at or after `since_ts` (ns), oldest first, within Bybit's window."""
        now_ms = self._clock.timestamp_ms()
        start_ms = max(since_ts // NS_PER_MS, now_ms - _FILL_WINDOW_MS + 1)
        executions = await _read(
            "executions",
            self._account_api.query_trade_history(_LINEAR, None, start_time=start_ms),
        )
        found: list[VenueFill] = []
        for execution in executions:
            symbol = execution.symbol
            if symbol not in self._ids:
                continue
            report = execution.parse_to_fill_report(
                account_id=self._account_id,
                instrument_id=InstrumentId.from_str(self._ids[symbol]),
                report_id=UUID4(),
                enum_parser=self._enums,
                ts_init=self._clock.timestamp_ns(),
            )
            fill = translate.fill(report, self._account, symbol)
            if fill is not None and fill.ts >= since_ts:
                found.append(fill)
        return sorted(found, key=lambda f: (f.ts, f.trade_id))

    async def balances(self) -> list[VenueBalance]:
        """Each coin's wallet balance (cash: realised profit and fees, no open profit)."""
        wallets, _ = await _read("wallet", self._account_api.query_wallet_balance())
        return [
            VenueBalance(self._account, coin.coin, Decimal(coin.walletBalance or "0"))
            for wallet in wallets
            for coin in wallet.coin
        ]

    async def quotes(self) -> list[Quote]:
        """The best bid and ask of each symbol from Bybit's REST tickers (one request);
        a symbol without both has no quote yet."""
        tickers = await _read("tickers", self._market_api.fetch_tickers(_LINEAR))
        now = self._clock.timestamp_ns()
        quotes = []
        for ticker in tickers:
            if ticker.symbol not in self._ids or not ticker.bid1Price or not ticker.ask1Price:
                continue
            bid, ask = Decimal(ticker.bid1Price), Decimal(ticker.ask1Price)
            last = Decimal(ticker.lastPrice) if ticker.lastPrice else (bid + ask) / 2
            if bid > ZERO and ask > ZERO:
                quotes.append(Quote(ticker.symbol, bid, ask, last, now))
        return quotes

    def _order_report(self, bybit_order: Any, symbol: str) -> VenueOrderReport | None:
        if not bybit_order.orderLinkId:
            return None  # not placed with a client order id: not ordergate's
        report = bybit_order.parse_to_order_status_report(
            account_id=self._account_id,
            instrument_id=InstrumentId.from_str(self._ids[symbol]),
            client_order_id=ClientOrderId(bybit_order.orderLinkId),
            report_id=UUID4(),
            enum_parser=self._enums,
            ts_init=self._clock.timestamp_ns(),
        )
        return translate.order_report(report, self._account, symbol)


async def _read(what: str, request: Awaitable[T]) -> T:
    try:
        return await request
    except Exception as exc:
        raise RetryableVenueError(f"reading {what} from Bybit failed: {exc!r}") from exc
