"""The single writer: one task that owns the state of a partition.

Commands (from the Python API, REST, a queue) and venue events enter one inbox. The
writer takes them in batches: it applies each to the state, producing events; journals
the whole batch in one append (group commit: one transaction, one fsync); and only then
answers callers, publishes views and sends requests to the venue. Nothing leaves the
process before the events that decided it are durable (write-ahead).

A failure to journal stops the writer for good: the in-memory state is then ahead of the
journal, and only a restart (which replays the journal) makes them agree again.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

import structlog

from ordergate.domain.errors import EngineStopped, JournalFenced, NotFound, OrderGateError
from ordergate.domain.events import (
    ControlEvent,
    JournalOpened,
)
from ordergate.domain.instruments import Instrument
from ordergate.domain.limits import LimitsBook
from ordergate.domain.signal_policy import SignalPolicy
from ordergate.engine import amendments, control, placement, signals
from ordergate.engine.commands import (
    AdjustBalance,
    ArmTrading,
    CancelOrder,
    ClearDirty,
    CloseAll,
    ClosePosition,
    Command,
    PlaceOrder,
    ProcessSignal,
    ReplaceOrder,
    SetTradingState,
)
from ordergate.engine.context import Batch, DecisionContext
from ordergate.engine.control import LossWatch
from ordergate.engine.dispatch import VenueDispatcher, VenueOutcome
from ordergate.engine.placement import Preview
from ordergate.engine.ports import Clock, Journal, MarketData, Venue
from ordergate.engine.reconcile import (
    ReconcileMemory,
    ReconcilePolicy,
    ReconciliationReport,
    Scope,
    VenueSnapshot,
    remedy,
)
from ordergate.engine.results import (
    CloseAllResult,
    Gates,
    PlaceResult,
    SignalResult,
    venue_has_answered,
)
from ordergate.engine.retry import RetryPolicy
from ordergate.engine.state import OmsState
from ordergate.engine.subscriptions import Callback, JournaledEvent, Subscriptions
from ordergate.engine.venue_events import VenueEventTranslator, recover
from ordergate.engine.venue_reports import VenueEvent
from ordergate.engine.views import OrderView, ReadModelChanges

log = structlog.get_logger("ordergate.engine")


@dataclass(frozen=True, slots=True)
class _Recover:
    """Internal command: settle orders whose last request's fate a restart left open."""


@dataclass(frozen=True, slots=True)
class _Reconcile:
    snapshot: VenueSnapshot
    scope: Scope


@dataclass(frozen=True, slots=True)
class _Preview:
    command: PlaceOrder


@dataclass(frozen=True, slots=True)
class _Watch:
    """Internal command, every `watch_interval`: compare open positions' losses with their
    warning thresholds, and cancel signal orders that went stale."""


@dataclass(frozen=True, slots=True)
class _Barrier:
    """Internal command: answered once every item queued before it is journaled."""


@dataclass(frozen=True, slots=True)
class _OpenJournal:
    """Internal command: give a journal that has none its identity (`JournalOpened`)."""

    journal_id: str


@dataclass(frozen=True, slots=True)
class _DefineInstruments:
    """Internal command: journal configured instruments that differ from the journal's."""

    instruments: tuple[Instrument, ...]


class _Reply:
    """A caller waiting for its command; answered only after the batch is journaled."""

    __slots__ = ("build", "error", "future")

    def __init__(self, future: asyncio.Future[Any]) -> None:
        self.future = future
        self.build: Callable[[], Any] | None = None
        self.error: BaseException | None = None


_Internal = _Recover | _OpenJournal | _DefineInstruments | _Barrier | _Reconcile | _Preview | _Watch
Waiter = tuple[Callable[[OrderView], bool], "asyncio.Future[OrderView]"]


@dataclass(frozen=True, slots=True)
class _ClosedBatch:
    """A batch handled and snapshotted, waiting for (or in) its journal append."""

    batch: Batch
    changes: ReadModelChanges
    replies: list[_Reply]
    reserved: dict[tuple[str, str], Decimal] | None
    gates: Gates | None


