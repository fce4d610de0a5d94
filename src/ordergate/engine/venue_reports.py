"""What venues tell the engine, and what the engine asks of them: quotes, order requests
and receipts, order reports, positions, balances and the streamed venue events.

Plain immutable structs (msgspec, no garbage-collector tracking: many are made per
order). Adapters build them from a venue's own payloads; the engine turns them into
domain events. The `Venue` and `MarketData` ports (`engine.ports`) speak in these.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from ordergate.domain.values import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce


class Quote(msgspec.Struct, frozen=True, gc=False):
    """Best prices of one instrument at `ts`; `last` is the last trade or bar close."""

    symbol: str
    bid: Decimal
    ask: Decimal
    last: Decimal
    ts: int

    def price_for(self, side: Side) -> Decimal:
        """The price a marketable order on `side` would pay now."""
        return self.ask if side is Side.BUY else self.bid


class VenueOrderRequest(msgspec.Struct, frozen=True, gc=False):
    client_order_id: str
    account: str
    symbol: str
    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    time_in_force: TimeInForce
    reduce_only: bool


class SubmitReceipt(msgspec.Struct, frozen=True, gc=False):
    """The venue's synchronous answer to a submit.

    By default it means the venue has the order, not yet that the order works: the
    acceptance (or a rejection) follows on the event stream. A venue whose answer is the
    acceptance itself (the paper venue; MT5's `OrderSend` returning DONE) says
    `accepted=True` and streams no separate ack.
    """

    venue_order_id: str | None
    accepted: bool = False


class VenueOrderReport(msgspec.Struct, frozen=True, gc=False):
    """The venue's view of one order, as answered to a query.

    `status` is one of ACCEPTED, PARTIALLY_FILLED, FILLED, CANCELED, REJECTED, EXPIRED.
    """

    client_order_id: str
    venue_order_id: str | None
    account: str
    symbol: str
    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    status: OrderStatus
    filled_qty: Decimal
    avg_fill_price: Decimal | None
    ts: int


class VenuePosition(msgspec.Struct, frozen=True, gc=False):
    account: str
    symbol: str
    qty: Decimal
    avg_price: Decimal


class VenueBalance(msgspec.Struct, frozen=True, gc=False):
    account: str
    currency: str
    balance: Decimal


# Streamed events. `venue_seq` is the venue's own sequence number where it has one (gap
# detection); `ts` is the venue's event time in ns.


class VenueOrderAccepted(msgspec.Struct, frozen=True, gc=False):
    client_order_id: str
    venue_order_id: str | None
    venue_seq: int | None
    ts: int


class VenueOrderRejected(msgspec.Struct, frozen=True, gc=False):
    client_order_id: str
    reason_code: str
    reason: str
    venue_seq: int | None
    ts: int


class VenueFill(msgspec.Struct, frozen=True, gc=False):
    """`settlement_date`: the day it settles (ISO 8601), where the venue says."""

    client_order_id: str
    account: str
    symbol: str
    side: Side
    trade_id: str
    qty: Decimal
    price: Decimal
    fee: Decimal
    fee_currency: str
    liquidity: LiquiditySide
    venue_seq: int | None
    ts: int
    settlement_date: str | None = None


class VenueOrderCanceled(msgspec.Struct, frozen=True, gc=False):
    """`filled_qty`: what had filled when the venue canceled, where it says (fills may
    still be on their way: the engine keeps room for them in position limits)."""

    client_order_id: str
    reason_code: str | None
    reason: str | None
    venue_seq: int | None
    ts: int
    filled_qty: Decimal | None = None


class VenueOrderExpired(msgspec.Struct, frozen=True, gc=False):
    client_order_id: str
    reason_code: str | None
    venue_seq: int | None
    ts: int
    filled_qty: Decimal | None = None


class VenueOrderReplaced(msgspec.Struct, frozen=True, gc=False):
    client_order_id: str
    qty: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    venue_seq: int | None
    ts: int


class VenueCancelRejected(msgspec.Struct, frozen=True, gc=False):
    client_order_id: str
    reason_code: str
    reason: str
    venue_seq: int | None
    ts: int


class VenueReplaceRejected(msgspec.Struct, frozen=True, gc=False):
    client_order_id: str
    reason_code: str
    reason: str
    venue_seq: int | None
    ts: int


class VenueReconnected(msgspec.Struct, frozen=True, gc=False):
    """The venue's stream came back after a drop: what happened meanwhile is unknown."""

    detail: str
    ts: int


VenueEvent = (
    VenueReconnected
    | VenueOrderAccepted
    | VenueOrderRejected
    | VenueFill
    | VenueOrderCanceled
    | VenueOrderExpired
    | VenueOrderReplaced
    | VenueCancelRejected
    | VenueReplaceRejected
)
