"""Write-ahead: nothing leaves the engine before the events that decided it are journaled;
a journal that fails stops the engine for good, and nothing of the lost batch is sent."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Any, TypeVar

import pytest
from engine_support import (
    D,
    Harness,
    ScriptedVenue,
    Sessions,
    is_status,
    limit_order,
    market_order,
)
from tests.fakes import BTC, FakeMarket
from tests.waiting import TIMEOUT

from ordergate.domain.errors import EngineStopped, JournalError
from ordergate.domain.events import (
    Event,
    OrderApproved,
    OrderCancelRequested,
    OrderInitialized,
    OrderReplaceRequested,
    OrderSnapshot,
)
from ordergate.domain.values import OrderStatus, Side
from ordergate.engine.commands import CancelOrder, ReplaceOrder
from ordergate.engine.ports import Journal
from ordergate.engine.records import JournalRecord
from ordergate.engine.views import OrderView, ReadModelChanges

T = TypeVar("T")
J = TypeVar("J", bound="JournalInFront")


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


async def spin(times: int = 20) -> None:
    """Let every other task (writer, venue lanes, venue stream) run for a while."""
    for _ in range(times):
        await asyncio.sleep(0)


async def answer(awaitable: Awaitable[T]) -> T:
    """The answer to a command, which must come at once: a hang fails the test."""
    return await asyncio.wait_for(awaitable, TIMEOUT)


class JournalInFront:
    """A `Journal` that hands everything to the store behind it; the doubles below change
    what an append does, before or instead of the store's own."""

    def __init__(self, store: Journal) -> None:
        self.store = store

    @property
    def partition(self) -> int:
        return self.store.partition

    async def append(self, events: Sequence[Event], changes: ReadModelChanges) -> int:
        return await self.store.append(events, changes)

    def records_after(self, after_seq: int = 0) -> AsyncIterator[JournalRecord]:
        return self.store.records_after(after_seq)

    async def retired_orders(self, client_order_ids: Sequence[str]) -> dict[str, OrderSnapshot]:
        return await self.store.retired_orders(client_order_ids)

    async def retired_order_by_key(
        self, account: str, idempotency_key: str
    ) -> OrderSnapshot | None:
        return await self.store.retired_order_by_key(account, idempotency_key)

    async def close(self) -> None:
        await self.store.close()


class RecordingJournal(JournalInFront):
    """Notes, as each append completes, how many requests had reached the venue by then."""

    def __init__(self, store: Journal, venue: ScriptedVenue) -> None:
        super().__init__(store)
        self.venue = venue
        self.appends: list[tuple[list[Event], int]] = []

    async def append(self, events: Sequence[Event], changes: ReadModelChanges) -> int:
        await spin(3)  # an append takes time: give the lanes every chance to run ahead
        seq = await super().append(events, changes)
        self.appends.append((list(events), len(self.venue.calls)))
        return seq


class GatedJournal(JournalInFront):
    """An append that waits until the test opens the gate."""

    def __init__(self, store: Journal) -> None:
        super().__init__(store)
        self.gate = asyncio.Event()
        self.gate.set()
        self.entered = asyncio.Event()

    async def append(self, events: Sequence[Event], changes: ReadModelChanges) -> int:
        self.entered.set()
        await self.gate.wait()
        return await super().append(events, changes)


class BreakableJournal(JournalInFront):
    def __init__(self, store: Journal) -> None:
        super().__init__(store)
        self.broken = False

    async def append(self, events: Sequence[Event], changes: ReadModelChanges) -> int:
        if self.broken:
            raise JournalError("disk full")
        return await super().append(events, changes)


async def start_through(sessions: Sessions, double: type[J], **options: Any) -> tuple[Harness, J]:
    """An engine that appends through `double`, standing in front of a new journal."""
    journal = await sessions.journal()
    through = double(journal.store)
    return await sessions.start(journal=journal, through=through, **options), through


def decided_request(event: Event) -> tuple[str, str] | None:
    """The (kind, order id) of the venue request an event decides, if it decides one."""
    if isinstance(event, OrderApproved):
        return "submit", event.order_id
    if isinstance(event, OrderCancelRequested):
        return "cancel", event.order_id
    if isinstance(event, OrderReplaceRequested):
        return "replace", event.order_id
    return None


