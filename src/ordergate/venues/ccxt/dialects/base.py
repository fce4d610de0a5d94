"""How ordergate's requests are said through ccxt's unified API, for any exchange.

A dialect knows one exchange's divergences from ccxt's unified conventions: which
param carries a client order id or a trigger price, how an order is looked up by its
client order id, which of ccxt's error classes its error codes deserve, how its order
types are spelled. `Dialect` speaks plain unified ccxt; the exchange modules override
what their exchange does differently.

Every request is checked against the market's grid with ccxt's own formatting before it
is sent: ccxt truncates an amount off the step silently, which would trade a quantity
nobody asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from ordergate.domain.errors import RejectedByVenue
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderType, Side, TimeInForce
from ordergate.engine.venue_reports import VenueOrderRequest
from ordergate.venues.ccxt.decimals import optional_decimal
from ordergate.venues.ccxt.gateway import Gateway
from ordergate.venues.ccxt.maps import SIDES, TwoWayMap
from ordergate.venues.ccxt.markets import MarketEntry, default_min_notional
from ordergate.venues.ccxt.translate import CcxtOrder, CcxtTrade

# How late a signed request may reach an exchange that states no receive window (Kraken
# signs with a nonce, not a timestamp): long enough for any queue, short enough that a
# dirty instrument does not stay closed to new risk for long.
UNSTATED_ACCEPTANCE_WINDOW = 60.0
# The clock skew Bybit and Binance allow a request's timestamp ahead of theirs.
ALLOWED_CLOCK_SKEW = 1.0

UNIFIED_TIME_IN_FORCE: TwoWayMap[TimeInForce, str] = TwoWayMap(
    "time in force",
    {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK"},
)
# ccxt's unified order type, and whether the order waits for a trigger price.
UNIFIED_ORDER_TYPES: TwoWayMap[OrderType, tuple[str, bool]] = TwoWayMap(
    "order type",
    {
        OrderType.MARKET: ("market", False),
        OrderType.LIMIT: ("limit", False),
        OrderType.STOP: ("market", True),
        OrderType.STOP_LIMIT: ("limit", True),
    },
)


@dataclass(frozen=True, slots=True)
class OrderCall:
    """The arguments of one ccxt `create_order` call."""

    type: str
    side: str
    amount: str
    price: str | None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OrderRef:
    """How to name an order to the venue: ordergate's client order id, or, for an order
    placed outside ordergate, the venue's own id."""

    client_order_id: str | None
    venue_order_id: str | None


