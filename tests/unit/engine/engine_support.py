"""Shared helpers for the engine's unit tests: a scriptable venue and an engine harness.

`ScriptedVenue` is `tests.fakes.FakeVenue` with a log of every request that reached it
and a few failure scripts the fake lacks (a request that reached the venue but whose
answer was lost, a request that never returns, a submit that is never acknowledged).
`Sessions` builds engines, each over a journal on the store the run names
(ORDERGATE_TEST_ENGINE_STORE: `memory`, the default, or `postgres`), and stops every one
it built. Tests look at the journal through the harness only (`Harness.events`,
`stored_events`, `replayed`), never through a store's own synchronous reads, so the same
suite runs on both stores.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec
from tests.fakes import BTC, FakeMarket, FakeVenue, _Resting
from tests.unit.engine.schema_stock import SchemaStock, schema_stock
from tests.waiting import TIMEOUT

from ordergate.domain.errors import AmbiguousVenueError
from ordergate.domain.events import Event
from ordergate.domain.instruments import Instrument
from ordergate.domain.values import LiquiditySide, OrderStatus, OrderType, Side
from ordergate.engine.clock import ManualClock
from ordergate.engine.codec import decode
from ordergate.engine.commands import AdjustBalance, PlaceOrder
from ordergate.engine.engine import Engine
from ordergate.engine.ports import Journal
from ordergate.engine.retry import RetryPolicy
from ordergate.engine.state import OmsState
from ordergate.engine.subscriptions import JournaledEvent
from ordergate.engine.venue_reports import (
    SubmitReceipt,
    VenueEvent,
    VenueFill,
    VenueOrderReplaced,
    VenueOrderReport,
    VenueOrderRequest,
)
from ordergate.engine.views import OrderView
from ordergate.store.memory import MemoryStore
from ordergate.store.postgres import PostgresStore

D = Decimal
ACCOUNT = "acct"
PRICE = D(50000)
DEPOSIT = D(100000)
SECOND = 1_000_000_000
T0 = 1_700_000_000 * SECOND
FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.001)
STORE_VARIABLE = "ORDERGATE_TEST_ENGINE_STORE"
STORE_KINDS = ("memory", "postgres")

Store = MemoryStore | PostgresStore


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


class JournalUnderTest:
    """One journal of a test, on the run's store, and every event engines journaled to it.

    Engines append to `store`. On PostgreSQL a restart is a new process: `store_for_engine`
    gives every engine after the first a new `PostgresStore` over the same schema, which
    takes the partition over as a restarted node's does. `record` hears, through
    `Engine.subscribe` from each engine's construction on, every event once it is
    journaled, so tests can look at the journal synchronously; `Sessions.close` checks that
    what was heard is exactly what the store holds.
    """

    def __init__(self, store: Store, reopen: Callable[[], Awaitable[Store]] | None) -> None:
        self.store = store
        self._reopen = reopen
        self._engines = 0
        self._events: list[Event] = []
        self._problems: list[str] = []

    async def store_for_engine(self) -> Store:
        """The store a new engine journals to: the open one for the first engine, and on
        PostgreSQL a newly opened one (a takeover) for each engine after it."""
        if self._engines > 0 and self._reopen is not None:
            self.store = await self._reopen()
        self._engines += 1
        return self.store

    def record(self, item: JournaledEvent) -> None:
        """Keep a journaled event; a seq out of order is noted (a callback must not raise)."""
        expected = len(self._events) + 1
        if item.seq != expected:
            self._problems.append(f"heard seq {item.seq} where seq {expected} was next")
        self._events.append(item.event)

    def events(self) -> list[Event]:
        """Every event journaled so far, in seq order, as the engines reported them."""
        assert not self._problems, self._problems
        return list(self._events)

    async def stored_events(self) -> list[Event]:
        """Every event the store holds, decoded from its records, in seq order."""
        return [decode(r.type, r.version, r.payload) async for r in self.store.records_after(0)]

    async def differences(self) -> list[str]:
        """How the events heard differ from the stored journal (nothing, when they agree)."""
        stored = await self.stored_events()
        problems = list(self._problems)
        if stored != self._events:
            seq = _first_difference(stored, self._events)
            problems.append(
                f"the store holds {len(stored)} events, the engines journaled "
                f"{len(self._events)}; the first difference is at seq {seq}"
            )
        return problems


def _first_difference(left: list[Event], right: list[Event]) -> int:
    for seq, (a, b) in enumerate(zip(left, right, strict=False), start=1):
        if a != b:
            return seq
    return min(len(left), len(right)) + 1


@dataclass
class Harness:
    engine: Engine
    venue: ScriptedVenue
    journal: JournalUnderTest
    store: Store  # the store `engine` journals to (a test double may stand in front of it)
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
        """Journaled events, optionally of one type and one order (as the engines reported
        them once journaled; `Sessions.close` checks the store holds exactly these)."""
        return [
            e
            for e in self.journal.events()
            if (kind is None or isinstance(e, kind))
            and (order_id is None or getattr(e, "order_id", None) == order_id)
        ]

    async def stored_events(self) -> list[Event]:
        """The events the store holds, read back from the journal itself."""
        return await self.journal.stored_events()

    async def replayed(self) -> OmsState:
        """A replay of the stored journal, as a fresh process would fold it."""
        return OmsState.replay(await self.stored_events(), self.store.partition)

    def position(self, account: str = ACCOUNT, symbol: str = BTC.symbol) -> Decimal:
        return self.engine.state.book.qty(account, symbol)

    def balance(self, account: str = ACCOUNT, currency: str = "USDT") -> Decimal:
        acct = self.engine.state.accounts[account]
        return acct.balances.get(currency, D(0))


def engine_store_kind() -> str:
    """The store this run journals to: ORDERGATE_TEST_ENGINE_STORE, memory by default."""
    kind = os.environ.get(STORE_VARIABLE, "memory").strip().lower() or "memory"
    if kind not in STORE_KINDS:
        raise ValueError(f"{STORE_VARIABLE}={kind!r}: expected one of {', '.join(STORE_KINDS)}")
    return kind


class Sessions:
    """Builds engines and their journals for a test, and tears all of them down at the end.

    Each journal is on the store ORDERGATE_TEST_ENGINE_STORE names: a `MemoryStore`, or a
    `PostgresStore` in an empty schema of its own (skipped without PostgreSQL, failed with
    CI=true); `close` closes the stores and gives the schemas back to the run's stock,
    emptied (`schema_stock.py`).
    """

    def __init__(self) -> None:
        self.kind = engine_store_kind()
        self._engines: list[Engine] = []
        self._journals: list[JournalUnderTest] = []
        self._resources = AsyncExitStack()
        self._closed_cleanly = False

    async def journal(self) -> JournalUnderTest:
        """A new, empty journal."""
        if self.kind == "memory":
            journal = JournalUnderTest(MemoryStore(), None)
        else:
            stock = schema_stock()
            schema = await stock.take()
            self._resources.push_async_callback(self._give_back, stock, schema)
            dsn = stock.dsn_of(schema)

            async def open_store() -> Store:
                store = await PostgresStore.open(dsn)
                self._resources.push_async_callback(store.close)
                return store

            journal = JournalUnderTest(await open_store(), open_store)
        self._journals.append(journal)
        return journal

    async def _give_back(self, stock: SchemaStock, schema: str) -> None:
        # Runs after the schema's stores are closed (the exit stack unwinds in reverse).
        await stock.give_back(schema, reusable=self._closed_cleanly)

    async def start(
        self,
        *,
        venue: ScriptedVenue | None = None,
        journal: JournalUnderTest | None = None,
        through: Journal | None = None,
        market: FakeMarket | None = None,
        clock: ManualClock | None = None,
        state: OmsState | None = None,
        instruments: Iterable[Instrument] = (BTC,),
        fund: Iterable[str] = (ACCOUNT,),
        **options: Any,
    ) -> Harness:
        """Start an engine over `journal` (a new one by default; an existing one continues
        it, as a restarted process would). `through` is a test double the engine appends
        through, standing in front of `journal`'s store."""
        if market is None:
            market = FakeMarket()
            market.set(BTC.symbol, str(PRICE))
        venue = venue if venue is not None else ScriptedVenue(market)
        journal = journal if journal is not None else await self.journal()
        store = await journal.store_for_engine()
        clock = clock if clock is not None else ManualClock(T0)
        options.setdefault("retry", FAST_RETRY)
        options.setdefault("query_retry_delay", 0.01)
        engine = Engine(
            state=state if state is not None else OmsState(),
            instruments=list(instruments),
            journal=through if through is not None else store,
            venue=venue,
            clock=clock,
            market_data=market,
            **options,
        )
        engine.subscribe(journal.record)  # before start: its start-up events are heard too
        self._engines.append(engine)
        await engine.start()
        for account in fund:
            await engine.adjust_balance(AdjustBalance(account, "USDT", DEPOSIT, "deposit"))
        return Harness(engine, venue, journal, store, market, clock)

    async def restart(self, h: Harness, **options: Any) -> Harness:
        """Stop `h`'s engine; start a new one from a replay of its journal, as bootstrap does."""
        await h.engine.stop()
        state = await h.replayed()
        state.take_changes()  # bootstrap discards what replay left pending: it is stored
        return await self.start(
            venue=h.venue,
            journal=h.journal,
            market=h.market,
            clock=h.clock,
            state=state,
            fund=(),
            **options,
        )

    async def close(self) -> None:
        """Stop every engine (one that cannot stop fails the test instead of hanging it),
        check each journal holds exactly what its engines journaled, then close the stores
        and give their schemas back (a schema is reused only when all this went well)."""
        try:
            for engine in self._engines:
                await asyncio.wait_for(engine.stop(), TIMEOUT)
            problems = [p for journal in self._journals for p in await journal.differences()]
            self._closed_cleanly = not problems
        finally:
            await self._resources.aclose()
        assert not problems, problems


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
