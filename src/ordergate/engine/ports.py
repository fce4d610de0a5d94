"""Ports: what the engine needs from the outside world, as `typing.Protocol`s.

Adapters (venues, stores, clocks) implement these; the engine imports nothing else from
them. Venue adapters translate; they never mutate an order: they answer requests and
stream `VenueEvent`s, and the engine turns those into domain events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Protocol

import msgspec

from ordergate.domain.events import Event
from ordergate.domain.values import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.views import ReadModelChanges


class Clock(Protocol):
    """The only source of time: wall clock live, market-data time in paper and replay."""

    def now_ns(self) -> int: ...


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


class MarketData(Protocol):
    def quote(self, symbol: str) -> Quote | None: ...


# --- venue vocabulary -------------------------------------------------------------------


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


class Venue(Protocol):
    """One execution venue. Requests raise `VenueError` subclasses, classified:
    `RetryableVenueError` (nothing happened), `RejectedByVenue` (refused for good),
    `AmbiguousVenueError` (it may have happened: ask by client order id before resending).
    State changes arrive on `events()`, in the venue's order.
    """

    @property
    def name(self) -> str: ...

    @property
    def live(self) -> bool:
        """Real money: new orders wait until an operator arms the account."""
        ...

    @property
    def acceptance_window(self) -> float:
        """Seconds after a request is sent during which the venue may still carry it out
        (a signed request's receive window, say). Until they have passed, a venue that
        does not know an order whose submit was ambiguous may yet place it; read once
        connected."""
        ...

    async def connect(self) -> None: ...

    async def disconnect(self) -> None: ...

    async def submit_order(self, request: VenueOrderRequest) -> SubmitReceipt: ...

    async def cancel_order(self, account: str, symbol: str, client_order_id: str) -> None: ...

    async def replace_order(
        self,
        account: str,
        symbol: str,
        client_order_id: str,
        qty: Decimal,
        price: Decimal | None,
        stop_price: Decimal | None,
    ) -> None: ...

    async def get_order(
        self, account: str, symbol: str, client_order_id: str
    ) -> VenueOrderReport | None: ...

    async def get_open_orders(
        self, account: str, symbol: str | None = None
    ) -> list[VenueOrderReport]: ...

    async def get_positions(self, account: str) -> list[VenuePosition]: ...

    async def get_balances(self, account: str) -> list[VenueBalance]: ...

    async def get_fills(self, account: str, since_ts: int = 0) -> list[VenueFill]:
        """The account's executions at or after `since_ts`, as far back as the venue keeps."""
        ...

    def events(self) -> AsyncIterator[VenueEvent]: ...


# --- journal ----------------------------------------------------------------------------


class JournalRecord(msgspec.Struct, frozen=True, gc=False):
    """One stored event: the envelope of DESIGN.md plus the payload's schema version."""

    partition: int
    seq: int
    ts: int
    stream: str
    type: str
    version: int
    payload: bytes
    prev_hash: bytes
    hash: bytes


class Journal(Protocol):
    """Append-only, hash-chained event store of one partition, with read models in the
    same transaction.

    `append` raises `JournalFenced` when another node has taken the partition over, and
    `JournalError` for any other failure; either way nothing of the batch is stored.
    """

    @property
    def partition(self) -> int: ...

    async def append(self, events: Sequence[Event], changes: ReadModelChanges) -> int:
        """Durably append events and apply read-model changes atomically; return last seq."""
        ...

    def records_after(self, after_seq: int = 0) -> AsyncIterator[JournalRecord]:
        """Stored records of this journal's partition after `after_seq`, in seq order."""
        ...

    async def close(self) -> None: ...
