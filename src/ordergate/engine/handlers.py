"""Which decision each command maps to, inside the writer.

A handler decides now (placement, amendments, control, signals, reconciliation remedies:
each a module of pure decisions over the `DecisionContext`) and returns how to build the
caller's answer after the commit, from the journaled views only (`Published`). The
internal commands are the engine's own: opening a journal, defining instruments,
settling doubts after a restart, reconciling a snapshot, previewing, the watch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ordergate.domain.errors import ConfigurationError
from ordergate.domain.events import JournalOpened
from ordergate.domain.instruments import Instrument
from ordergate.domain.signal_policy import SignalPolicy
from ordergate.engine import amendments, control, placement, signals, targets
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
from ordergate.engine.control import LossWatch
from ordergate.engine.placement import Preview
from ordergate.engine.published import Published
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
    TargetsResult,
)
from ordergate.engine.retention import RetentionPolicy, retire_finished
from ordergate.engine.venue_events import VenueEventTranslator, recover
from ordergate.engine.views import OrderView
from ordergate.engine.watch import PositionSnapshots, WatchPolicy, flag_unconfirmed
from ordergate.engine.writer import Handler


@dataclass(frozen=True, slots=True)
class Recover:
    """Settle orders whose last request's fate a restart left open."""


@dataclass(frozen=True, slots=True)
class Reconcile:
    snapshot: VenueSnapshot
    scope: Scope


@dataclass(frozen=True, slots=True)
class PreviewOrder:
    command: PlaceOrder


@dataclass(frozen=True, slots=True)
class Watch:
    """Compare open positions' losses with their warning thresholds, put in doubt orders
    the venue left unconfirmed past the execution timeout, snapshot positions when due,
    cancel signal orders that went stale, and retire finished orders retention no longer
    keeps."""


@dataclass(frozen=True, slots=True)
class OpenJournal:
    """Give a journal that has none its identity (`JournalOpened`), in `mode`; refuse a
    journal made in another mode (a dry run's or a shadow's orders never happened)."""

    journal_id: str
    mode: str = "live"


@dataclass(frozen=True, slots=True)
class DefineInstruments:
    """Journal configured instruments that differ from the journal's."""

    instruments: tuple[Instrument, ...]


class CommandHandlers:
    def __init__(
        self,
        ctx: DecisionContext,
        published: Published,
        translator: VenueEventTranslator,
        *,
        venue_name: str,
        reconcile_policy: ReconcilePolicy,
        signal_policy: SignalPolicy,
        retention: RetentionPolicy,
        watch: WatchPolicy | None = None,
    ) -> None:
        self._ctx = ctx
        self._views = published.orders
        self._published = published
        self._translator = translator
        self._venue_name = venue_name
        self._reconcile_policy = reconcile_policy
        self._signal_policy = signal_policy
        self._retention = retention
        self._loss_watch = LossWatch()
        self._watch_policy = watch or WatchPolicy()
        self._snapshots = PositionSnapshots(self._watch_policy.position_snapshot_interval)
        self._reconcile_memory = ReconcileMemory()

    def table(self) -> dict[type, Handler]:
        return {
            PlaceOrder: self._place,
            ProcessSignal: self._process_signal,
            SetTargets: self._set_targets,
            CancelOrder: self._cancel,
            ReplaceOrder: self._replace,
            ClosePosition: self._close_position,
            CloseAll: self._close_all,
            AdjustBalance: self._adjust_balance,
            OpenJournal: self._open_journal,
            DefineInstruments: self._define_instruments,
            SetTradingState: self._set_trading_state,
            ArmTrading: self._arm,
            ClearDirty: self._clear_dirty,
            Reconcile: self._reconcile,
            PreviewOrder: self._preview,
            Watch: self._watch,
            Recover: self._recover,
        }

    def _view(self, order_id: str) -> Callable[[], OrderView]:
        return lambda: self._views[order_id]

    def _process_signal(self, command: ProcessSignal) -> Callable[[], SignalResult]:
        outcome = signals.process_signal(self._ctx, command.signal, self._signal_policy)
        order_ids = [o.order_id for o in outcome.orders]
        return lambda: SignalResult(
            outcome.received, [self._views[i] for i in order_ids], outcome.duplicate
        )

    def _set_targets(self, command: SetTargets) -> Callable[[], TargetsResult]:
        event, created = targets.set_targets(self._ctx, command)
        order_ids = [step.order_id for step in event.steps if step.order_id is not None]
        views = self._views
        return lambda: TargetsResult(
            event,
            [view for i in order_ids if (view := views.get(i)) is not None],
            duplicate=not created,
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
        return _nothing

    def _open_journal(self, command: OpenJournal) -> Callable[[], None]:
        state = self._ctx.state
        if state.journal_id is None:
            self._ctx.emit(JournalOpened(command.journal_id, self._ctx.now(), command.mode))
        elif state.journal_mode != command.mode:
            raise ConfigurationError(
                f"this journal was made in {state.journal_mode} mode; a {command.mode} run "
                f"needs a journal of its own (another --db)"
            )
        return _nothing

    def _define_instruments(self, command: DefineInstruments) -> Callable[[], None]:
        placement.define_instruments(self._ctx, command.instruments)
        return _nothing

    def _gates_after(self) -> Callable[[], Gates]:
        return lambda: self._published.gates

    def _set_trading_state(self, command: SetTradingState) -> Callable[[], Gates]:
        control.set_trading_state(self._ctx, command)
        return self._gates_after()

    def _arm(self, command: ArmTrading) -> Callable[[], Gates]:
        control.arm(self._ctx, command, self._venue_name)
        return self._gates_after()

    def _clear_dirty(self, command: ClearDirty) -> Callable[[], Gates]:
        control.clear_dirty(self._ctx, command)
        return self._gates_after()

    def _reconcile(self, command: Reconcile) -> Callable[[], ReconciliationReport]:
        report = remedy(
            self._ctx,
            command.snapshot,
            command.scope,
            self._reconcile_policy,
            self._translator.apply_fill,
            self._reconcile_memory,
        )
        return lambda: report

    def _preview(self, command: PreviewOrder) -> Callable[[], Preview]:
        result = placement.preview(self._ctx, command.command)
        return lambda: result

    def _watch(self, _: Watch) -> Callable[[], None]:
        self._loss_watch.check(self._ctx)
        flag_unconfirmed(self._ctx, self._watch_policy.order_execution_timeout)
        self._snapshots.check(self._ctx)
        signals.cancel_stale_orders(self._ctx, self._signal_policy)
        retire_finished(self._ctx, self._retention)
        return _nothing

    def _recover(self, _: Recover) -> Callable[[], None]:
        recover(self._ctx)
        return _nothing


def _nothing() -> None:
    return None
