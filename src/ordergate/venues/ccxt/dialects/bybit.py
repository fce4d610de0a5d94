"""Bybit v5 through ccxt: where it differs from ccxt's unified conventions.

- The client order id is `orderLinkId`. ccxt's `create_order` maps the unified
  `clientOrderId` onto it, but its `edit_order` also copies a `clientOrderId` param into
  the amend body verbatim, and its `fetch_order` ignores one: amends, cancels and
  lookups pass `orderLinkId` themselves.
- ccxt's `fetch_order` refuses to run on unified accounts, and `fetch_closed_orders`
  asks only for Filled ones: an order is looked up among open orders
  (`/v5/order/realtime`), then among canceled and closed ones (`/v5/order/history`).
- A conditional order says which way the price must cross (`triggerDirection`): a stop
  buys on the way up (1) and sells on the way down (2).
- ccxt maps 110072 "OrderLinkedID is duplicate" to a plain InvalidOrder, and "System
  error" (10016) and "Server Timeout" (5004) to a plain ExchangeError; they are classed
  here as what they mean: a duplicate id, and an answer that does not say whether the
  request was executed.
- The minimum order value is in `lotSizeFilter.minNotionalValue`, which ccxt does not
  carry into `limits.cost.min`.
- Only the category traded is loaded (`fetchMarkets.types`), and coin metadata (a
  private endpoint) not at all.
- Open orders and executions are listed page by page; ccxt follows the cursor.
- Executions carry their `orderLinkId`, and are listed for seven days at most: a start
  further back makes Bybit answer with the seven days after it, so the start is dropped.
- Position take-profit/stop-loss orders (`stopOrderType` TakeProfit, StopLoss, ...) are
  not ordergate order types: an order of that kind raises rather than pass as a stop.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar, Final

import ccxt  # type: ignore[import-untyped]

from ordergate.domain.values import OrderType, Side
from ordergate.venues.ccxt.decimals import optional_decimal
from ordergate.venues.ccxt.dialects.base import Dialect, OrderRef, first_match
from ordergate.venues.ccxt.errors import UnmappedVenueValue
from ordergate.venues.ccxt.gateway import Gateway
from ordergate.venues.ccxt.maps import TwoWayMap
from ordergate.venues.ccxt.markets import MarketEntry
from ordergate.venues.ccxt.translate import CcxtOrder, CcxtTrade, text_of

# Bybit's own spelling: `orderType`, and whether the order is conditional (a
# `triggerPrice` is set; `stopOrderType` "Stop").
BYBIT_ORDER_TYPES: TwoWayMap[OrderType, tuple[str, bool]] = TwoWayMap(
    "order type",
    {
        OrderType.MARKET: ("Market", False),
        OrderType.LIMIT: ("Limit", False),
        OrderType.STOP: ("Market", True),
        OrderType.STOP_LIMIT: ("Limit", True),
    },
)
# `stopOrderType` of plain and conditional orders; anything else is a position TP/SL.
_ORDINARY_STOP_ORDER_TYPES: Final = frozenset({None, "", "UNKNOWN", "Stop"})
TRIGGER_DIRECTIONS: TwoWayMap[Side, str] = TwoWayMap(
    "trigger direction", {Side.BUY: "ascending", Side.SELL: "descending"}
)
# ccxt's unified market type -> Bybit's category, for loading only the markets traded.
_CATEGORIES: Final = {"spot": "spot", "swap": "linear", "future": "linear"}
_EXECUTION_HISTORY_MS: Final = 7 * 24 * 3600 * 1000
# Lists come in pages (20 open orders, 50 executions by default): ccxt follows the
# cursor (at most its `paginationCalls`, 10 by default) when asked to.
_ALL_PAGES: Final = {"paginate": True}


class BybitDialect(Dialect):
    error_overrides: ClassVar[Mapping[str, Any]] = {
        "exact": {
            "110072": ccxt.DuplicateOrderId,
            "10016": ccxt.ExchangeNotAvailable,
            "5004": ccxt.RequestTimeout,
        }
    }
    json_stream: ClassVar[bool] = True

    def constructor_defaults(self, market_type: str) -> dict[str, Any]:
        defaults = super().constructor_defaults(market_type)
        defaults["options"]["fetchMarkets"] = {"types": [_CATEGORIES[market_type]]}
        # Coin metadata is a private endpoint ordergate has no use for.
        defaults["has"] = {"fetchCurrencies": False}
        return defaults

    async def prepare(self, gateway: Gateway, stream_exchange: Any) -> None:
        # ccxt asks which account kind this is (two private requests) before the first
        # order and before subscribing; ask once here and tell the stream's exchange too.
        exchange = gateway.exchange
        await gateway.read("account kind", exchange.is_unified_enabled)
        for key in ("enableUnifiedMargin", "enableUnifiedAccount", "unifiedMarginStatus"):
            if key in exchange.options:
                stream_exchange.options[key] = exchange.options[key]

    def min_notional(self, market: Mapping[str, Any]) -> Decimal | None:
        lot = (market.get("info") or {}).get("lotSizeFilter") or {}
        found = optional_decimal(lot.get("minNotionalValue"), f"{market.get('id')} min notional")
        return found if found is not None else super().min_notional(market)

    def order_type(self, order: CcxtOrder) -> OrderType:
        info = order.get("info") or {}
        if info.get("stopOrderType") not in _ORDINARY_STOP_ORDER_TYPES:
            raise UnmappedVenueValue(f"Bybit stopOrderType {info.get('stopOrderType')!r}")
        has_trigger = self.trigger_price(order) is not None
        return BYBIT_ORDER_TYPES.from_venue((info.get("orderType"), has_trigger))

    def trade_client_order_id(self, trade: CcxtTrade) -> str | None:
        return text_of((trade.get("info") or {}).get("orderLinkId"))

    def trigger_params(self, side: Side, entry: MarketEntry) -> dict[str, Any]:
        if not entry.contract:
            return {}  # spot conditional orders take no direction (ccxt refuses one)
        return {"triggerDirection": TRIGGER_DIRECTIONS.to_venue(side)}

    async def find_order(
        self, gateway: Gateway, entry: MarketEntry, ref: OrderRef
    ) -> CcxtOrder | None:
        exchange = gateway.exchange
        symbol = entry.ccxt_symbol
        _, params = self._id_and_params(ref)
        working: list[CcxtOrder] = await gateway.read(
            "fetch open orders",
            lambda: exchange.fetch_open_orders(symbol, None, None, dict(params)),
        )
        found = first_match(working, ref)
        if found is not None:
            return found
        done: list[CcxtOrder] = await gateway.read(
            "fetch canceled and closed orders",
            lambda: exchange.fetch_canceled_and_closed_orders(symbol, None, None, dict(params)),
        )
        return first_match(done, ref)

    async def open_orders(self, gateway: Gateway, entry: MarketEntry) -> list[CcxtOrder]:
        exchange = gateway.exchange
        orders: list[CcxtOrder] = await gateway.read(
            "fetch open orders",
            lambda: exchange.fetch_open_orders(entry.ccxt_symbol, None, None, _ALL_PAGES),
        )
        return orders

    async def positions(self, gateway: Gateway, entries: list[MarketEntry]) -> list[Any]:
        # Bybit lists the positions of one symbol or of one settle coin, not of a list.
        exchange = gateway.exchange
        if len(entries) == 1:
            symbols = [entries[0].ccxt_symbol]
            return list(
                await gateway.read("fetch positions", lambda: exchange.fetch_positions(symbols))
            )
        found: list[Any] = []
        for settle in sorted({e.settle for e in entries if e.settle is not None}):
            params = {"subType": "linear", "settleCoin": settle}
            found += await gateway.read(
                "fetch positions", functools.partial(exchange.fetch_positions, None, params)
            )
        return found

    async def order_trades(
        self, gateway: Gateway, entry: MarketEntry, ref: OrderRef, venue_order_id: str
    ) -> list[CcxtTrade]:
        exchange = gateway.exchange
        trades: list[CcxtTrade] = await gateway.read(
            "fetch order trades",
            lambda: exchange.fetch_my_trades(
                entry.ccxt_symbol, None, None, {"orderId": venue_order_id}
            ),
        )
        return trades

    async def my_trades(
        self, gateway: Gateway, entry: MarketEntry, since_ms: int | None
    ) -> list[CcxtTrade]:
        oldest = int(time.time() * 1000) - _EXECUTION_HISTORY_MS
        start = since_ms if since_ms is not None and since_ms > oldest else None
        exchange = gateway.exchange
        trades: list[CcxtTrade] = await gateway.read(
            "fetch my trades",
            lambda: exchange.fetch_my_trades(entry.ccxt_symbol, start, None, _ALL_PAGES),
        )
        return trades

    def _id_and_params(self, ref: OrderRef) -> tuple[str | None, dict[str, Any]]:
        if ref.client_order_id is not None:
            return None, {"orderLinkId": ref.client_order_id}
        return None, {"orderId": ref.venue_order_id}
