"""Binance (spot and USDⓈ-M futures) through ccxt: where it differs from ccxt's unified ways.

- The client order id is `newClientOrderId` on create and `origClientOrderId` on queries
  and cancels; ccxt maps the unified `clientOrderId` param onto both.
- Stop orders have their own type names: STOP_LOSS / STOP_LOSS_LIMIT on spot,
  STOP_MARKET / STOP on futures, with the trigger in `stopPrice` (`triggerPrice` on the
  futures algo API). ccxt reports them as "market"/"limit" plus a trigger price, the
  same as it reports take-profit orders, so types are read from Binance's own `type`.
- Futures stop orders live on the algo-order API (`/fapi/v1/algoOrder`, client id
  `clientAlgoId`): looking one up, listing or canceling it takes ccxt's `trigger` flag,
  so lookups and cancels that find nothing among plain orders try the algo ones.
- A market order gets no price: given one, ccxt turns a spot market buy into a
  quote-quantity order (`quoteOrderQty` = amount x price).
- Amending keeps the order's ids only on futures, and only for LIMIT orders (Modify
  Order); spot's cancel-replace makes a new order, so replace is refused there.
- Executions (`myTrades`, `userTrades`) do not carry the client order id.
- Only the markets of the traded kind are loaded; coin metadata and margin pairs (both
  private endpoints) not at all.
- Duplicate client order ids (-4116 on futures; "Duplicate order sent." on spot) are
  plain InvalidOrder to ccxt and are classed as DuplicateOrderId here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

import ccxt  # type: ignore[import-untyped]

from ordergate.domain.errors import RejectedByVenue
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderType, Side
from ordergate.venues.ccxt.dialects.base import Dialect, OrderRef
from ordergate.venues.ccxt.errors import UnsupportedByVenue
from ordergate.venues.ccxt.gateway import Gateway
from ordergate.venues.ccxt.maps import TwoWayMap
from ordergate.venues.ccxt.markets import MarketEntry
from ordergate.venues.ccxt.translate import CcxtOrder

SPOT_ORDER_TYPES: TwoWayMap[OrderType, str] = TwoWayMap(
    "spot order type",
    {
        OrderType.MARKET: "MARKET",
        OrderType.LIMIT: "LIMIT",
        OrderType.STOP: "STOP_LOSS",
        OrderType.STOP_LIMIT: "STOP_LOSS_LIMIT",
    },
)
FUTURES_ORDER_TYPES: TwoWayMap[OrderType, str] = TwoWayMap(
    "futures order type",
    {
        OrderType.MARKET: "MARKET",
        OrderType.LIMIT: "LIMIT",
        OrderType.STOP: "STOP_MARKET",
        OrderType.STOP_LIMIT: "STOP",
    },
)


def _types_of(contract: bool) -> TwoWayMap[OrderType, str]:
    return FUTURES_ORDER_TYPES if contract else SPOT_ORDER_TYPES


class BinanceDialect(Dialect):
    error_overrides: ClassVar[Mapping[str, Any]] = {
        "spot": {"exact": {"Duplicate order sent.": ccxt.DuplicateOrderId}},
        "linear": {"exact": {"-4116": ccxt.DuplicateOrderId}},
    }
    json_stream: ClassVar[bool] = True

    def constructor_defaults(self, market_type: str) -> dict[str, Any]:
        defaults = super().constructor_defaults(market_type)
        options = defaults["options"]
        options["fetchMarkets"] = {"types": ["spot" if market_type == "spot" else "linear"]}
        # Coin metadata and margin pairs are private endpoints ordergate has no use for.
        options["fetchCurrencies"] = False
        options["fetchMargins"] = False
        return defaults

    def order_type(self, order: CcxtOrder) -> OrderType:
        info = order.get("info") or {}
        # ccxt's unified contract symbols carry the settle currency: BTC/USDT:USDT.
        contract = ":" in str(order.get("symbol"))
        return _types_of(contract).from_venue(info.get("type") or info.get("orderType"))

    def order_type_call(self, order_type: OrderType, entry: MarketEntry) -> tuple[str, bool]:
        # ccxt upper-cases the type it is given into Binance's `type`.
        return _types_of(entry.contract).to_venue(order_type).lower(), order_type.needs_stop_price

    async def find_order(
        self, gateway: Gateway, entry: MarketEntry, ref: OrderRef
    ) -> CcxtOrder | None:
        found = await super().find_order(gateway, entry, ref)
        if found is not None or not entry.contract:
            return found
        return await super().find_order(gateway, entry, _algo(ref))

    async def open_orders(self, gateway: Gateway, entry: MarketEntry) -> list[CcxtOrder]:
        plain = await super().open_orders(gateway, entry)
        if not entry.contract:
            return plain
        exchange = gateway.exchange
        algo: list[CcxtOrder] = await gateway.read(
            "fetch open algo orders",
            lambda: exchange.fetch_open_orders(entry.ccxt_symbol, None, None, {"trigger": True}),
        )
        return plain + algo

    async def cancel(self, gateway: Gateway, entry: MarketEntry, ref: OrderRef) -> None:
        try:
            await super().cancel(gateway, entry, ref)
        except RejectedByVenue as exc:
            if not entry.contract or exc.code != ReasonCode.VENUE_ORDER_NOT_FOUND:
                raise
            await super().cancel(gateway, entry, _algo(ref))

    async def amend(
        self,
        gateway: Gateway,
        entry: MarketEntry,
        ref: OrderRef,
        order_type: OrderType,
        side: Side,
        qty: Decimal,
        price: Decimal | None,
        stop_price: Decimal | None,
    ) -> None:
        if not entry.contract or order_type is not OrderType.LIMIT:
            raise UnsupportedByVenue(
                f"Binance amends only futures LIMIT orders in place, not {entry.market_type} "
                f"{order_type}",
                code=ReasonCode.ORDER_NOT_REPLACEABLE,
            )
        await super().amend(gateway, entry, ref, order_type, side, qty, price, stop_price)

    def _id_and_params(self, ref: OrderRef) -> tuple[str | None, dict[str, Any]]:
        venue_id, params = super()._id_and_params(ref)
        if isinstance(ref, _AlgoRef):
            params["trigger"] = True
        return venue_id, params


@dataclass(frozen=True, slots=True)
class _AlgoRef(OrderRef):
    """An order reference on the futures algo-order API."""


def _algo(ref: OrderRef) -> OrderRef:
    return _AlgoRef(ref.client_order_id, ref.venue_order_id)
