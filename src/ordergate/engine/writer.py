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
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import structlog

from ordergate.domain.errors import EngineStopped, JournalFenced, NotFound, OrderGateError
from ordergate.domain.events import (
    CONTROL_EVENT_TYPES,
    OrderSnapshot,
    RetiredOrderRecalled,
    SignalReceived,
    TargetsSet,
)
from ordergate.engine.checkpoint import CheckpointPolicy, StateCheckpoint
from ordergate.engine.checkpoint import encode as encode_checkpoint
from ordergate.engine.context import Batch, DecisionContext
from ordergate.engine.dispatch import VenueDispatcher, VenueOutcome
from ordergate.engine.observer import EngineObserver
from ordergate.engine.ports import Journal, Venue
from ordergate.engine.published import BatchEnd, Published
from ordergate.engine.results import Gates
from ordergate.engine.retention import RetentionPolicy, retire_finished
from ordergate.engine.retry import RetryPolicy
from ordergate.engine.state import HeldTarget, retired_key, retired_signal_key
from ordergate.engine.subscriptions import Subscriptions
from ordergate.engine.venue_events import VenueEventTranslator
from ordergate.engine.venue_reports import VenueEvent, VenueReconnected
from ordergate.engine.views import OrderView, ReadModelChanges

log = structlog.get_logger("ordergate.engine")

# A handler decides a command now and returns how to build its answer after the commit
# (from journaled views only).
Handler = Callable[[Any], Callable[[], Any]]
Waiter = tuple[Callable[[OrderView], bool], "asyncio.Future[OrderView]"]


@dataclass(frozen=True, slots=True)
class Barrier:
    """A command answered once every item queued before it is journaled."""


@dataclass(frozen=True, slots=True)
class RecallOrders:
    """Bring retired orders back into the hot state (those not back already), then decide
    `then` in the same step: no sweep can retire them again in between."""

    snapshots: tuple[OrderSnapshot, ...]
    then: Any


