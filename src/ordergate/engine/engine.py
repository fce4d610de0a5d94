"""`Engine`: one partition's engine, the facade its callers use.

Every command goes through the single writer (`engine.writer`): decided in a batch by its
handler (`engine.handlers`), journaled, and only then answered. Reads answer from what
the writer published after its last commit, never from state a batch is still deciding.
Beside the writer the engine runs its reconciler (`engine.reconcile`: snapshots from
the venue, on start, on a timer, on demand and when an account goes dirty) and its watch
(losses against their warning thresholds, stale signal orders), both through the writer.

An `Engine` is a `Trading` (`engine.trading`): what the REST API and the Python API ask
of ordergate, whether one engine runs in the process or a cluster node runs several.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable, Sequence
from decimal import Decimal
from typing import cast

import structlog

from ordergate.domain.events import SignalReceived
from ordergate.domain.instruments import Instrument
from ordergate.domain.limits import LimitsBook
from ordergate.domain.orders import Order
from ordergate.domain.signal_model import TradingSignal
from ordergate.domain.signal_policy import SignalPolicy
from ordergate.engine import signals
from ordergate.engine.checkpoint import CheckpointPolicy
from ordergate.engine.commands import (
    AdjustBalance,
    ArmTrading,
    CancelOrder,
    ClearDirty,
    CloseAll,
    ClosePosition,
    PlaceOrder,
    ProcessSignal,
    ReplaceOrder,
    SetTargets,
    SetTradingState,
)
from ordergate.engine.context import DecisionContext
from ordergate.engine.handlers import (
    CommandHandlers,
    DefineInstruments,
    OpenJournal,
    PreviewOrder,
    Reconcile,
    Recover,
    Watch,
)
from ordergate.engine.observer import EngineObserver
from ordergate.engine.placement import Preview
from ordergate.engine.ports import Clock, Journal, MarketData, Venue, VenueConnection, VenueHalt
from ordergate.engine.published import Published, PublishedOrders
from ordergate.engine.reconcile import (
    ReconcilePolicy,
    Reconciler,
    ReconciliationReport,
    Scope,
    VenueSnapshot,
    settled_by_retired,
)
from ordergate.engine.results import (
    CloseAllResult,
    Gates,
    HeldTargetOf,
    PlaceResult,
    SignalResult,
    TargetsResult,
    venue_has_answered,
)
from ordergate.engine.retention import RetentionPolicy
from ordergate.engine.retry import RetryPolicy
from ordergate.engine.state import OmsState
from ordergate.engine.subscriptions import Callback, JournaledEvent, Subscriptions
from ordergate.engine.venue_events import VenueEventTranslator
from ordergate.engine.venue_reports import Quote
from ordergate.engine.views import OrderView
from ordergate.engine.watch import Due, WatchPolicy
from ordergate.engine.writer import RecallOrders, Writer

log = structlog.get_logger("ordergate.engine")


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
        reconcile_interval: float | None = None,
        watch_interval: float | None = 1.0,
        signal_policy: SignalPolicy | None = None,
        may_act: Callable[[], bool] | None = None,
        retention: RetentionPolicy | None = None,
        checkpoints: CheckpointPolicy | None = None,
        checkpointed_seq: int = 0,
        watch: WatchPolicy | None = None,
        observer: EngineObserver | None = None,
        mode: str = "live",
    ) -> None:
        """`may_act`: asked before every journal append and venue request; once it says
        no (a lapsed partition lease), the engine appends and sends nothing more and
        stops with `JournalFenced`. `reconcile_interval`: seconds between reconciliations
        of every account once `start_reconciling` ran (None: only on demand and when an
        account goes dirty). `retention`: when finished orders leave the hot state (the
        watch and the writer sweep; see `engine.retention`). `checkpoints`: when to write a
        checkpoint of the state (None: never); `checkpointed_seq`: the newest one's seq.
        `watch`: the watch's timed duties (position snapshots and validation, the order
        execution timeout; `engine.watch`), on the engine's clock, run every
        `watch_interval` seconds of wall time.
        `observer`: told what only the moment knows (append and venue request latencies,
        reconnects, when placements began; see `engine.observer`).
        `mode`: live, shadow or dry-run (orders that pass risk end PLANNED, unsent); a
        journal keeps the mode it was made in, and start refuses another."""
        retention = retention or RetentionPolicy()
        self._ctx = DecisionContext(
            state,
            clock,
            market_data,
            limits or LimitsBook(),
            venue_live=venue.live,
            venue_name=venue.name,
            venue_halt=venue.halted if isinstance(venue, VenueHalt) else lambda: None,
            dry_run=mode == "dry-run",
        )
        self._mode = mode
        self._instruments = tuple(instruments)
        self._venue = venue
        self._observer = observer
        self._watch_interval = watch_interval
        self._watch_task: asyncio.Task[None] | None = None
        self._subscriptions = Subscriptions()
        self._translator = VenueEventTranslator(self._ctx, query_retry_delay)
        self._published = Published(PublishedOrders(state))
        self._ctx.before_emit = self._published.orders.before
        handlers = CommandHandlers(
            self._ctx,
            self._published,
            self._translator,
            venue_name=venue.name,
            reconcile_policy=reconcile_policy or ReconcilePolicy(),
            signal_policy=signal_policy or SignalPolicy(),
            retention=retention,
            watch=watch,
        )
        self._validate_positions = Due((watch or WatchPolicy()).position_validation_interval)
        self._writer = Writer(
            self._ctx,
            self._published,
            journal,
            venue,
            handlers.table(),
            self._translator,
            self._subscriptions,
            max_batch=max_batch,
            venue_lanes=venue_lanes,
            retry=retry,
            may_act=may_act,
            retention=retention,
            checkpoints=checkpoints,
            checkpointed_seq=checkpointed_seq,
            observer=observer,
        )
        self._reconciler = Reconciler(
            venue,
            self.reconcile,
            lambda: self.accounts,
            reconcile_interval,
            lambda: self.first_event_ts,
        )
        self._writer.reconcile_hook = self._reconciler.request

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def state(self) -> OmsState:
        """The live state. Read it only from the engine's own loop, between batches."""
        return self._ctx.state

    @property
    def running(self) -> bool:
        return self._writer.running

    @property
    def failure(self) -> BaseException | None:
        return self._writer.failure

    @property
    def event_count(self) -> int:
        """Events journaled (as folded into the live state)."""
        return self._ctx.state.event_count

    @property
    def order_count(self) -> int:
        """Orders held in the hot state (open ones and the finished ones retention keeps)."""
        return len(self._ctx.state.orders)

    @property
    def retired_order_count(self) -> int:
        """Orders retired from the hot state (kept in the journal and the stores)."""
        return self._ctx.state.retired_count

    @property
    def open_order_count(self) -> int:
        return len(self._ctx.state.open_orders)

    @property
    def checkpoint_lag(self) -> tuple[int, float | None]:
        """(events since the newest checkpoint, its age in seconds or None if this engine
        has written none yet). The events count from the one it started from."""
        written = self._writer.last_checkpoint
        seq = self._writer.checkpointed_seq if written is None else written[0]
        age = None if written is None else (time.time_ns() - written[1]) / 1e9
        return self._ctx.state.event_count - seq, age

    @property
    def unmatched_venue_events(self) -> int:
        return self._translator.unmatched

    @property
    def dropped_venue_events(self) -> int:
        return self._translator.dropped

    async def start(self) -> None:
        """Connect the venue, start the writer, journal the instruments, settle doubts."""
        await self._venue.connect()
        self._translator.acceptance_window_ns = int(self._venue.acceptance_window * 1e9)
        self._writer.start()
        await self._writer.submit(OpenJournal(secrets.token_hex(8), self._mode))
        await self._writer.submit(DefineInstruments(self._instruments))
        await self._writer.submit(Recover())
        if self._watch_interval is not None:
            self._watch_task = asyncio.create_task(self._watch(), name="engine-loss-watch")

    def start_reconciling(self) -> None:
        """Reconcile on the timer and soon after an account goes dirty, from now on.

        Start it once the engine has run a first reconciliation (`reconcile_accounts`):
        a dirty mark raised before then is reconciled right away.
        """
        self._reconciler.start()

    async def stop_reconciling(self) -> None:
        """Reconcile only on demand from now on (`reconcile_accounts`)."""
        await self._reconciler.stop()

    async def stop(self) -> None:
        """Stop reconciling, finish what is in the inbox, then stop the writer and the
        watch, and disconnect the venue."""
        await self._reconciler.stop()
        if not self._writer.started:
            return
        await self._writer.stop()
        if self._watch_task is not None:
            self._watch_task.cancel()
            await asyncio.gather(self._watch_task, return_exceptions=True)
        await self._venue.disconnect()

    # --- public commands ------------------------------------------------------------------

    async def place(self, command: PlaceOrder) -> PlaceResult:
        """Place an order, or answer with the one its idempotency key names: a retired
        order is recalled first, so a key of any age places nothing new."""
        started = time.perf_counter()
        key = command.idempotency_key
        if key is not None and self._writer.may_be_retired(command.account, key):
            retired = await self._writer.retired_by_key(command.account, key)
            if retired is not None:
                recalled = RecallOrders((retired,), then=command)
                return cast("PlaceResult", await self._writer.submit(recalled))
        result = cast("PlaceResult", await self._writer.submit(command))
        if result.created and self._observer is not None:
            self._observer.order_placed(result.order.order_id, started)
        return result

    async def process_signal(self, command: ProcessSignal) -> SignalResult:
        """Act on a trading signal; return once its outcome is journaled (a redelivered
        signal is answered from its record: `duplicate`, whatever its age: a retired one
        from the retired-signals store, journaling nothing)."""
        signal = command.signal
        if self._writer.signal_may_be_retired(signal.signal_id):
            retired = await self._writer.retired_signal(signal.signal_id)
            if retired is not None:
                return await self._retired_signal_result(retired, signal)
        return cast("SignalResult", await self._writer.submit(command))

    async def _retired_signal_result(
        self, received: SignalReceived, signal: TradingSignal
    ) -> SignalResult:
        signals.check_redelivery(received, signal)
        orders: list[OrderView] = []
        state = self._ctx.state
        for key in signals.order_keys(received):
            order = state.by_idempotency_key.get((received.account, key))
            held = None if order is None else self._published.orders.get(order.order_id)
            if held is None:
                # Past the barrier `retired_signal` waited for: the store has its orders.
                snapshot = await self._writer.retired_by_key(received.account, key, settled=True)
                held = None if snapshot is None else OrderView.of(Order.restore(snapshot))
            if held is not None:
                orders.append(held)
        return SignalResult(received, orders, duplicate=True)

    async def set_targets(self, command: SetTargets) -> TargetsResult:
        """Take positions to their targets (`engine.targets`); answer once journaled."""
        return cast("TargetsResult", await self._writer.submit(command))

    async def cancel(self, command: CancelOrder) -> OrderView:
        return cast("OrderView", await self._writer.submit(command))

    async def replace(self, command: ReplaceOrder) -> OrderView:
        return cast("OrderView", await self._writer.submit(command))

    async def close_position(self, command: ClosePosition) -> OrderView:
        return cast("OrderView", await self._writer.submit(command))

    async def close_all(self, command: CloseAll) -> CloseAllResult:
        return cast("CloseAllResult", await self._writer.submit(command))

    async def adjust_balance(self, command: AdjustBalance) -> None:
        await self._writer.submit(command)

    async def set_trading_state(self, command: SetTradingState) -> Gates:
        return cast("Gates", await self._writer.submit(command))

    async def arm(self, command: ArmTrading) -> Gates:
        return cast("Gates", await self._writer.submit(command))

    async def clear_dirty(self, command: ClearDirty) -> Gates:
        return cast("Gates", await self._writer.submit(command))

    async def reconcile(self, snapshot: VenueSnapshot, scope: Scope) -> ReconciliationReport:
        """Compare a venue snapshot with the journaled state and apply the policy.

        The venue's history names retired orders too: a fill of one whose trade id it
        holds is known, and is left out; an order it reports open, or a fill it lacks,
        brings it back first, so the comparison meets it as it was."""
        named = [r.client_order_id for r in snapshot.open_orders]
        named += [f.client_order_id for f in snapshot.fills]
        retired = await self._writer.retired_among(named)
        command: Reconcile | RecallOrders = Reconcile(snapshot, scope)
        if retired:
            snapshot, recall = settled_by_retired(snapshot, retired)
            command = RecallOrders(recall, then=Reconcile(snapshot, scope))
        return cast("ReconciliationReport", await self._writer.submit(command))

    async def reconcile_accounts(
        self, accounts: Sequence[str] | None = None, scope: Scope = Scope.ALL
    ) -> list[ReconciliationReport]:
        """Reconcile these accounts (None: every account) with the venue now."""
        return await self._reconciler.run(accounts, scope)

    async def preview(self, command: PlaceOrder) -> Preview:
        """What placing `command` would do now; nothing is journaled or sent."""
        return cast("Preview", await self._writer.submit(PreviewOrder(command)))

    async def watch_now(self) -> None:
        """Run the watch once, now, and return once its outcome is journaled: compare open
        positions' losses with their warning thresholds, flag orders past the execution
        timeout, snapshot positions and validate them against the venue when due, cancel
        stale signal orders. The engine runs it every `watch_interval`; tests and tools
        drive it with this."""
        await self._writer.submit(Watch())
        if self._validate_positions(self._ctx.clock.now_ns()):
            try:
                await self.reconcile_accounts(scope=Scope.POSITIONS)
            except Exception as exc:  # the venue may be down: the next interval tries again
                log.warning("position validation failed", error=repr(exc))

    async def _watch(self) -> None:
        assert self._watch_interval is not None
        while True:
            await asyncio.sleep(self._watch_interval)
            await self.watch_now()

    # --- reads: as last journaled -------------------------------------------------------------

    @property
    def gates(self) -> Gates:
        return self._published.gates

    def held_targets(self, account: str | None = None) -> list[HeldTargetOf]:
        """The targets as last journaled, of one account or all."""
        return [
            HeldTargetOf(*key, held)
            for key, held in self._published.targets.items()
            if account is None or key[0] == account
        ]

    @property
    def venue_name(self) -> str:
        return self._venue.name

    @property
    def venue_live(self) -> bool:
        return self._ctx.venue_live

    def venue_problem(self) -> str | None:
        """What is wrong with the venue's connection now (None: nothing known)."""
        venue = self._venue
        return venue.connection_problem() if isinstance(venue, VenueConnection) else None

    def venue_halt(self) -> str | None:
        """Why the venue takes no orders until a person acts (None: it takes them)."""
        return self._ctx.venue_halt()

    @property
    def accounts(self) -> list[str]:
        return sorted(self._ctx.state.accounts)

    @property
    def first_event_ts(self) -> int:
        """When the journal began (market time): older venue history is not ours."""
        return self._ctx.state.first_ts

    @property
    def instruments(self) -> dict[str, Instrument]:
        return dict(self._ctx.state.instruments)

    def order(self, order_id: str) -> OrderView | None:
        """The order as last journaled."""
        return self._published.orders.get(order_id)

    def order_margin(self, account: str) -> dict[str, Decimal]:
        """Margin the account's open orders reserve, per currency, as last journaled."""
        return {ccy: m for (a, ccy), m in self._published.reserved.items() if a == account}

    def quote(self, symbol: str) -> Quote | None:
        """The latest quote of `symbol` from the engine's market data."""
        return self._ctx.market_data.quote(symbol)

    def now_ns(self) -> int:
        """The engine's time: the wall clock live, market-data time on the paper venue."""
        return self._ctx.clock.now_ns()

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        """Call `callback` with every event once journaled; returns an unsubscribe."""
        return self._subscriptions.subscribe(callback)

    def stream(self) -> AsyncIterator[JournaledEvent]:
        """Iterate over every event once journaled, from now on."""
        return self._subscriptions.stream()

    def on_reconcile_needed(self, hook: Callable[[set[str]], None]) -> None:
        """Hear which accounts became dirty instead of the engine's own reconciler."""
        self._writer.reconcile_hook = hook

    async def wait_for(
        self, order_id: str, predicate: Callable[[OrderView], bool], timeout: float
    ) -> OrderView:
        """Wait until the journaled order satisfies `predicate`; on timeout, return it as is."""
        return await self._writer.wait_for(order_id, predicate, timeout)

    async def wait_for_venue(self, order_id: str, timeout: float) -> OrderView:
        """Wait until the venue has answered the order's latest request (or `timeout`).

        For an order that cannot rest (MARKET, IOC, FOK) the answer is its outcome, so
        the wait lasts until it is done; for one that rests, until it is acknowledged.
        """
        return await self._writer.wait_for(order_id, venue_has_answered, timeout)

    async def settle(self, rounds: int = 1000) -> None:
        """Wait until nothing is queued: inbox, venue lanes and the venue's own stream.

        For tests, benchmarks and orderly shutdown; a live venue may of course send more.
        """
        await self._writer.settle(rounds)
