"""Kraken spot through ccxt: where it differs from ccxt's unified ways.

- The client order id is `cl_ord_id` (32 hex characters are one of its accepted forms,
  a UUID without dashes). ccxt maps the unified `clientOrderId` onto it in create,
  amend, cancel and the open/closed order lists, but its `fetch_order` sends it as
  `userref`, Kraken's 32-bit integer tag: a lookup goes through the open, then the
  closed orders, filtered by `cl_ord_id`.
- A stop is `stop-loss` (market) or `stop-loss-limit`, with the trigger in `price`
  and the limit in `price2`; ccxt builds them from `stopLossPrice` and reports the
  trigger back as `stopLossPrice`. ccxt reports take-profit orders as plain market or
  limit orders, so types are read from Kraken's own `ordertype`.
- ccxt maps "EOrder:Unknown order" to a plain InvalidOrder (its cancel finds it out by
  searching the last response's text, which concurrent requests overwrite): it is
  classed here as OrderNotFound.
- Time in force is GTC or IOC (GTD needs an expiry): no FOK, no DAY.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

import ccxt  # type: ignore[import-untyped]

from ordergate.domain.values import OrderType, TimeInForce
from ordergate.venues.ccxt.decimals import optional_decimal
from ordergate.venues.ccxt.dialects.base import Dialect, OrderRef, first_match
from ordergate.venues.ccxt.gateway import Gateway
from ordergate.venues.ccxt.maps import TwoWayMap
from ordergate.venues.ccxt.markets import MarketEntry
from ordergate.venues.ccxt.translate import CcxtOrder

KRAKEN_ORDER_TYPES: TwoWayMap[OrderType, str] = TwoWayMap(
    "order type",
    {
        OrderType.MARKET: "market",
        OrderType.LIMIT: "limit",
        OrderType.STOP: "stop-loss",
        OrderType.STOP_LIMIT: "stop-loss-limit",
    },
)
KRAKEN_TIME_IN_FORCE: TwoWayMap[TimeInForce, str] = TwoWayMap(
    "time in force", {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC"}
)


class KrakenDialect(Dialect):
    error_overrides: ClassVar[Mapping[str, Any]] = {
        "exact": {"EOrder:Unknown order": ccxt.OrderNotFound},
    }
    time_in_force: ClassVar[TwoWayMap[TimeInForce, str]] = KRAKEN_TIME_IN_FORCE
    trigger_param: ClassVar[str] = "stopLossPrice"
    json_stream: ClassVar[bool] = True

    def order_type(self, order: CcxtOrder) -> OrderType:
        info = order.get("info") or {}
        descr = info.get("descr")
        described: dict[str, Any] = descr if isinstance(descr, dict) else {}
        raw = described.get("ordertype") or info.get("ordertype") or info.get("order_type")
        return KRAKEN_ORDER_TYPES.from_venue(raw)

    def trigger_price(self, order: CcxtOrder) -> Decimal | None:
        stop = order.get("stopLossPrice") or order.get("triggerPrice")
        return optional_decimal(stop, "order trigger price")

    async def find_order(
        self, gateway: Gateway, entry: MarketEntry, ref: OrderRef
    ) -> CcxtOrder | None:
        if ref.client_order_id is None:
            return await super().find_order(gateway, entry, ref)
        exchange = gateway.exchange
        symbol = entry.ccxt_symbol
        params: dict[str, Any] = {"clientOrderId": ref.client_order_id}
        working: list[CcxtOrder] = await gateway.read(
            "fetch open orders",
            lambda: exchange.fetch_open_orders(symbol, None, None, dict(params)),
        )
        found = first_match(working, ref)
        if found is not None:
            return found
        done: list[CcxtOrder] = await gateway.read(
            "fetch closed orders",
            lambda: exchange.fetch_closed_orders(symbol, None, None, dict(params)),
        )
        return first_match(done, ref)
