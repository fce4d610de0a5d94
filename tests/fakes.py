"""Fakes of the engine's ports for unit tests: small, scriptable, no I/O."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal

from ordergate.domain.errors import RejectedByVenue
from ordergate.domain.instruments import Instrument
from ordergate.domain.values import LiquiditySide, OrderStatus, OrderType
from ordergate.engine.venue_reports import (
    Quote,
    SubmitReceipt,
    VenueBalance,
    VenueEvent,
    VenueFill,
    VenueOrderAccepted,
    VenueOrderCanceled,
    VenueOrderReplaced,
    VenueOrderReport,
    VenueOrderRequest,
    VenuePosition,
)

BTC = Instrument(
    symbol="BTCUSDT",
    base_currency="BTC",
    quote_currency="USDT",
    tick_size=Decimal("0.1"),
    lot_step=Decimal("0.001"),
    min_qty=Decimal("0.001"),
    min_notional=Decimal("5"),
    contract_size=Decimal("1"),
    margin_rate=Decimal("0.1"),
    taker_fee_rate=Decimal("0.0005"),
)
EURUSD = Instrument(
    symbol="EURUSD",
    base_currency="EUR",
    quote_currency="USD",
    tick_size=Decimal("0.00001"),
    lot_step=Decimal("0.01"),
    min_qty=Decimal("0.01"),
    contract_size=Decimal("100000"),
    margin_rate=Decimal("0.01"),
)


class FakeMarket:
    """Quotes set by the test."""

    def __init__(self) -> None:
        self.quotes: dict[str, Quote] = {}

    def set(self, symbol: str, bid: str, ask: str | None = None, ts: int = 0) -> None:
        b = Decimal(bid)
        a = Decimal(ask) if ask is not None else b
        self.quotes[symbol] = Quote(symbol, b, a, (b + a) / 2, ts)

    def quote(self, symbol: str) -> Quote | None:
        return self.quotes.get(symbol)


@dataclass
class _Resting:
    request: VenueOrderRequest
    venue_order_id: str
    filled: Decimal = Decimal(0)
    status: OrderStatus = OrderStatus.ACCEPTED


@dataclass
class FakeVenue:
    """A scriptable venue: market orders fill at the fake market's price, others rest.

    `fail_next` holds exceptions to raise on the next requests, in order; `auto_fill`
    off leaves market orders resting too; `fill(coid, qty, price)` fills by hand;
    `acceptance_window` is the venue's (seconds a request may still be carried out).
    """

    market: FakeMarket
    acceptance_window: float = 0.0
    auto_fill: bool = True
    fail_next: deque[Exception] = field(default_factory=deque)
    submitted: list[VenueOrderRequest] = field(default_factory=list)
    cancels: list[str] = field(default_factory=list)
    orders: dict[str, _Resting] = field(default_factory=dict)
    fills_sent: list[VenueFill] = field(default_factory=list)
    _queue: deque[VenueEvent] = field(default_factory=deque)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    _seq: int = 0
    _trades: int = 0
    connected: bool = False
    live: bool = False

    @property
    def name(self) -> str:
        return "fake"

    async def connect(self) -> None:
        self.connected = True

    async def disconnect(self) -> None:
        self.connected = False

    def push(self, event: VenueEvent) -> None:
        self._queue.append(event)
        self._ready.set()

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _raise_if_scripted(self) -> None:
        if self.fail_next:
            raise self.fail_next.popleft()

    async def submit_order(self, request: VenueOrderRequest) -> SubmitReceipt:
        self._raise_if_scripted()
        if request.client_order_id in self.orders:
            raise RejectedByVenue("duplicate client order id", code="DUPLICATE_CLIENT_ORDER_ID")
        self.submitted.append(request)
        resting = _Resting(request, f"V{len(self.submitted)}")
        self.orders[request.client_order_id] = resting
        self.push(
            VenueOrderAccepted(request.client_order_id, resting.venue_order_id, self._next_seq(), 0)
        )
        if self.auto_fill and request.type is OrderType.MARKET:
            quote = self.market.quote(request.symbol)
            assert quote is not None
            self.fill(request.client_order_id, request.qty, quote.price_for(request.side))
        return SubmitReceipt(resting.venue_order_id)

    def fill(
        self, client_order_id: str, qty: Decimal, price: Decimal, trade_id: str | None = None
    ) -> VenueFill:
        resting = self.orders[client_order_id]
        self._trades += 1
        resting.filled += qty
        if resting.filled >= resting.request.qty:
            resting.status = OrderStatus.FILLED
        else:
            resting.status = OrderStatus.PARTIALLY_FILLED
        event = VenueFill(
            client_order_id=client_order_id,
            account=resting.request.account,
            symbol=resting.request.symbol,
            side=resting.request.side,
            trade_id=trade_id or f"T{self._trades}",
            qty=qty,
            price=price,
            fee=Decimal(0),
            fee_currency="USDT",
            liquidity=LiquiditySide.TAKER,
            venue_seq=self._next_seq(),
            ts=0,
        )
        self.push(event)
        self.fills_sent.append(event)
        return event

    async def cancel_order(self, account: str, symbol: str, client_order_id: str) -> None:
        self._raise_if_scripted()
        self.cancels.append(client_order_id)
        resting = self.orders.get(client_order_id)
        if resting is None:
            raise RejectedByVenue("no such order", code="ORDER_NOT_FOUND")
        if resting.status in (OrderStatus.FILLED, OrderStatus.CANCELED):
            raise RejectedByVenue("order is closed", code="ORDER_CLOSED")
        resting.status = OrderStatus.CANCELED
        self.push(
            VenueOrderCanceled(client_order_id, None, None, self._next_seq(), 0, resting.filled)
        )

    async def replace_order(
        self,
        account: str,
        symbol: str,
        client_order_id: str,
        qty: Decimal,
        price: Decimal | None,
        stop_price: Decimal | None,
    ) -> None:
        self._raise_if_scripted()
        self.push(VenueOrderReplaced(client_order_id, qty, price, stop_price, self._next_seq(), 0))

    async def get_order(
        self, account: str, symbol: str, client_order_id: str
    ) -> VenueOrderReport | None:
        self._raise_if_scripted()
        resting = self.orders.get(client_order_id)
        if resting is None:
            return None
        r = resting.request
        return VenueOrderReport(
            client_order_id=r.client_order_id,
            venue_order_id=resting.venue_order_id,
            account=r.account,
            symbol=r.symbol,
            side=r.side,
            type=r.type,
            qty=r.qty,
            price=r.price,
            stop_price=r.stop_price,
            status=resting.status,
            filled_qty=resting.filled,
            avg_fill_price=None,
            ts=0,
        )

    async def get_open_orders(
        self, account: str, symbol: str | None = None
    ) -> list[VenueOrderReport]:
        return []

    async def get_positions(self, account: str) -> list[VenuePosition]:
        return []

    async def get_balances(self, account: str) -> list[VenueBalance]:
        return []

    async def get_fills(self, account: str, since_ts: int = 0) -> list[VenueFill]:
        return [f for f in self.fills_sent if f.account == account and f.ts >= since_ts]

    async def events(self) -> AsyncIterator[VenueEvent]:
        while True:
            while self._queue:
                yield self._queue.popleft()
            self._ready.clear()
            await self._ready.wait()


class FakeClock:
    """Monotonic seconds that pass only when the test moves `now` (key caches, rate limits)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