def late_requests(journal: RecordingJournal) -> list[str]:
    """Requests that reached the venue before the append of the event that decided them."""
    coid_of: dict[str, str] = {}
    decided_at: dict[tuple[str, str], list[int]] = {}  # (kind, order) -> append numbers
    for number, (events, _) in enumerate(journal.appends):
        for event in events:
            if isinstance(event, OrderInitialized):
                coid_of[event.client_order_id] = event.order_id
            decided = decided_request(event)
            if decided is not None:
                decided_at.setdefault(decided, []).append(number)
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for position, (kind, coid) in enumerate(journal.venue.calls):
        if kind == "query":
            continue  # a read: nothing to decide
        key = (kind, coid_of[coid])
        nth = seen[key] = seen.get(key, -1) + 1
        appends = decided_at.get(key, [])
        if nth >= len(appends):
            problems.append(f"{kind} #{nth} of {coid}: never journaled")
            continue
        venue_had = journal.appends[appends[nth]][1]
        if position < venue_had:
            problems.append(f"{kind} #{nth} of {coid}: reached the venue before its append")
    return problems


@pytest.mark.parametrize("max_batch", [4096, 1])  # 1: the next batch is decided mid-append
async def test_venue_requests_any_session_each_sent_after_its_deciding_append(sessions, max_batch):
    market = FakeMarket()
    market.set(BTC.symbol, "50000")
    venue = ScriptedVenue(market)
    underlying = await sessions.journal()
    journal = RecordingJournal(underlying.store, venue)
    h = await sessions.start(
        venue=venue, journal=underlying, through=journal, market=market, max_batch=max_batch
    )

    first, second = await asyncio.gather(
        h.engine.place(market_order(take_profit=D(51000), stop_loss=D(49000))),
        h.engine.place(limit_order(price="40000")),
    )
    resting = second.order
    await h.engine.replace(ReplaceOrder(resting.order_id, price=D("40100")))
    await h.engine.cancel(CancelOrder(resting.order_id))
    await h.settle()
    children = [o for o in h.engine.state.orders.values() if o.parent_order_id]
    assert len(children) == 2  # the bracket was created, so its submits are checked too
    take_profit = next(o for o in children if o.price is not None)
    venue.fill(take_profit.client_order_id, take_profit.qty, D(51000))  # OCO cancel follows
    await h.settle()

    kinds = Counter(kind for kind, _ in venue.calls)
    assert kinds == {"submit": 4, "replace": 1, "cancel": 2}  # parent, limit, 2 children
    assert late_requests(journal) == []
    assert first.created


async def test_place_while_journal_append_blocks_venue_sees_nothing_and_place_waits(sessions):
    h, journal = await start_through(sessions, GatedJournal)
    journal.gate.clear()
    journal.entered.clear()

    task = asyncio.create_task(h.engine.place(market_order()))
    try:
        await asyncio.wait_for(journal.entered.wait(), TIMEOUT)
        await spin()

        assert h.venue.calls == []
        assert not task.done()
        assert h.events(OrderInitialized) == []
    finally:
        journal.gate.set()
    result = await asyncio.wait_for(task, TIMEOUT)
    order_id = result.order.order_id
    journaled = [type(e) for e in h.events(order_id=order_id)]
    assert journaled[:2] == [OrderInitialized, OrderApproved]
    assert result.order.status is OrderStatus.PENDING_SUBMIT
    filled = await h.engine.wait_for(order_id, is_status(OrderStatus.FILLED), TIMEOUT)
    assert filled.status is OrderStatus.FILLED
    assert h.venue.requests("submit") == [result.order.client_order_id]