class Dialect:
    """ccxt's unified API as documented; exchanges that diverge override what differs."""

    time_in_force: ClassVar[TwoWayMap[TimeInForce, str]] = UNIFIED_TIME_IN_FORCE
    trigger_param: ClassVar[str] = "triggerPrice"
    # ccxt error classes per exchange error code, laid over ccxt's own table.
    error_overrides: ClassVar[Mapping[str, Any]] = {}
    # Every frame of the exchange's private stream is JSON, so any other frame is an
    # unreadable message (see `payloads`). Unknown for an exchange in general: some send
    # plain-text keepalives ("pong"), which ccxt's handlers expect as they are.
    json_stream: ClassVar[bool] = False

    def constructor_defaults(self, market_type: str) -> dict[str, Any]:
        """ccxt constructor settings this exchange needs for `market_type` markets."""
        return {"options": {"defaultType": market_type}, "exceptions": self.error_overrides}

    def acceptance_window(self, exchange: Any) -> float:
        """Seconds after signing during which the exchange may still carry out a request.

        Exchanges that sign a timestamp with a receive window (ccxt's `recvWindow`
        option: Bybit, Binance, ...) refuse a request that reaches them later than the
        window plus the clock skew they allow; others are given `UNSTATED_ACCEPTANCE_WINDOW`.
        """
        recv_window_ms = exchange.options.get("recvWindow")
        if recv_window_ms is None:
            return UNSTATED_ACCEPTANCE_WINDOW
        return float(recv_window_ms) / 1000 + ALLOWED_CLOCK_SKEW

    def min_notional(self, market: Mapping[str, Any]) -> Decimal | None:
        return default_min_notional(market)

    async def prepare(self, gateway: Gateway, stream_exchange: Any) -> None:
        """Settle, once markets are loaded, what the exchange would otherwise look up on
        its own in the middle of the first order (outside ordergate's request budget)."""

    # --- reading orders -----------------------------------------------------------------

    def order_type(self, order: CcxtOrder) -> OrderType:
        has_trigger = self.trigger_price(order) is not None
        return UNIFIED_ORDER_TYPES.from_venue((order.get("type"), has_trigger))

    def trigger_price(self, order: CcxtOrder) -> Decimal | None:
        return optional_decimal(order.get("triggerPrice"), "order trigger price")

    def trade_client_order_id(self, trade: CcxtTrade) -> str | None:
        """The client order id an execution names, where the venue sends one with it
        (ccxt's unified trade has no field for it)."""
        return None

    # --- requests -----------------------------------------------------------------------

    def order_call(
        self, exchange: Any, request: VenueOrderRequest, entry: MarketEntry
    ) -> OrderCall:
        ccxt_type, has_trigger = self.order_type_call(request.type, entry)
        params: dict[str, Any] = {"clientOrderId": request.client_order_id}
        if request.type.needs_price:
            params["timeInForce"] = self.time_in_force.to_venue(request.time_in_force)
        if request.reduce_only:
            params["reduceOnly"] = True
        if has_trigger:
            params[self.trigger_param] = price_text(
                exchange, entry, request.stop_price, "stop price"
            )
            params.update(self.trigger_params(request.side, entry))
        price = (
            price_text(exchange, entry, request.price, "price")
            if request.type.needs_price
            else None
        )
        return OrderCall(
            type=ccxt_type,
            side=SIDES.to_venue(request.side),
            amount=amount_text(exchange, entry, request.qty),
            price=price,
            params=params,
        )

    def order_type_call(self, order_type: OrderType, entry: MarketEntry) -> tuple[str, bool]:
        """The type to hand ccxt's `create_order`, and whether a trigger price goes along."""
        return UNIFIED_ORDER_TYPES.to_venue(order_type)

    def trigger_params(self, side: Side, entry: MarketEntry) -> dict[str, Any]:
        """Extra params a trigger order needs on this exchange."""
        return {}

    async def find_order(
        self, gateway: Gateway, entry: MarketEntry, ref: OrderRef
    ) -> CcxtOrder | None:
        """The order at the venue, open or done; None if the venue has no such order."""
        exchange = gateway.exchange
        venue_id, params = self._id_and_params(ref)
        try:
            order: CcxtOrder = await gateway.read(
                "fetch order", lambda: exchange.fetch_order(venue_id, entry.ccxt_symbol, params)
            )
        except RejectedByVenue as exc:
            if exc.code == ReasonCode.VENUE_ORDER_NOT_FOUND:
                return None
            raise
        return first_match([order], ref)

    async def open_orders(self, gateway: Gateway, entry: MarketEntry) -> list[CcxtOrder]:
        exchange = gateway.exchange
        orders: list[CcxtOrder] = await gateway.read(
            "fetch open orders", lambda: exchange.fetch_open_orders(entry.ccxt_symbol)
        )
        return orders

    async def positions(self, gateway: Gateway, entries: list[MarketEntry]) -> list[Any]:
        """The venue's positions in `entries` (contract markets), in one request."""
        exchange = gateway.exchange
        symbols = [e.ccxt_symbol for e in entries]
        return list(
            await gateway.read("fetch positions", lambda: exchange.fetch_positions(symbols))
        )

    async def cancel(self, gateway: Gateway, entry: MarketEntry, ref: OrderRef) -> None:
        exchange = gateway.exchange
        venue_id, params = self._id_and_params(ref)
        await gateway.write(
            "cancel order", lambda: exchange.cancel_order(venue_id, entry.ccxt_symbol, params)
        )

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
        """Change a working order's quantity and prices in place, keeping its ids."""
        exchange = gateway.exchange
        venue_id, params = self._id_and_params(ref)
        ccxt_type, has_trigger = self.order_type_call(order_type, entry)
        if has_trigger:
            params[self.trigger_param] = price_text(exchange, entry, stop_price, "stop price")
        amount = amount_text(exchange, entry, qty)
        limit = price_text(exchange, entry, price, "price") if order_type.needs_price else None
        ccxt_side = SIDES.to_venue(side)
        await gateway.write(
            "amend order",
            lambda: exchange.edit_order(
                venue_id, entry.ccxt_symbol, ccxt_type, ccxt_side, amount, limit, params
            ),
        )

    async def order_trades(
        self, gateway: Gateway, entry: MarketEntry, ref: OrderRef, venue_order_id: str
    ) -> list[CcxtTrade]:
        """The executions of one order."""
        exchange = gateway.exchange
        trades: list[CcxtTrade] = await gateway.read(
            "fetch order trades",
            lambda: exchange.fetch_order_trades(venue_order_id, entry.ccxt_symbol),
        )
        return trades

    async def my_trades(
        self, gateway: Gateway, entry: MarketEntry, since_ms: int | None
    ) -> list[CcxtTrade]:
        """The account's executions in one market since `since_ms` (None: recent ones)."""
        exchange = gateway.exchange
        trades: list[CcxtTrade] = await gateway.read(
            "fetch my trades", lambda: exchange.fetch_my_trades(entry.ccxt_symbol, since_ms)
        )
        return trades

    def _id_and_params(self, ref: OrderRef) -> tuple[str | None, dict[str, Any]]:
        """ccxt's unified way: the venue id as the id, the client id in params."""
        if ref.client_order_id is not None:
            return ref.venue_order_id, {"clientOrderId": ref.client_order_id}
        return ref.venue_order_id, {}


def first_match(orders: list[CcxtOrder], ref: OrderRef) -> CcxtOrder | None:
    """The order `ref` names among `orders`: a venue may ignore a filter it does not know."""
    for order in orders:
        if ref.client_order_id is not None:
            if order.get("clientOrderId") == ref.client_order_id:
                return order
        elif order.get("id") == ref.venue_order_id:
            return order
    return None


def amount_text(exchange: Any, entry: MarketEntry, qty: Decimal) -> str:
    """`qty` as ccxt will send it; refuse a quantity off the market's step."""
    text = str(exchange.amount_to_precision(entry.ccxt_symbol, str(qty)))
    if Decimal(text) != qty:
        raise RejectedByVenue(
            f"{entry.symbol}: quantity {qty} is not on the venue's step (it would send {text})",
            code=ReasonCode.QTY_NOT_ON_STEP,
        )
    return text


def price_text(exchange: Any, entry: MarketEntry, price: Decimal | None, what: str) -> str:
    """`price` as ccxt will send it; refuse a price off the market's tick."""
    if price is None:
        raise RejectedByVenue(f"{entry.symbol}: the {what} is missing")
    text = str(exchange.price_to_precision(entry.ccxt_symbol, str(price)))
    if Decimal(text) != price:
        raise RejectedByVenue(
            f"{entry.symbol}: {what} {price} is not on the venue's tick (it would send {text})",
            code=ReasonCode.PRICE_NOT_ON_TICK,
        )
    return text
