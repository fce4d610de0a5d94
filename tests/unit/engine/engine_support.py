"""Shared helpers for the engine's unit tests: a scriptable venue and an engine harness.

`ScriptedVenue` is `tests.fakes.FakeVenue` with a log of every request that reached it
and a few failure scripts the fake lacks (a request that reached the venue but whose
answer was lost, a request that never returns, a submit that is never acknowledged).
`Sessions` builds engines over a `MemoryStore` and stops every one it built.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec
from tests.fakes import BTC, FakeMarket, FakeVenue, _Resting

from ordergate.domain.errors import AmbiguousVenueError
from ordergate.domain.instruments import Instrument
from ordergate.domain.values import LiquiditySide, OrderStatus, OrderType, Side
from ordergate.engine.clock import ManualClock
from ordergate.engine.commands import AdjustBalance, PlaceOrder
from ordergate.engine.engine import Engine
from ordergate.engine.ports import (
    SubmitReceipt,
    VenueEvent,
    VenueFill,
    VenueOrderReplaced,
    VenueOrderReport,
    VenueOrderRequest,
)
from ordergate.engine.retry import RetryPolicy
from ordergate.engine.state import OmsState
from ordergate.engine.views import OrderView
from ordergate.store.memory import MemoryStore

D = Decimal
ACCOUNT = "acct"
PRICE = D(50000)
DEPOSIT = D(100000)
SECOND = 1_000_000_000
T0 = 1_700_000_000 * SECOND
FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.001)


@dataclass
class ScriptedVenue(FakeVenue):
    """A `FakeVenue` that logs every request and can lose answers or hold requests.

    `calls` lists (kind, client order id) of every request that reached the venue, in
    order; kind is submit, cancel, replace or query. `lost_answers` makes the next submits
    reach the venue (the order rests there, unacknowledged) and then raise
    `AmbiguousVenueError`, as a connection dropped before the answer would;
    `lost_replace_answers` does the same to replaces (applied, not streamed). `hold` names
    kinds of request that reach the venue and then never return (until `release` is set);
    a held submit has not yet recorded the order. `hang_after_taking` holds a submit after
    the order rests at the venue; `hang_after_canceling` holds a cancel after the venue
    canceled the order (its confirmation never streams). `silent` submits are taken but
    never acknowledged on the stream. `apply_replaces` makes a replace change the resting
    order, so queries report it. `query_failures` are raised by the next queries only
    (`fail_next` is raised by whatever request comes next).
    """

    calls: list[tuple[str, str]] = field(default_factory=list)
    lost_answers: int = 0
    hold: set[str] = field(default_factory=set)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    silent: bool = False
    hang_after_taking: bool = False
    hang_after_canceling: bool = False
    apply_replaces: bool = False
    lost_replace_answers: int = 0
    replaces: list[tuple[str, Decimal, Decimal | None, Decimal | None]] = field(
        default_factory=list
    )
    query_failures: deque[Exception] = field(default_factory=deque)
    pushed_fills: list[VenueFill] = field(default_factory=list)

    async def _maybe_hold(self, kind: str) -> None:
        if kind in self.hold:
            await self.release.wait()

    def push(self, event: VenueEvent) -> None:
        if isinstance(event, VenueFill):
            self.pushed_fills.append(event)
        super().push(event)

    async def submit_order(self, request: VenueOrderRequest) -> SubmitReceipt:
        self.calls.append(("submit", request.client_order_id))
        await self._maybe_hold("submit")
        if not (self.lost_answers or self.silent or self.hang_after_taking):
            return await super().submit_order(request)
        self._raise_if_scripted()
        self.submitted.append(request)
        resting = _Resting(request, f"V{len(self.submitted)}")
        self.orders[request.client_order_id] = resting
        if self.hang_after_taking:
            await self.release.wait()
        if self.lost_answers:
            self.lost_answers -= 1
            raise AmbiguousVenueError("connection lost before the venue answered")
        return SubmitReceipt(resting.venue_order_id)

    async def cancel_order(self, account: str, symbol: str, client_order_id: str) -> None:
        self.calls.append(("cancel", client_order_id))
        await self._maybe_hold("cancel")
        resting = self.orders.get(client_order_id)
        if self.hang_after_canceling and resting is not None:
            self.cancels.append(client_order_id)
            resting.status = OrderStatus.CANCELED  # done at the venue; nothing streamed
            await self.release.wait()
            return
        await super().cancel_order(account, symbol, client_order_id)

    async def replace_order(
        self,
        account: str,
        symbol: str,
        client_order_id: str,
        qty: Decimal,
        price: Decimal | None,
        stop_price: Decimal | None,
    ) -> None:
        self.calls.append(("replace", client_order_id))
        await self._maybe_hold("replace")
        self._raise_if_scripted()
        self.replaces.append((client_order_id, qty, price, stop_price))
        resting = self.orders.get(client_order_id)
        if self.apply_replaces and resting is not None:
            resting.request = msgspec.structs.replace(
                resting.request, qty=qty, price=price, stop_price=stop_price
            )
        if self.lost_replace_answers > 0:
            self.lost_replace_answers -= 1
            raise AmbiguousVenueError("connection lost before the venue answered")
        self.push(VenueOrderReplaced(client_order_id, qty, price, stop_price, self._next_seq(), 0))

    async def get_order(
        self, account: str, symbol: str, client_order_id: str
    ) -> VenueOrderReport | None:
        self.calls.append(("query", client_order_id))
        await self._maybe_hold("query")
        if self.query_failures:
            raise self.query_failures.popleft()
        return await super().get_order(account, symbol, client_order_id)

    def requests(self, kind: str, client_order_id: str | None = None) -> list[str]:
        """Client order ids of the requests of one kind that reached the venue."""
        return [
            coid
            for k, coid in self.calls
            if k == kind and (client_order_id is None or coid == client_order_id)
        ]


@dataclass
class Harness:
    engine: Engine
    venue: ScriptedVenue
    store: MemoryStore
    market: FakeMarket
    clock: ManualClock

    async def place(self, command: PlaceOrder) -> OrderView:
        return (await self.engine.place(command)).order

    async def settle(self) -> None:
        """Wait until the engine is idle and the venue has nothing left to stream.

        `Engine.settle` alone can return while an event the venue already emitted is still
        on its way to the inbox (see test_engine_settle.py), so look at the fake's queue too.
        """
        for _ in range(100):
            await self.engine.settle()
            if not self.venue._queue:
                return
        raise AssertionError("the engine did not settle")

    async def settled(self, order_id: str) -> OrderView:
        """The order as journaled once nothing is queued any more."""
        await self.settle()
        view = self.engine.order(order_id)
        assert view is not None
        return view

    def events(self, kind: type | None = None, order_id: str | None = None) -> list[Any]:
        """Journaled events, optionally of one type and one order."""
        return [
            e
            for e in self.store.events()
            if (kind is None or isinstance(e, kind))
            and (order_id is None or getattr(e, "order_id", None) == order_id)
        ]

    def position(self, account: str = ACCOUNT, symbol: str = BTC.symbol) -> Decimal:
        return self.engine.state.book.qty(account, symbol)

    def balance(self, account: str = ACCOUNT, currency: str = "USDT") -> Decimal:
        acct = self.engine.state.accounts[account]
        return acct.balances.get(currency, D(0))


class Sessions:
    """Builds engines for a test and stops every one of them at the end."""

    def __init__(self) -> None:
        self._engines: list[Engine] = []

    async def start(
        self,
        *,
        venue: ScriptedVenue | None = None,
        store: MemoryStore | None = None,
        market: FakeMarket | None = None,
        clock: ManualClock | None = None,
        state: OmsState | None = None,
        instruments: Iterable[Instrument] = (BTC,),
        fund: Iterable[str] = (ACCOUNT,),
        **options: Any,
    ) -> Harness:
        if market is None:
            market = FakeMarket()
            market.set(BTC.symbol, str(PRICE))
        venue = venue if venue is not None else ScriptedVenue(market)
        store = store if store is not None else MemoryStore()
        clock = clock if clock is not None else ManualClock(T0)
        options.setdefault("retry", FAST_RETRY)
        options.setdefault("query_retry_delay", 0.01)
        engine = Engine(
            state=state if state is not None else OmsState(),
            instruments=list(instruments),
            journal=store,
            venue=venue,
            clock=clock,
            market_data=market,
            **options,
        )
        self._engines.append(engine)
        await engine.start()
        for account in fund:
            await engine.adjust_balance(AdjustBalance(account, "USDT", DEPOSIT, "deposit"))
        return Harness(engine, venue, store, market, clock)

    async def restart(self, h: Harness, **options: Any) -> Harness:
        """Stop `h`'s engine; start a new one from a replay of its store, as bootstrap does."""
        await h.engine.stop()
        state = OmsState.replay(h.store.events())
        state.take_changes()  # bootstrap discards what replay left pending: it is stored
        return await self.start(
            venue=h.venue,
            store=h.store,
            market=h.market,
            clock=h.clock,
            state=state,
            fund=(),
            **options,
        )

    async def close(self) -> None:
        """Stop every engine; one that cannot stop fails the test instead of hanging it."""
        for engine in self._engines:
            await asyncio.wait_for(engine.stop(), 5)


