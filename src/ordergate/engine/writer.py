"""The single writer loop: one task that owns the state of a partition.

Commands (from the facade) and venue events (from the venue's stream and the dispatcher's
outcomes) enter one inbox. The writer takes them in batches: it decides each (a command
through its handler, a venue event through the translator), producing events; journals
the whole batch in one append (group commit: one transaction, one fsync); and only then
answers callers, publishes views and sends requests to the venue. Nothing leaves the
process before the events that decided it are durable (write-ahead).

A failure to journal stops the writer for good: the in-memory state is then ahead of the
journal, and only a restart (which replays the journal) makes them agree again.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import structlog

from ordergate.domain.errors import EngineStopped, JournalFenced, NotFound, OrderGateError
from ordergate.domain.events import ControlEvent
from ordergate.engine.context import Batch, DecisionContext
from ordergate.engine.dispatch import VenueDispatcher, VenueOutcome
from ordergate.engine.ports import Journal, Venue
from ordergate.engine.results import Gates
from ordergate.engine.retry import RetryPolicy
from ordergate.engine.subscriptions import Subscriptions
from ordergate.engine.venue_events import VenueEventTranslator
from ordergate.engine.venue_reports import VenueEvent
from ordergate.engine.views import OrderView, ReadModelChanges

log = structlog.get_logger("ordergate.engine")

# A handler decides a command now and returns how to build its answer after the commit
# (from journaled views only).
Handler = Callable[[Any], Callable[[], Any]]
Waiter = tuple[Callable[[OrderView], bool], "asyncio.Future[OrderView]"]


@dataclass(slots=True)
class Published:
    """What the writer publishes after each commit, as journaled: the order views, the
    margin open orders reserve, and the gates. The facade reads it; command handlers
    build their answers from it."""

    views: dict[str, OrderView] = field(default_factory=dict)
    reserved: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    gates: Gates = field(default_factory=Gates)


@dataclass(frozen=True, slots=True)
class Barrier:
    """A command answered once every item queued before it is journaled."""


class _Reply:
    """A caller waiting for its command; answered only after the batch is journaled."""

    __slots__ = ("build", "error", "future")

    def __init__(self, future: asyncio.Future[Any]) -> None:
        self.future = future
        self.build: Callable[[], Any] | None = None
        self.error: BaseException | None = None


@dataclass(frozen=True, slots=True)
class _ClosedBatch:
    """A batch handled and snapshotted, waiting for (or in) its journal append."""

    batch: Batch
    changes: ReadModelChanges
    replies: list[_Reply]
    reserved: dict[tuple[str, str], Decimal] | None
    gates: Gates | None


class Writer:
    """The loop, the venue traffic around it (the venue's stream in, requests out through
    the dispatcher's lanes), and what it publishes after each commit (`Published`)."""

    def __init__(
        self,
        ctx: DecisionContext,
        published: Published,
        journal: Journal,
        venue: Venue,
        handlers: dict[type, Handler],
        translator: VenueEventTranslator,
        subscriptions: Subscriptions,
        *,
        max_batch: int,
        venue_lanes: int,
        retry: RetryPolicy | None,
        may_act: Callable[[], bool] | None,
    ) -> None:
        """`may_act`: asked before every journal append and venue request; once it says
        no (a lapsed partition lease), nothing more is appended or sent and the writer
        stops with `JournalFenced`."""
        self._ctx = ctx
        self._published = published
        self._journal = journal
        self._venue = venue
        self._handlers: dict[type, Handler] = {**handlers, Barrier: lambda _: lambda: None}
        self._translator = translator
        self._subscriptions = subscriptions
        self._max_batch = max_batch
        self._may_act = may_act
        self._dispatcher = VenueDispatcher(
            venue,
            self._deliver,
            lanes=venue_lanes,
            retry=retry,
            may_send=may_act,
            on_withheld=self._fence,
            trace_of=self._trace_of,
        )
        self.reconcile_hook: Callable[[set[str]], None] | None = None
        self._inbox: deque[Any] = deque()
        self._wakeup = asyncio.Event()
        self._waiters: dict[str, list[Waiter]] = {}
        self._replies: list[_Reply] = []
        self._inflight: asyncio.Task[None] | None = None
        self._open_items = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False
        self._stopping = False
        self.failure: BaseException | None = None

    @property
    def started(self) -> bool:
        """Started and not yet stopped (it may have failed since)."""
        return self._running

    @property
    def running(self) -> bool:
        """Started, not stopped, and not failed: it takes commands."""
        return self._running and self.failure is None

    def start(self) -> None:
        """Publish the replayed state as journaled, then start the loop and the venue pump."""
        state = self._ctx.state
        state.take_changes()  # a replay's changes are in the read models already
        published = self._published
        published.views.update((oid, OrderView.of(o)) for oid, o in state.orders.items())
        published.reserved = dict(state.reserved)
        published.gates = Gates.of(state)
        self._running = True
        self._dispatcher.start()
        self._tasks = [
            asyncio.create_task(self._run(), name="engine-writer"),
            asyncio.create_task(self._pump(), name="engine-venue-pump"),
        ]

    async def stop(self) -> None:
        """Finish what is in the inbox, then stop the loop, the pump and the lanes."""
        if not self._running:
            return
        self._stopping = True
        self._wakeup.set()
        writer, pump = self._tasks
        await asyncio.gather(writer, return_exceptions=True)
        pump.cancel()
        await asyncio.gather(pump, return_exceptions=True)
        await self._dispatcher.stop()
        self._running = False

    async def submit(self, command: Any) -> Any:
        """Queue a command; return its answer once its batch is journaled."""
        if self.failure is not None:
            raise EngineStopped(f"engine failed: {self.failure!r}")
        if not self._running or self._stopping:
            raise EngineStopped("engine is not running")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inbox.append((command, future))
        self._wakeup.set()
        return await future

    async def wait_for(
        self, order_id: str, predicate: Callable[[OrderView], bool], timeout: float
    ) -> OrderView:
        """Wait until the journaled order satisfies `predicate`; on timeout, return it as is."""
        views = self._published.views
        view = views.get(order_id)
        if view is None:
            raise NotFound(f"order {order_id} not found", code="ORDER_NOT_FOUND")
        if predicate(view):
            return view
        future: asyncio.Future[OrderView] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(order_id, []).append((predicate, future))
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return views[order_id]
        finally:
            waiters = self._waiters.get(order_id, [])
            waiters[:] = [w for w in waiters if w[1] is not future]
            if not waiters:
                self._waiters.pop(order_id, None)

    async def settle(self, rounds: int) -> None:
        """Wait until nothing is queued: inbox, venue lanes and the venue's own stream."""
        state = self._ctx.state
        quiet = 0
        for _ in range(rounds):
            events_before = state.event_count
            await self.submit(Barrier())
            for _ in range(3):
                await asyncio.sleep(0)  # let the venue pump and the lanes run
            idle = (
                not self._inbox
                and not self._open_items
                and self._inflight is None
                and self._dispatcher.backlog == 0
            )
            # Idle twice in a row with nothing journaled in between: a venue event already
            # streamed but not yet pumped would have shown up within one round.
            quiet = quiet + 1 if idle and state.event_count == events_before else 0
            if quiet >= 2:
                return
        raise EngineStopped(f"engine did not settle within {rounds} rounds")

    def _deliver(self, item: VenueEvent | VenueOutcome) -> None:
        self._inbox.append(item)
        self._wakeup.set()

    async def _pump(self) -> None:
        async for event in self._venue.events():
            self._inbox.append(event)
            self._wakeup.set()

    async def _run(self) -> None:
        """Decide the open batch while the previous one is being journaled.

        Items are decided as they arrive; the open batch is closed and appended only
        when no append is in flight, so it grows for as long as the previous append
        takes (large batches, few fsyncs) and the deciding overlaps the writing. A
        batch's answers, views and venue requests go out only after its own append
        (and every earlier one) has completed.
        """
        inbox = self._inbox
        try:
            while True:
                inflight = self._inflight
                if inflight is not None and inflight.done():
                    await self._finish_inflight()  # publishes it, or raises its failure
                    continue
                if inbox and self._open_items < self._max_batch:
                    take = min(len(inbox), self._max_batch - self._open_items)
                    for _ in range(take):
                        self._handle(inbox.popleft())
                    self._open_items += take
                    continue
                if self._open_items and inflight is None:
                    self._inflight = asyncio.create_task(self._commit(self._close_batch()))
                    self._inflight.add_done_callback(self._wake)
                    continue
                if inflight is None and self._stopping:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()  # new items, or the append finishing
        except BaseException as exc:
            self._fail(exc)
            raise

    def _wake(self, _: object = None) -> None:
        self._wakeup.set()

    async def _finish_inflight(self) -> None:
        inflight = self._inflight
        assert inflight is not None
        try:
            await inflight
        finally:
            self._inflight = None

    def _handle(self, item: Any) -> None:
        """Decide one item. A decision that fails before emitting anything is refused
        alone; one that fails after emitting stops the writer (its state is suspect)."""
        emitted = len(self._ctx.batch.events)
        if type(item) is not tuple:
            try:
                self._translator.handle(item)
            except Exception:
                if len(self._ctx.batch.events) != emitted:
                    raise
                log.exception("venue event could not be applied; dropped", item=repr(item))
            return
        command, future = item
        reply = _Reply(future)
        self._replies.append(reply)
        try:
            reply.build = self._handlers[type(command)](command)
        except Exception as exc:
            if len(self._ctx.batch.events) != emitted:
                raise
            if not isinstance(exc, OrderGateError):
                log.exception("command failed unexpectedly", command=type(command).__name__)
                exc = OrderGateError(f"internal error: {exc!r}", code="INTERNAL_ERROR")
            reply.error = exc

    def _close_batch(self) -> _ClosedBatch:
        """Take what the batch decided, with snapshots of what it changed, as of now."""
        self._open_items = 0
        replies, self._replies = self._replies, []
        state = self._ctx.state
        changes = state.take_changes()
        reserved = dict(state.reserved) if changes.orders else None
        batch = self._ctx.take_batch()
        control = any(isinstance(e, ControlEvent) for e in batch.events)
        return _ClosedBatch(batch, changes, replies, reserved, Gates.of(state) if control else None)

    async def _commit(self, closed: _ClosedBatch) -> None:
        batch, changes, replies = closed.batch, closed.changes, closed.replies
        if batch.events:
            try:
                if self._may_act is not None and not self._may_act():
                    raise JournalFenced("this node's lease on the partition lapsed")
                last_seq = await self._journal.append(batch.events, changes)
            except BaseException:
                self._replies.extend(replies)  # so the failure answers them too
                raise
            self._subscriptions.publish(last_seq, batch.events)
            if closed.gates is not None:
                self._published.gates = closed.gates
        views = self._published.views
        for view in changes.orders:
            views[view.order_id] = view
        if closed.reserved is not None:
            self._published.reserved = closed.reserved
        for reply in replies:
            if reply.future.done():
                continue
            if reply.error is not None:
                reply.future.set_exception(reply.error)
            elif reply.build is not None:
                reply.future.set_result(reply.build())
        for request in batch.requests:
            self._dispatcher.send(request)
        if batch.delayed:
            loop = asyncio.get_running_loop()
            for delay, request in batch.delayed:
                loop.call_later(delay, self._dispatcher.send, request)
        if batch.reconcile and self.reconcile_hook is not None:
            self.reconcile_hook(batch.reconcile)
        if self._waiters:
            for view in changes.orders:
                for predicate, waiter in self._waiters.get(view.order_id, ()):
                    if not waiter.done() and predicate(view):
                        waiter.set_result(view)

    def _trace_of(self, order_id: str) -> str | None:
        """The order's trace id, for the logs of its venue requests (sent after commit, so
        its journaled view is there)."""
        view = self._published.views.get(order_id)
        return None if view is None else view.trace_id

    def _fence(self) -> None:
        self._fail(JournalFenced("this node's lease on the partition lapsed"))
        self._wakeup.set()

    def _fail(self, exc: BaseException) -> None:
        if self.failure is not None:
            return
        self.failure = exc
        log.error("engine stopped after a failure", error=repr(exc))
        error = EngineStopped(f"engine failed: {exc!r}")
        pending = [r.future for r in self._replies]
        pending += [item[1] for item in self._inbox if type(item) is tuple]
        pending += [f for waiters in self._waiters.values() for _, f in waiters]
        for future in pending:
            if not future.done():
                future.set_exception(error)
        self._replies = []
        self._inbox.clear()