@dataclass(frozen=True, slots=True)
class _LookedUp:
    """What the retired-orders store said of a client order id the venue named, and the
    venue items that waited for the answer."""

    client_order_id: str
    snapshot: OrderSnapshot | None


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
    targets: dict[tuple[str, str, str], HeldTarget] | None
    look_up: list[str]
    checkpoint: StateCheckpoint | None
    order_ends: BatchEnd


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
        retention: RetentionPolicy,
        checkpoints: CheckpointPolicy | None,
        checkpointed_seq: int,
        observer: EngineObserver | None = None,
    ) -> None:
        """`may_act`: asked before every journal append and venue request; once it says
        no (a lapsed partition lease), nothing more is appended or sent and the writer
        stops with `JournalFenced`. `retention`: a sweep runs in the batch whenever the
        finished orders held exceed it by a whole sweep (the watch sweeps by age).
        `checkpoints`: when to checkpoint the state (None: never); `checkpointed_seq`: the
        seq of the newest checkpoint the journal holds (0: none). `observer`: told how long
        each append took and of the venue's reconnects (see `engine.observer`)."""
        self._ctx = ctx
        self._observer = observer
        self._published = published
        self._journal = journal
        self._venue = venue
        self._handlers: dict[type, Handler] = {
            **handlers,
            Barrier: lambda _: _nothing,
            RecallOrders: self._recall_orders,
        }
        self._translator = translator
        self._subscriptions = subscriptions
        self._max_batch = max_batch
        self._may_act = may_act
        self._retention = retention
        self._checkpoints = checkpoints
        self.checkpointed_seq = checkpointed_seq  # the one the state went on from
        self._checkpoint_seq = checkpointed_seq
        self._checkpoint_taken = time.monotonic()
        self._pending_checkpoint: StateCheckpoint | None = None
        self._checkpoint_writes: set[asyncio.Task[None]] = set()
        # (seq, wall-clock ns) of the newest checkpoint this writer has written.
        self.last_checkpoint: tuple[int, int] | None = None
        translator.defer_unknown = self._defer_unknown
        # Venue items naming an order not held, by client order id, waiting for the
        # retired-orders store (asked once the batch that deferred them is journaled).
        self._recalling: dict[str, list[Any]] = {}
        self._to_look_up: list[str] = []
        self._answering: set[str] = set()
        self._lookups: set[asyncio.Task[None]] = set()
        self._dispatcher = VenueDispatcher(
            venue,
            self._deliver,
            lanes=venue_lanes,
            retry=retry,
            may_send=may_act,
            on_withheld=self._fence,
            trace_of=self._trace_of,
            observer=observer,
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
        published.reserved = dict(state.reserved)
        published.gates = Gates.of(state)
        published.targets = dict(state.targets)
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
        state = self._ctx.state
        if (
            self._checkpoints is not None
            and self.failure is None
            and state.event_count > self._checkpoint_seq
        ):
            self._spawn_checkpoint_write(state.checkpoint())  # a clean stop: start fast
        await asyncio.gather(*self._checkpoint_writes, return_exceptions=True)
        pump.cancel()
        for lookup in self._lookups:
            lookup.cancel()
        await asyncio.gather(pump, *self._lookups, return_exceptions=True)
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
        views = self._published.orders
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
                and not self._recalling
            )
            # Idle twice in a row with nothing journaled in between: a venue event already
            # streamed but not yet pumped would have shown up within one round.
            quiet = quiet + 1 if idle and state.event_count == events_before else 0
            if quiet >= 2:
                return
        raise EngineStopped(f"engine did not settle within {rounds} rounds")

    # --- checkpoints -----------------------------------------------------------------------------

    def _checkpoint_if_due(self) -> None:
        """Take the state as data now, in the open batch: it is the fold up to the last
        event decided, so it is written once that batch is journaled (and never if the
        append fails). Building it is the writer's only cost; encoding and writing run
        beside it."""
        policy = self._checkpoints
        if policy is None or self._pending_checkpoint is not None:
            return
        seq = self._ctx.state.event_count
        now = time.monotonic()
        if policy.due(seq - self._checkpoint_seq, now - self._checkpoint_taken):
            self._pending_checkpoint = self._ctx.state.checkpoint()
            self._checkpoint_seq = seq
            self._checkpoint_taken = now

    def _spawn_checkpoint_write(self, checkpoint: StateCheckpoint) -> None:
        task = asyncio.create_task(self._write_checkpoint(checkpoint), name="engine-checkpoint")
        self._checkpoint_writes.add(task)
        task.add_done_callback(self._checkpoint_writes.discard)

    async def _write_checkpoint(self, checkpoint: StateCheckpoint) -> None:
        try:
            payload = await asyncio.to_thread(encode_checkpoint, checkpoint)
            written_ns = time.time_ns()
            await self._journal.write_checkpoint(checkpoint.seq, written_ns, payload)
        except Exception:
            # Derived data: a start without it replays from the previous one.
            log.warning("checkpoint not written", seq=checkpoint.seq, exc_info=True)
            return
        if self.last_checkpoint is None or checkpoint.seq > self.last_checkpoint[0]:
            self.last_checkpoint = (checkpoint.seq, written_ns)
        log.info("checkpoint written", seq=checkpoint.seq, bytes=len(payload))

    # --- retired orders named again ------------------------------------------------------------

    def may_be_retired(self, account: str, idempotency_key: str) -> bool:
        """The key names no order held, but may name a retired one."""
        state = self._ctx.state
        return (account, idempotency_key) not in state.by_idempotency_key and (
            retired_key(account, idempotency_key) in state.retired_keys
        )

    async def retired_by_key(
        self, account: str, idempotency_key: str, *, settled: bool = False
    ) -> OrderSnapshot | None:
        """The retired order an idempotency key names, if there is one: asked of the store
        off the writer's path, once everything queued before is journaled (a retirement
        still in a batch is not in the store yet; `settled`: the caller has waited for
        that already). Recall it with `RecallOrders`."""
        if not settled:
            await self.submit(Barrier())
        return await self._journal.retired_order_by_key(account, idempotency_key)

    def signal_may_be_retired(self, signal_id: str) -> bool:
        """The signal is not held, but may be a retired one."""
        state = self._ctx.state
        return signal_id not in state.signals and (
            retired_signal_key(signal_id) in state.retired_keys
        )

    async def retired_signal(self, signal_id: str) -> SignalReceived | None:
        """The retired signal of this id, if there is one, as stored once everything
        queued before is journaled."""
        await self.submit(Barrier())
        return await self._journal.retired_signal(signal_id)

    async def retired_among(self, client_order_ids: Sequence[str]) -> dict[str, OrderSnapshot]:
        """The retired orders among these client order ids (none held now), as stored once
        everything queued before is journaled."""
        held = self._ctx.state.by_client_id
        wanted = sorted({c for c in client_order_ids if c not in held})
        if not wanted:
            return {}
        await self.submit(Barrier())
        return await self._journal.retired_orders(wanted)

    def _defer_unknown(self, client_order_id: str, item: object) -> bool:
        """Hold a venue item naming an order not held until the store has said whether it
        is a retired one (then recalled first); False once it has said no."""
        if client_order_id in self._answering:
            return False
        waiting = self._recalling.get(client_order_id)
        if waiting is None:
            self._recalling[client_order_id] = [item]
            self._to_look_up.append(client_order_id)
        else:
            waiting.append(item)
        return True

    async def _look_up(self, client_order_ids: list[str]) -> None:
        try:
            found = await self._journal.retired_orders(client_order_ids)
        except Exception:
            log.exception("retired orders could not be read; their venue items go unmatched")
            found = {}
        for client_order_id in client_order_ids:
            self._inbox.append(_LookedUp(client_order_id, found.get(client_order_id)))
        self._wakeup.set()

    def _recalled(self, looked_up: _LookedUp) -> None:
        """Recall the order (unless something recalled it meanwhile), then handle the venue
        items that waited for it, in their order, as if it had never left."""
        client_order_id = looked_up.client_order_id
        items = self._recalling.pop(client_order_id, [])
        if looked_up.snapshot is not None:
            self._recall(looked_up.snapshot)
        self._answering.add(client_order_id)
        try:
            for item in items:
                self._handle(item, resumed=True)
        finally:
            self._answering.discard(client_order_id)

    def _recall(self, snapshot: OrderSnapshot) -> None:
        """Journal the order's recall, unless something brought it back meanwhile."""
        if snapshot.client_order_id not in self._ctx.state.by_client_id:
            self._ctx.emit(RetiredOrderRecalled(snapshot, self._ctx.now()))

    def _recall_orders(self, command: RecallOrders) -> Callable[[], Any]:
        for snapshot in command.snapshots:
            self._recall(snapshot)
        emitted = len(self._ctx.batch.events)
        try:
            return self._handlers[type(command.then)](command.then)
        except OrderGateError as refusal:
            if len(self._ctx.batch.events) != emitted:
                raise  # refused after deciding something: the state is suspect
            return _raising(refusal)  # the recalls stand; the command alone is refused

    def _deliver(self, item: VenueEvent | VenueOutcome) -> None:
        self._inbox.append(item)
        self._wakeup.set()

    async def _pump(self) -> None:
        observer = self._observer
        async for event in self._venue.events():
            if observer is not None and type(event) is VenueReconnected:
                observer.venue_reconnected()
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
                    if self._retention.due(len(self._ctx.state.finished)):
                        retire_finished(self._ctx, self._retention)
                    self._checkpoint_if_due()
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

    def _handle(self, item: Any, *, resumed: bool = False) -> None:
        """Decide one item. A decision that fails before emitting anything is refused
        alone; one that fails after emitting stops the writer (its state is suspect)."""
        emitted = len(self._ctx.batch.events)
        if type(item) is _LookedUp:
            self._recalled(item)
            return
        if type(item) is not tuple:
            try:
                self._translator.handle(item, resumed=resumed)
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
        # What the batch holds, by type: a set lookup per event, where `isinstance` over
        # the control union tried all eight members for each order event.
        kinds = {type(event) for event in batch.events}
        control = not kinds.isdisjoint(CONTROL_EVENT_TYPES)
        aimed = TargetsSet in kinds
        gates = Gates.of(state) if control else None
        targets = dict(state.targets) if aimed else None
        look_up, self._to_look_up = self._to_look_up, []
        checkpoint, self._pending_checkpoint = self._pending_checkpoint, None
        ends = self._published.orders.close(changes)
        return _ClosedBatch(
            batch, changes, replies, reserved, gates, targets, look_up, checkpoint, ends
        )

    async def _commit(self, closed: _ClosedBatch) -> None:
        batch, changes, replies = closed.batch, closed.changes, closed.replies
        if batch.events:
            try:
                if self._may_act is not None and not self._may_act():
                    raise JournalFenced("this node's lease on the partition lapsed")
                observer = self._observer
                started = time.perf_counter() if observer is not None else 0.0
                last_seq = await self._journal.append(batch.events, changes)
                if observer is not None:
                    observer.journal_committed(
                        last_seq, batch.events, time.perf_counter() - started
                    )
            except BaseException:
                self._replies.extend(replies)  # so the failure answers them too
                raise
            self._subscriptions.publish(last_seq, batch.events)
            if closed.gates is not None:
                self._published.gates = closed.gates
            if closed.targets is not None:
                self._published.targets = closed.targets
        self._published.orders.committed(closed.order_ends)
        if closed.reserved is not None:
            self._published.reserved = closed.reserved
        for reply in replies:
            if reply.future.done():
                continue
            if reply.error is not None:
                reply.future.set_exception(reply.error)
            elif reply.build is not None:
                try:
                    reply.future.set_result(reply.build())
                except OrderGateError as refusal:  # decided in the batch, answered now
                    reply.future.set_exception(refusal)
                except Exception as exc:  # a defect: answer it rather than leave it waiting
                    log.exception("an answer could not be built")
                    reply.future.set_exception(
                        OrderGateError(f"internal error: {exc!r}", code="INTERNAL_ERROR")
                    )
        if closed.look_up:
            task = asyncio.create_task(self._look_up(closed.look_up), name="engine-recall")
            self._lookups.add(task)
            task.add_done_callback(self._lookups.discard)
        if closed.checkpoint is not None:
            self._spawn_checkpoint_write(closed.checkpoint)
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
        view = self._published.orders.get(order_id)
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


def _nothing() -> None:
    return None


def _raising(error: OrderGateError) -> Callable[[], Any]:
    def answer() -> Any:
        raise error

    return answer
