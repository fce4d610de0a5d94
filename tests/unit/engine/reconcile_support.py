"""Shared helpers for the reconciliation tests: states, venue snapshots, a venue that has them.

`StateBuilder` folds events into an `OmsState` (no engine) so `find_diffs` can be tested
as the pure function it is; `report`, `venue_fill`, `position` and `snapshot` build the
venue's side by hand.

`SnapshotVenue` is `engine_support.ScriptedVenue` whose `get_open_orders` and
`get_positions` answer from what it holds (the fake answers `[]`), plus the few things a
venue does behind ordergate's back: an order placed elsewhere, a fill or a cancel that is
never streamed, terms changed at the venue, a position that differs, a snapshot that
fails. `start` builds an engine over one; `reconcile` runs the real `Reconciler` once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec
from engine_support import ACCOUNT, PRICE, Harness, ScriptedVenue, Sessions
from tests.fakes import BTC, EURUSD, FakeMarket, _Resting

from ordergate.domain.events import (
    Event,
    InstrumentUpdated,
    OrderAccepted,
    OrderApproved,
    OrderCanceled,
    OrderCancelRequested,
    OrderDenied,
    OrderFilled,
    OrderInitialized,
    OrderRejected,
    OrderReplaceRequested,
    OrderStatusUnknown,
    OrderSubmitted,
)
from ordergate.domain.instruments import Instrument
from ordergate.domain.orders import Order
from ordergate.domain.values import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.reconcile import (
    ReconcilePolicy,
    Reconciler,
    ReconciliationReport,
    Scope,
    VenueSnapshot,
)
from ordergate.engine.state import OmsState
from ordergate.engine.venue_reports import (
    VenueFill,
    VenueOrderReport,
    VenueOrderRequest,
    VenuePosition,
)

D = Decimal
OTHER = "other"
OPEN_AT_VENUE = frozenset({OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED})


# --- the state side, folded from events ---------------------------------------------------


class StateBuilder:
    """An `OmsState` built by applying events, with orders walked to a given status."""

    def __init__(self, instruments: Iterable[Instrument] = (BTC, EURUSD)) -> None:
        self.state = OmsState()
        self._ts = 1
        self._trades = 0
        for instrument in instruments:
            self.apply(InstrumentUpdated(instrument, self._tick()))

    def _tick(self) -> int:
        self._ts += 1
        return self._ts

    def apply(self, event: Event) -> None:
        self.state.apply(event)

    def order(
        self,
        status: OrderStatus = OrderStatus.ACCEPTED,
        *,
        account: str = ACCOUNT,
        symbol: str = BTC.symbol,
        side: Side = Side.BUY,
        order_type: OrderType = OrderType.LIMIT,
        qty: str = "1",
        price: str | None = "40000",
        stop_price: str | None = None,
        client_order_id: str | None = None,
    ) -> Order:
        """An order that went the ordinary way to `status` (a partial fill is half of it)."""
        state = self.state
        oid = state.next_order_id()
        self.apply(
            OrderInitialized(
                order_id=oid,
                client_order_id=client_order_id or f"c-{oid}",
                account=account,
                symbol=symbol,
                side=side,
                type=order_type,
                qty=D(qty),
                price=None if price is None else D(price),
                stop_price=None if stop_price is None else D(stop_price),
                time_in_force=TimeInForce.GTC,
                reduce_only=False,
                stop_loss=None,
                take_profit=None,
                strategy=None,
                idempotency_key=None,
                request_hash=None,
                parent_order_id=None,
                trace_id=None,
                ts=self._tick(),
            )
        )
        order = state.orders[oid]
        if status is OrderStatus.DENIED:
            self.apply(OrderDenied(oid, "QTY_ABOVE_MAX", "too big", self._tick()))
            return order
        self.apply(OrderApproved(oid, D(price or "40000"), self._tick()))
        s = OrderStatus
        if status is s.PENDING_SUBMIT:
            return order
        if status is s.UNKNOWN:
            self.apply(OrderStatusUnknown(oid, "submit: timeout", self._tick()))
            return order
        if status is s.REJECTED:
            self.apply(OrderRejected(oid, "VENUE_REJECTED", "no", self._tick()))
            return order
        self.apply(OrderSubmitted(oid, f"V-{oid}", self._tick()))
        if status is s.SUBMITTED:
            return order
        self.apply(OrderAccepted(oid, f"V-{oid}", self._tick()))
        if status is s.PARTIALLY_FILLED:
            self.fill(order, order.qty / 2)
        elif status is s.FILLED:
            self.fill(order, order.qty)
        elif status is s.PENDING_CANCEL:
            self.apply(OrderCancelRequested(oid, "user", self._tick()))
        elif status is s.PENDING_REPLACE:
            self.apply(OrderReplaceRequested(oid, order.qty, D("39000"), None, self._tick()))
        elif status is s.CANCELED:
            self.apply(OrderCanceled(oid, None, None, self._tick()))
        assert order.status is status, (order.status, status)
        return order

    def fill(
        self, order: Order, qty: Decimal | str, price: str = "40000", trade_id: str | None = None
    ) -> OrderFilled:
        self._trades += 1
        fill = OrderFilled(
            order_id=order.order_id,
            account=order.account,
            symbol=order.symbol,
            side=order.side,
            trade_id=trade_id or f"T{self._trades}",
            qty=D(qty),
            price=D(price),
            fee=D(0),
            fee_currency="USDT",
            liquidity=LiquiditySide.TAKER,
            ts=self._tick(),
        )
        self.apply(fill)
        return fill


# --- the venue side, by hand ---------------------------------------------------------------


_SAME: Any = object()  # "as the order has it"


def report(
    order: Order | None = None,
    *,
    client_order_id: str | None = None,
    account: str = ACCOUNT,
    symbol: str = BTC.symbol,
    side: Side = Side.BUY,
    order_type: OrderType = OrderType.LIMIT,
    qty: str | Decimal = _SAME,
    price: str | Decimal | None = _SAME,
    stop_price: str | Decimal | None = _SAME,
    status: OrderStatus = OrderStatus.ACCEPTED,
    filled_qty: str = "0",
) -> VenueOrderReport:
    """The venue's report of `order` (its own terms unless overridden), or of an order
    ordergate never placed when `order` is None (LIMIT BUY 1 @ 40000 by default)."""
    if order is not None:
        client_order_id = client_order_id or order.client_order_id
        account, symbol, side, order_type = order.account, order.symbol, order.side, order.type
        terms = (order.qty, order.price, order.stop_price)
    else:
        terms = (D("1"), D("40000"), None)
    qty = terms[0] if qty is _SAME else qty
    price = terms[1] if price is _SAME else price
    stop_price = terms[2] if stop_price is _SAME else stop_price
    assert client_order_id is not None
    return VenueOrderReport(
        client_order_id=client_order_id,
        venue_order_id=f"V-{client_order_id}",
        account=account,
        symbol=symbol,
        side=side,
        type=order_type,
        qty=D(qty),
        price=None if price is None else D(price),
        stop_price=None if stop_price is None else D(stop_price),
        status=status,
        filled_qty=D(filled_qty),
        avg_fill_price=None,
        ts=0,
    )


def venue_fill(
    client_order_id: str,
    qty: str | Decimal,
    *,
    trade_id: str,
    price: str | Decimal = "40000",
    account: str = ACCOUNT,
    symbol: str = BTC.symbol,
    side: Side = Side.BUY,
    fee: str | Decimal = "0",
) -> VenueFill:
    return VenueFill(
        client_order_id=client_order_id,
        account=account,
        symbol=symbol,
        side=side,
        trade_id=trade_id,
        qty=D(qty),
        price=D(price),
        fee=D(fee),
        fee_currency="USDT",
        liquidity=LiquiditySide.TAKER,
        venue_seq=None,
        ts=0,
    )


def fill_of(order: Order, qty: str | Decimal, *, trade_id: str, **kw: Any) -> VenueFill:
    """A venue fill of a known order."""
    return venue_fill(
        order.client_order_id,
        qty,
        trade_id=trade_id,
        account=order.account,
        symbol=order.symbol,
        side=order.side,
        **kw,
    )


def position(
    qty: str | Decimal, *, account: str = ACCOUNT, symbol: str = BTC.symbol
) -> VenuePosition:
    return VenuePosition(account, symbol, D(qty), D("40000"))


def snapshot(
    *,
    open_orders: Iterable[VenueOrderReport] = (),
    fills: Iterable[VenueFill] = (),
    positions: Iterable[VenuePosition] = (),
    account: str = ACCOUNT,
) -> VenueSnapshot:
    return VenueSnapshot(account, list(open_orders), list(fills), list(positions))


# --- a venue that holds snapshots ------------------------------------------------------------


@dataclass
class SnapshotVenue(ScriptedVenue):
    """A `ScriptedVenue` whose open orders, fills and positions answer what it holds.

    `snapshot_failures` are raised by the next snapshot requests (open orders first);
    `position_offsets` shift the venue's positions away from the sum of its fills;
    `after_fills_snapshot` runs once the fills are read and before the positions are (a
    fill landing in between). Snapshot requests are logged in `calls` as
    ("open_orders" | "fills" | "positions", account).
    """

    snapshot_failures: deque[Exception] = field(default_factory=deque)
    position_offsets: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    after_fills_snapshot: Callable[[], None] | None = None
    _external: int = 0

    def _snapshot_call(self, kind: str, account: str) -> None:
        self.calls.append((kind, account))
        if self.snapshot_failures:
            raise self.snapshot_failures.popleft()

    async def get_open_orders(
        self, account: str, symbol: str | None = None
    ) -> list[VenueOrderReport]:
        self._snapshot_call("open_orders", account)
        return [
            self.report_of(coid)
            for coid, resting in self.orders.items()
            if resting.request.account == account
            and resting.status in OPEN_AT_VENUE
            and (symbol is None or resting.request.symbol == symbol)
        ]

    async def get_fills(self, account: str, since_ts: int = 0) -> list[VenueFill]:
        self._snapshot_call("fills", account)
        fills = await super().get_fills(account, since_ts)
        if self.after_fills_snapshot is not None:
            hook, self.after_fills_snapshot = self.after_fills_snapshot, None
            hook()
        return fills

    async def get_positions(self, account: str) -> list[VenuePosition]:
        self._snapshot_call("positions", account)
        qty: dict[str, Decimal] = {}
        for fill in self.fills_sent:
            if fill.account == account:
                qty[fill.symbol] = qty.get(fill.symbol, D(0)) + fill.side.sign * fill.qty
        for (acct, symbol), offset in self.position_offsets.items():
            if acct == account:
                qty[symbol] = qty.get(symbol, D(0)) + offset
        return [VenuePosition(account, s, q, PRICE) for s, q in sorted(qty.items()) if q != 0]

    def report_of(self, client_order_id: str) -> VenueOrderReport:
        resting = self.orders[client_order_id]
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

    # --- what happens at the venue behind ordergate's back -----------------------------------

    def external_order(
        self,
        client_order_id: str,
        *,
        account: str = ACCOUNT,
        side: Side = Side.BUY,
        qty: str = "0.2",
        price: str = "41000",
    ) -> None:
        """An order placed at the venue by someone else (another bot, a person)."""
        self._external += 1
        request = VenueOrderRequest(
            client_order_id=client_order_id,
            account=account,
            symbol=BTC.symbol,
            side=side,
            type=OrderType.LIMIT,
            qty=D(qty),
            price=D(price),
            stop_price=None,
            time_in_force=TimeInForce.GTC,
            reduce_only=False,
        )
        self.orders[client_order_id] = _Resting(request, f"EXT{self._external}")

    def silent_fill(
        self,
        client_order_id: str,
        qty: str | Decimal,
        *,
        trade_id: str,
        price: str | Decimal = PRICE,
        fee: str | Decimal = "0",
    ) -> VenueFill:
        """An execution at the venue that is never streamed (the connection was down)."""
        resting = self.orders[client_order_id]
        resting.filled += D(qty)
        full = resting.filled >= resting.request.qty
        resting.status = OrderStatus.FILLED if full else OrderStatus.PARTIALLY_FILLED
        r = resting.request
        fill = venue_fill(
            client_order_id,
            qty,
            trade_id=trade_id,
            price=price,
            account=r.account,
            symbol=r.symbol,
            side=r.side,
            fee=fee,
        )
        self.fills_sent.append(fill)
        return fill

    def silent_cancel(self, client_order_id: str) -> None:
        """The venue canceled the order and its notice was lost."""
        self.orders[client_order_id].status = OrderStatus.CANCELED

    def change_terms(self, client_order_id: str, **terms: Any) -> None:
        """The venue holds the order with other terms than ordergate (qty, price...)."""
        resting = self.orders[client_order_id]
        resting.request = msgspec.structs.replace(resting.request, **terms)


async def start(
    sessions: Sessions, policy: ReconcilePolicy | None = None, **options: Any
) -> tuple[Harness, SnapshotVenue]:
    """An engine over a `SnapshotVenue`, with `policy` (default: the engine's default)."""
    market = FakeMarket()
    market.set(BTC.symbol, str(PRICE))
    venue = SnapshotVenue(market)
    if policy is not None:
        options["reconcile_policy"] = policy
    h = await sessions.start(venue=venue, market=market, **options)
    return h, venue


def reconciler_of(h: Harness, interval: float | None = None) -> Reconciler:
    return Reconciler(h.venue, h.engine.reconcile, lambda: h.engine.accounts, interval)


async def reconcile(
    h: Harness, scope: Scope = Scope.ALL, account: str = ACCOUNT
) -> ReconciliationReport:
    """Take the venue's snapshot of `account` and reconcile it now (the real Reconciler)."""
    reports = await reconciler_of(h).run([account], scope)
    await h.settle()  # the remedies' venue requests and their answers
    return reports[0]