async def test_queries_while_appends_are_held_answer_only_what_is_journaled(sessions):
    """An order a batch has changed answers as last journaled until that batch is: through
    one append held and a second batch decided behind it."""
    h, journal = await start_through(sessions, GatedJournal)
    resting = await h.place(limit_order())
    await h.settle()
    journaled = h.engine.order(resting.order_id)
    assert journaled is not None
    assert journaled.status is OrderStatus.ACCEPTED
    known = set(h.engine._ctx.state.orders)
    journal.gate.clear()
    journal.entered.clear()

    cancel = asyncio.create_task(h.engine.cancel(CancelOrder(resting.order_id)))
    try:
        await asyncio.wait_for(journal.entered.wait(), TIMEOUT)  # the cancel is appending
        behind = asyncio.create_task(h.engine.place(limit_order(price="39000")))
        await spin()  # the place is decided in the next batch, behind the held append
        live = h.engine._ctx.state
        new_ids = set(live.orders) - known

        assert live.orders[resting.order_id].status is OrderStatus.PENDING_CANCEL
        assert h.engine.order(resting.order_id) == journaled
        assert len(new_ids) == 1
        assert [h.engine.order(i) for i in new_ids] == [None]
    finally:
        journal.gate.set()
    canceling = await answer(cancel)
    placed = (await answer(behind)).order
    await h.settle()

    assert canceling.status is OrderStatus.PENDING_CANCEL
    assert {placed.order_id} == new_ids
    assert h.engine._published.orders.held_count == 0  # nothing pending holds a view
    for order_id in (resting.order_id, placed.order_id):  # all journaled: live is journaled
        assert h.engine.order(order_id) == OrderView.of(h.engine._ctx.state.orders[order_id])


async def test_journal_failure_pending_commands_get_engine_stopped_and_nothing_is_sent(
    sessions,
):
    h, journal = await start_through(sessions, BreakableJournal)
    resting = await h.place(limit_order())
    await h.settle()
    calls_before = list(h.venue.calls)
    journal.broken = True

    outcomes = await asyncio.gather(
        answer(h.engine.place(market_order())),
        answer(h.engine.cancel(CancelOrder(resting.order_id))),
        return_exceptions=True,
    )
    await spin()

    assert [type(o) for o in outcomes] == [EngineStopped, EngineStopped]
    assert not h.engine.running
    assert isinstance(h.engine.failure, JournalError)
    assert h.venue.calls == calls_before
    assert len(h.events(OrderInitialized)) == 1  # only the resting order was ever journaled


async def test_journal_failure_later_commands_get_engine_stopped(sessions):
    h, journal = await start_through(sessions, BreakableJournal)
    resting = await h.place(limit_order())
    journal.broken = True
    with pytest.raises(EngineStopped):
        await answer(h.place(market_order()))
    journal.broken = False  # even a healed journal does not restart the writer

    with pytest.raises(EngineStopped):
        await answer(h.place(market_order(side=Side.SELL)))
    with pytest.raises(EngineStopped):
        await answer(h.engine.cancel(CancelOrder(resting.order_id)))
    with pytest.raises(EngineStopped):
        await answer(h.engine.settle())
    assert not h.engine.running


async def test_journal_failure_waiter_on_order_gets_engine_stopped_not_timeout(sessions):
    h, journal = await start_through(sessions, BreakableJournal)
    resting = await h.place(limit_order())
    waiter = asyncio.create_task(
        h.engine.wait_for(resting.order_id, is_status(OrderStatus.FILLED), 30)
    )
    await spin()
    journal.broken = True
    with pytest.raises(EngineStopped):
        await answer(h.place(market_order()))

    with pytest.raises(EngineStopped):
        await asyncio.wait_for(waiter, TIMEOUT)


class GatedBreakableJournal(GatedJournal):
    """Blocks at the gate; once opened, fails if broken."""

    def __init__(self, store: Journal) -> None:
        super().__init__(store)
        self.broken = False

    async def append(self, events: Sequence[Event], changes: ReadModelChanges) -> int:
        self.entered.set()
        await self.gate.wait()
        if self.broken:
            raise JournalError("disk full")
        return await self.store.append(events, changes)


async def test_journal_failure_command_decided_during_failing_append_gets_engine_stopped(
    sessions,
):
    # max_batch=1: one command a batch, so the second batch overlaps the first's append
    h, journal = await start_through(sessions, GatedBreakableJournal, max_batch=1)
    journal.gate.clear()
    journal.entered.clear()
    journal.broken = True
    first = asyncio.create_task(h.engine.place(market_order()))
    second = asyncio.create_task(h.engine.place(limit_order()))
    await asyncio.wait_for(journal.entered.wait(), TIMEOUT)
    await spin()  # the second batch is decided and waits for the first's append

    journal.gate.set()

    with pytest.raises(EngineStopped):
        await asyncio.wait_for(first, TIMEOUT)
    with pytest.raises(EngineStopped):
        await asyncio.wait_for(second, TIMEOUT)  # an answer, not a hang (that times out)
    assert h.venue.calls == []