def market_order(
    side: Side = Side.BUY, qty: str = "0.1", account: str = ACCOUNT, **kw: Any
) -> PlaceOrder:
    return PlaceOrder(account=account, symbol=BTC.symbol, side=side, qty=D(qty), **kw)


def limit_order(
    side: Side = Side.BUY,
    qty: str = "0.1",
    price: str = "40000",
    account: str = ACCOUNT,
    **kw: Any,
) -> PlaceOrder:
    return PlaceOrder(
        account=account,
        symbol=BTC.symbol,
        side=side,
        qty=D(qty),
        type=OrderType.LIMIT,
        price=D(price),
        **kw,
    )


def venue_fill(
    order: OrderView,
    qty: str | Decimal,
    price: str | Decimal = PRICE,
    trade_id: str = "X1",
    *,
    fee: str | Decimal = "0",
    side: Side | None = None,
    client_order_id: str | None = None,
) -> VenueFill:
    """A fill as the venue would stream it for `order`."""
    return VenueFill(
        client_order_id=client_order_id or order.client_order_id,
        account=order.account,
        symbol=order.symbol,
        side=side or order.side,
        trade_id=trade_id,
        qty=D(qty),
        price=D(price),
        fee=D(fee),
        fee_currency="USDT",
        liquidity=LiquiditySide.TAKER,
        venue_seq=None,
        ts=0,
    )


def is_status(*statuses: OrderStatus) -> Any:
    return lambda view: view.status in statuses
