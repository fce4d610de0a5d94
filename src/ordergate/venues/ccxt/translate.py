"""ccxt's unified structures (orders, trades, positions, balances) as ordergate's messages.

Only markets ordergate trades here are translated: anything else the account holds at
the venue is none of this venue's business and comes back as None.

An order or execution without a client order id (placed outside ordergate: by hand, by
the venue's liquidation or auto-deleveraging engine) is named after its venue order id,
`venue-<id>`: reconciliation can then adopt it, and cancels or queries for that name go
to the venue order id. ordergate's own client order ids are 32 hex characters, so the
two never collide.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol

from ordergate.domain.values import ZERO, LiquiditySide, OrderType, Side
from ordergate.engine.venue_reports import VenueBalance, VenueFill, VenueOrderReport, VenuePosition
from ordergate.venues.ccxt.decimals import decimal_of, ns_of_ms, optional_decimal
from ordergate.venues.ccxt.errors import UnmappedVenueValue
from ordergate.venues.ccxt.maps import SIDES, TwoWayMap, order_status
from ordergate.venues.ccxt.markets import MarketDirectory, MarketEntry

EXTERNAL_PREFIX = "venue-"

LIQUIDITY: TwoWayMap[LiquiditySide, str] = TwoWayMap(
    "liquidity side", {LiquiditySide.MAKER: "maker", LiquiditySide.TAKER: "taker"}
)
POSITION_SIDES: TwoWayMap[Side, str] = TwoWayMap(
    "position side", {Side.BUY: "long", Side.SELL: "short"}
)

CcxtOrder = Mapping[str, Any]
CcxtTrade = Mapping[str, Any]


class OrderReading(Protocol):
    """How one exchange's orders read in ccxt's unified structure (see `dialects`)."""

    def order_type(self, order: CcxtOrder) -> OrderType: ...

    def trigger_price(self, order: CcxtOrder) -> Decimal | None: ...


def external_client_order_id(venue_order_id: str) -> str:
    return f"{EXTERNAL_PREFIX}{venue_order_id}"


def venue_order_id_in(client_order_id: str) -> str | None:
    """The venue order id an external order's name stands for; None for ordergate's ids."""
    if client_order_id.startswith(EXTERNAL_PREFIX):
        return client_order_id[len(EXTERNAL_PREFIX) :]
    return None


class Translator:
    """Reads ccxt's structures for one account at one venue."""

    def __init__(self, account: str, markets: MarketDirectory, reading: OrderReading) -> None:
        self._account = account
        self._markets = markets
        self._reading = reading

    def market_of(self, item: Mapping[str, Any]) -> MarketEntry | None:
        return self._markets.by_ccxt_symbol(item.get("symbol"))

    def order(self, order: CcxtOrder) -> VenueOrderReport | None:
        entry = self.market_of(order)
        if entry is None:
            return None
        venue_order_id = text_of(order.get("id"))
        amount = decimal_of(order.get("amount"), "order amount")
        # ccxt leaves `filled` out only when the venue said nothing about fills yet.
        filled = optional_decimal(order.get("filled"), "order filled") or ZERO
        kind = self._reading.order_type(order)
        ts = ns_of_ms(order.get("lastUpdateTimestamp")) or ns_of_ms(order.get("timestamp"))
        return VenueOrderReport(
            client_order_id=client_order_id_of(order),
            venue_order_id=venue_order_id,
            account=self._account,
            symbol=entry.symbol,
            side=SIDES.from_venue(order.get("side")),
            type=kind,
            qty=amount,
            price=optional_decimal(order.get("price"), "order price") if kind.needs_price else None,
            stop_price=self._reading.trigger_price(order) if kind.needs_stop_price else None,
            status=order_status(order.get("status"), filled, amount),
            filled_qty=filled,
            avg_fill_price=optional_decimal(order.get("average"), "order average price") or None,
            ts=ts or 0,
        )

    def fill(self, trade: CcxtTrade, client_order_id: str) -> VenueFill | None:
        entry = self.market_of(trade)
        if entry is None:
            return None
        trade_id = text_of(trade.get("id"))
        ts = ns_of_ms(trade.get("timestamp"))
        if trade_id is None or ts is None:
            raise UnmappedVenueValue(f"an execution without an id or a time: {trade.get('info')}")
        fee, fee_currency = fee_of(trade, entry)
        return VenueFill(
            client_order_id=client_order_id,
            account=self._account,
            symbol=entry.symbol,
            side=SIDES.from_venue(trade.get("side")),
            trade_id=trade_id,
            qty=decimal_of(trade.get("amount"), "execution amount"),
            price=decimal_of(trade.get("price"), "execution price"),
            fee=fee,
            fee_currency=fee_currency,
            liquidity=LIQUIDITY.from_venue(trade.get("takerOrMaker")),
            venue_seq=None,
            ts=ts,
        )

    def position(self, position: Mapping[str, Any]) -> VenuePosition | None:
        """A net position in contracts, signed (short is negative); None when flat."""
        entry = self.market_of(position)
        if entry is None:
            return None
        contracts = optional_decimal(position.get("contracts"), "position contracts") or ZERO
        if contracts == ZERO:
            return None
        side = POSITION_SIDES.from_venue(position.get("side"))
        return VenuePosition(
            account=self._account,
            symbol=entry.symbol,
            qty=side.sign * contracts,
            avg_price=decimal_of(position.get("entryPrice"), "position entry price"),
        )

    def balances(self, balance: Mapping[str, Any]) -> list[VenueBalance]:
        """Each currency's total (free and in use), as the venue reports it."""
        totals = balance.get("total") or {}
        return [
            VenueBalance(self._account, str(currency), decimal_of(total, f"{currency} balance"))
            for currency, total in sorted(totals.items())
            if total is not None
        ]


def client_order_id_of(order: CcxtOrder) -> str:
    client_order_id = text_of(order.get("clientOrderId"))
    if client_order_id is not None:
        return client_order_id
    venue_order_id = text_of(order.get("id"))
    if venue_order_id is None:
        raise UnmappedVenueValue(f"an order with neither id: {order.get('info')}")
    return external_client_order_id(venue_order_id)


def fee_of(trade: CcxtTrade, entry: MarketEntry) -> tuple[Decimal, str]:
    """The execution's fee and its currency, as charged: never converted.

    ccxt reports fees as `fee` or a `fees` list. An execution charged in two currencies
    at once cannot be one `VenueFill`, so it is refused rather than reduced to one.
    """
    fees = trade.get("fees") or ([trade["fee"]] if trade.get("fee") else [])
    charged: dict[str, Decimal] = {}
    for fee in fees:
        cost = optional_decimal(fee.get("cost"), "fee")
        if cost is None or cost == ZERO:
            continue
        currency = text_of(fee.get("currency"))
        if currency is None:
            raise UnmappedVenueValue(f"a fee of {cost} in no currency: {trade.get('info')}")
        charged[currency] = charged.get(currency, ZERO) + cost
    if len(charged) > 1:
        raise UnmappedVenueValue(f"an execution charged in {sorted(charged)}: one fee expected")
    if not charged:
        return ZERO, entry.settle or entry.instrument.quote_currency
    [(currency, cost)] = charged.items()
    return cost, currency


def text_of(value: object) -> str | None:
    """A ccxt field as text; None for a missing or empty one."""
    if value is None or value == "":
        return None
    return str(value)