class Engine:
    def __init__(
        self,
        *,
        state: OmsState,
        instruments: Sequence[Instrument],
        journal: Journal,
        venue: Venue,
        clock: Clock,
        market_data: MarketData,
        limits: LimitsBook | None = None,
        max_batch: int = 4096,
        venue_lanes: int = 1,
        retry: RetryPolicy | None = None,
        query_retry_delay: float = 1.0,
        reconcile_policy: ReconcilePolicy | None = None,
        watch_interval: float | None = 1.0,
        signal_policy: SignalPolicy | None = None,
        may_act: Callable[[], bool] | None = None,
    ) -> None:
        """`may_act`: asked before every journal append and venue request; once it says
        no (a lapsed partition lease), the engine appends and sends nothing more and
        stops with `JournalFenced`."""
        self._ctx = DecisionContext(
            state,
            clock,
            market_data,
            limits or LimitsBook(),
            venue_live=venue.live,
            venue_name=venue.name,
        )
        self._instruments = tuple(instruments)
        self._reconcile_policy = reconcile_policy or ReconcilePolicy()
        self._watch_interval = watch_interval
        self._signal_policy = signal_policy or SignalPolicy()
        self._loss_watch = LossWatch()
        self._subscriptions = Subscriptions()
        self._reconcile_hook: Callable[[set[str]], None] | None = None
        self._reconcile_memory = ReconcileMemory()
        self._gates = Gates()
        self._journal = journal
        self._venue = venue
        self._max_batch = max_batch
        self._translator = VenueEventTranslator(self._ctx, query_retry_delay)
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
        self._inbox: deque[Any] = deque()
        self._wakeup = asyncio.Event()
        self._views: dict[str, OrderView] = {}
        self._reserved: dict[tuple[str, str], Decimal] = {}
        self._waiters: dict[str, list[Waiter]] = {}
        self._replies: list[_Reply] = []
        self._inflight: asyncio.Task[None] | None = None
        self._open_items = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False
        self._stopping = False
        self._failure: BaseException | None = None
        self._commands: dict[type, Callable[[Any], Callable[[], Any]]] = {
            PlaceOrder: self._place,
            ProcessSignal: self._process_signal,
            CancelOrder: self._cancel,
            ReplaceOrder: self._replace,
            ClosePosition: self._close_position,
            CloseAll: self._close_all,
            AdjustBalance: self._adjust_balance,
            _OpenJournal: self._open_journal,
            _DefineInstruments: self._define_instruments,
            SetTradingState: self._set_trading_state,
            ArmTrading: self._arm,
            ClearDirty: self._clear_dirty,
            _Reconcile: self._reconcile,
            _Preview: self._preview,
            _Watch: self._watch_tick,
            _Recover: self._recover,
            _Barrier: lambda _: lambda: None,
        }

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def state(self) -> OmsState:
        """The live state. Read it only from the engine's own loop, between batches."""
        return self._ctx.state

    @property
    def running(self) -> bool:
        return self._running and self._failure is None

    @property
    def failure(self) -> BaseException | None:
        return self._failure

    @property
    def event_count(self) -> int:
        """Events journaled (as folded into the live state)."""
        return self._ctx.state.event_count

    @property
    def order_count(self) -> int:
        return len(self._ctx.state.orders)

    @property
    def open_order_count(self) -> int:
        return len(self._ctx.state.open_orders)

    @property
    def unmatched_venue_events(self) -> int:
        return self._translator.unmatched

    @property
    def dropped_venue_events(self) -> int:
        return self._translator.dropped

    async def start(self) -> None:
        """Connect the venue, start the writer, journal the instruments, settle doubts."""
        self._ctx.state.take_changes()  # a replay's changes are in the read models already
        self._views = {oid: OrderView.of(o) for oid, o in self._ctx.state.orders.items()}
        self._reserved = dict(self._ctx.state.reserved)
        self._gates = Gates.of(self._ctx.state)
        await self._venue.connect()
        self._translator.acceptance_window_ns = int(self._venue.acceptance_window * 1e9)
        self._running = True
        self._dispatcher.start()
        self._tasks = [
            asyncio.create_task(self._run(), name="engine-writer"),
            asyncio.create_task(self._pump(), name="engine-venue-pump"),
        ]
        await self._submit(_OpenJournal(secrets.token_hex(8)))
        await self._submit(_DefineInstruments(self._instruments))
        await self._submit(_Recover())
        if self._watch_interval is not None:
            self._tasks.append(asyncio.create_task(self._watch(), name="engine-loss-watch"))

    async def stop(self) -> None:
        """Finish what is in the inbox, then stop the writer and disconnect the venue."""
        if not self._running:
            return
        self._stopping = True
        self._wakeup.set()
        writer, *others = self._tasks
        await asyncio.gather(writer, return_exceptions=True)
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        await self._dispatcher.stop()
        self._running = False
        await self._venue.disconnect()

    # --- public commands ------------------------------------------------------------------

    async def place(self, command: PlaceOrder) -> PlaceResult:
        return cast("PlaceResult", await self._submit(command))

    async def process_signal(self, command: ProcessSignal) -> SignalResult:
        """Act on a trading signal; return once its outcome is journaled (a redelivered
        signal is answered from its record: `duplicate`)."""
        return cast("SignalResult", await self._submit(command))

    async def cancel(self, command: CancelOrder) -> OrderView:
        return cast("OrderView", await self._submit(command))

    async def replace(self, command: ReplaceOrder) -> OrderView:
        return cast("OrderView", await self._submit(command))

    async def close_position(self, command: ClosePosition) -> OrderView:
        return cast("OrderView", await self._submit(command))

    async def close_all(self, command: CloseAll) -> CloseAllResult:
        return cast("CloseAllResult", await self._submit(command))

    async def adjust_balance(self, command: AdjustBalance) -> None:
        await self._submit(command)

    async def set_trading_state(self, command: SetTradingState) -> Gates:
        return cast("Gates", await self._submit(command))

    async def arm(self, command: ArmTrading) -> Gates:
        return cast("Gates", await self._submit(command))

    async def clear_dirty(self, command: ClearDirty) -> Gates:
        return cast("Gates", await self._submit(command))

    async def reconcile(self, snapshot: VenueSnapshot, scope: Scope) -> ReconciliationReport:
        """Compare a venue snapshot with the journaled state and apply the policy."""
        return cast("ReconciliationReport", await self._submit(_Reconcile(snapshot, scope)))

    async def preview(self, command: PlaceOrder) -> Preview:
        """What placing `command` would do now; nothing is journaled or sent."""
        return cast("Preview", await self._submit(_Preview(command)))

    @property
    def gates(self) -> Gates:
        return self._gates

    @property
    def venue_name(self) -> str:
        return self._venue.name

    @property
    def venue_live(self) -> bool:
        return self._ctx.venue_live

    @property
    def accounts(self) -> list[str]:
        return sorted(self._ctx.state.accounts)

    @property
    def first_event_ts(self) -> int:
        """When the journal began (market time): older venue history is not ours."""
        return self._ctx.state.first_ts

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        """Call `callback` with every event once journaled; returns an unsubscribe."""
        return self._subscriptions.subscribe(callback)

    def stream(self) -> AsyncIterator[JournaledEvent]:
        """Iterate over every event once journaled, from now on."""
        return self._subscriptions.stream()

    def on_reconcile_needed(self, hook: Callable[[set[str]], None]) -> None:
        """Let a reconciler hear which accounts became dirty."""
        self._reconcile_hook = hook

    async def watch_now(self) -> None:
        """Run the watch once, now, and return once its outcome is journaled: compare open
        positions' losses with their warning thresholds, cancel stale signal orders. The
        engine runs it every `watch_interval`; tests and tools drive it with this."""
        await self._submit(_Watch())

    async def _watch(self) -> None:
        assert self._watch_interval is not None
        while True:
            await asyncio.sleep(self._watch_interval)
            await self.watch_now()

    def order(self, order_id: str) -> OrderView | None:
        """The order as last journaled."""
        return self._views.get(order_id)

    def order_margin(self, account: str) -> dict[str, Decimal]:
        """Margin the account's open orders reserve, per currency, as last journaled."""
        return {ccy: m for (a, ccy), m in self._reserved.items() if a == account}

    @property
    def instruments(self) -> dict[str, Instrument]:
        return dict(self._ctx.state.instruments)

    async def wait_for(
        self, order_id: str, predicate: Callable[[OrderView], bool], timeout: float
    ) -> OrderView:
        """Wait until the journaled order satisfies `predicate`; on timeout, return it as is."""
        view = self._views.get(order_id)
        if view is None:
            raise NotFound(f"order {order_id} not found", code="ORDER_NOT_FOUND")
        if predicate(view):
            return view
        future: asyncio.Future[OrderView] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(order_id, []).append((predicate, future))
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return self._views[order_id]
        finally:
            waiters = self._waiters.get(order_id, [])
            waiters[:] = [w for w in waiters if w[1] is not future]
            if not waiters:
                self._waiters.pop(order_id, None)

    async def wait_for_venue(self, order_id: str, timeout: float) -> OrderView:
        """Wait until the venue has answered the order's latest request (or `timeout`).

        For an order that cannot rest (MARKET, IOC, FOK) the answer is its outcome, so
        the wait lasts until it is done; for one that rests, until it is acknowledged.
        """
        return await self.wait_for(order_id, venue_has_answered, timeout)

    async def settle(self, rounds: int = 1000) -> None:
        """Wait until nothing is queued: inbox, venue lanes and the venue's own stream.

        For tests, benchmarks and orderly shutdown; a live venue may of course send more.
        """
        state = self._ctx.state
        quiet = 0
        for _ in range(rounds):
            events_before = state.event_count
            await self._submit(_Barrier())
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

    async def _submit(self, command: Command | _Internal) -> Any:
        if self._failure is not None:
            raise EngineStopped(f"engine failed: {self._failure!r}")
        if not self._running or self._stopping:
            raise EngineStopped("engine is not running")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inbox.append((command, future))
        self._wakeup.set()
        return await future

    def _deliver(self, item: VenueEvent | VenueOutcome) -> None:
        self._inbox.append(item)
        self._wakeup.set()

    # --- the writer loop ------------------------------------------------------------------

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
            reply.build = self._commands[type(command)](command)
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
                self._gates = closed.gates
        for view in changes.orders:
            self._views[view.order_id] = view
        if closed.reserved is not None:
            self._reserved = closed.reserved
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
        if batch.reconcile and self._reconcile_hook is not None:
            self._reconcile_hook(batch.reconcile)
        if self._waiters:
            for view in changes.orders:
                for predicate, waiter in self._waiters.get(view.order_id, ()):
                    if not waiter.done() and predicate(view):
                        waiter.set_result(view)

    def _trace_of(self, order_id: str) -> str | None:
        """The order's trace id, for the logs of its venue requests (sent after commit, so
        its journaled view is there)."""
        view = self._views.get(order_id)
        return None if view is None else view.trace_id

    def _fence(self) -> None:
        self._fail(JournalFenced("this node's lease on the partition lapsed"))
        self._wakeup.set()

    def _fail(self, exc: BaseException) -> None:
        if self._failure is not None:
            return
        self._failure = exc
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

    # --- command handlers: decide now, answer (from journaled views) after the commit -----

    def _view(self, order_id: str) -> Callable[[], OrderView]:
        return lambda: self._views[order_id]

    def _process_signal(self, command: ProcessSignal) -> Callable[[], SignalResult]:
        outcome = signals.process_signal(self._ctx, command.signal, self._signal_policy)
        order_ids = [o.order_id for o in outcome.orders]
        return lambda: SignalResult(
            outcome.received, [self._views[i] for i in order_ids], outcome.duplicate
        )

    def _place(self, command: PlaceOrder) -> Callable[[], PlaceResult]:
        order, created = placement.place(self._ctx, command)
        order_id = order.order_id
        return lambda: PlaceResult(self._views[order_id], created)

    def _cancel(self, command: CancelOrder) -> Callable[[], OrderView]:
        return self._view(amendments.cancel(self._ctx, command).order_id)

    def _replace(self, command: ReplaceOrder) -> Callable[[], OrderView]:
        return self._view(amendments.replace(self._ctx, command).order_id)

    def _close_position(self, command: ClosePosition) -> Callable[[], OrderView]:
        return self._view(amendments.close_position(self._ctx, command).order_id)

    def _close_all(self, command: CloseAll) -> Callable[[], CloseAllResult]:
        canceled, closing = amendments.close_all(self._ctx, command)
        canceled_ids = [o.order_id for o in canceled]
        closing_ids = [o.order_id for o in closing]
        return lambda: CloseAllResult(
            [self._views[i] for i in canceled_ids], [self._views[i] for i in closing_ids]
        )

    def _adjust_balance(self, command: AdjustBalance) -> Callable[[], None]:
        placement.adjust_balance(self._ctx, command)
        return lambda: None

    def _open_journal(self, command: _OpenJournal) -> Callable[[], None]:
        if self._ctx.state.journal_id is None:
            self._ctx.emit(JournalOpened(command.journal_id, self._ctx.now()))
        return lambda: None

    def _define_instruments(self, command: _DefineInstruments) -> Callable[[], None]:
        placement.define_instruments(self._ctx, command.instruments)
        return lambda: None

    def _gates_after(self) -> Callable[[], Gates]:
        return lambda: self._gates

    def _set_trading_state(self, command: SetTradingState) -> Callable[[], Gates]:
        control.set_trading_state(self._ctx, command)
        return self._gates_after()

    def _arm(self, command: ArmTrading) -> Callable[[], Gates]:
        control.arm(self._ctx, command, self._venue.name)
        return self._gates_after()

    def _clear_dirty(self, command: ClearDirty) -> Callable[[], Gates]:
        control.clear_dirty(self._ctx, command)
        return self._gates_after()

    def _reconcile(self, command: _Reconcile) -> Callable[[], ReconciliationReport]:
        report = remedy(
            self._ctx,
            command.snapshot,
            command.scope,
            self._reconcile_policy,
            self._translator.apply_fill,
            self._reconcile_memory,
        )
        return lambda: report

    def _preview(self, command: _Preview) -> Callable[[], Preview]:
        result = placement.preview(self._ctx, command.command)
        return lambda: result

    def _watch_tick(self, _: _Watch) -> Callable[[], None]:
        self._loss_watch.check(self._ctx)
        signals.cancel_stale_orders(self._ctx, self._signal_policy)
        return lambda: None

    def _recover(self, _: _Recover) -> Callable[[], None]:
        recover(self._ctx)
        return lambda: None
