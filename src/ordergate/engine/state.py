"""The engine's state: the fold of the journal's events, and nothing else.

`OmsState.apply(event)` is deterministic and synchronous; the engine calls it for new
events and replay calls it for stored ones, so both build the same state. It also keeps
what changed since the last `take_changes()`, which become the read-model rows written in
the same transaction as the events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import NamedTuple

from ordergate.domain.accounts import Account, position_exposure
from ordergate.domain.errors import InvalidRequest
from ordergate.domain.events import (
    ORDER_EVENT_TYPES,
    BalanceAdjusted,
    ControlEvent,
    Event,
    FinishedOrdersRetired,
    InstrumentCleared,
    InstrumentMarkedDirty,
    InstrumentUpdated,
    JournalOpened,
    OrderAccepted,
    OrderCancelRejected,
    OrderCancelRequested,
    OrderEvent,
    OrderFilled,
    OrderInitialized,
    OrderReplaceRejected,
    OrderReplaceRequested,
    OrderSnapshot,
    OrderStatusUnknown,
    OrderSubmitted,
    ReconciliationRecorded,
    RetiredOrderRecalled,
    SignalReceived,
    TargetsSet,
    TargetStep,
    TradingArmed,
    TradingStateChanged,
)
from ordergate.domain.instruments import Instrument
from ordergate.domain.orders import Order
from ordergate.domain.positions import Position, PositionBook
from ordergate.domain.values import OPEN_STATUSES, ZERO, Side, TradingState
from ordergate.engine.bloom import BloomFilter
from ordergate.engine.checkpoint import VERSION as CHECKPOINT_VERSION
from ordergate.engine.checkpoint import (
    AccountRecord,
    CountedRecord,
    PositionRecord,
    StateCheckpoint,
    TargetRecord,
)
from ordergate.engine.ids import order_id_for, order_number_of
from ordergate.engine.views import (
    BalanceView,
    FillView,
    OrderView,
    PositionView,
    ReadModelChanges,
)

MarkOf = Callable[[str], Decimal | None]

# Events that change none of what an open order is counted with (its quantities, prices,
# awaited fills): while it stays open, recounting it would release and count the same.
_COUNTS_UNCHANGED: frozenset[type] = frozenset(
    {
        OrderSubmitted,
        OrderAccepted,
        OrderCancelRequested,
        OrderCancelRejected,
        OrderReplaceRequested,
        OrderReplaceRejected,
        OrderStatusUnknown,
    }
)


# The events that change one order already held: most of any journal, so the fold tells
# them apart first, by one set lookup.
_CHANGES_AN_ORDER: frozenset[type] = ORDER_EVENT_TYPES - {OrderInitialized}


def retired_key(account: str, idempotency_key: str) -> str:
    """How an idempotency key is named in `OmsState.retired_keys`."""
    return f"{account}\x1f{idempotency_key}"


def retired_signal_key(signal_id: str) -> str:
    """How a trading signal's id is named in `OmsState.retired_keys` (apart from every
    idempotency key: no account holds the separator)."""
    return f"\x1esignal\x1f{signal_id}"


# Target sets remembered by key (the newest, per partition), so one sent again places
# nothing. Older keys are forgotten: sent again, such a set is sized anew against the
# worst case, which places nothing if the targets are already met or being worked.
TARGET_SETS_KEPT = 4096


class HeldTarget(NamedTuple):
    """A strategy's target for one symbol: the set that gave it and the step then taken."""

    set_id: str
    ts: int
    step: TargetStep


class _Counted(NamedTuple):
    """What one open order was counted with, to release exactly that (a tuple: built for
    every order that opens, and a frozen dataclass took four times as long to build)."""

    exposure_key: tuple[str, str, Side]
    qty: Decimal
    margin_key: tuple[str, str] | None
    margin: Decimal
    pending: bool  # counted in open_count (open, reduce-only or not)


class OmsState:
    def __init__(self, partition: int = 0) -> None:
        self.instruments: dict[str, Instrument] = {}
        self.partition = partition
        # The journal's identity (see `JournalOpened`); None until it is first opened.
        self.journal_id: str | None = None
        self.journal_mode = "live"
        self.orders: dict[str, Order] = {}
        self.by_client_id: dict[str, Order] = {}
        self.by_idempotency_key: dict[tuple[str, str], Order] = {}
        self.open_orders: dict[str, Order] = {}
        self.children: dict[str, list[str]] = {}
        self.book = PositionBook()
        self.accounts: dict[str, Account] = {}
        self.order_count = 0
        self.event_count = 0
        self.first_ts = 0
        self.last_ts = 0
        # Margin reserved by open, non-reduce-only orders, per (account, currency); kept
        # incrementally so a pre-trade check does not walk every open order.
        self.reserved: dict[tuple[str, str], Decimal] = {}
        # Remaining qty of open, non-reduce-only orders per (account, symbol, side): with
        # the position, the worst case that position limits count.
        self.open_qty: dict[tuple[str, str, Side], Decimal] = {}
        # Open orders (reduce-only included) per (account, symbol, side), for the
        # one-pending-order-per-side guard; and the symbols each account has orders in.
        self.open_count: dict[tuple[str, str, Side], int] = {}
        self._order_symbols: dict[str, dict[str, int]] = {}
        self._counted: dict[str, _Counted] = {}
        self._keys: dict[tuple[str, str, Side], tuple[str, str, Side]] = {}
        self._margin_keys: dict[tuple[str, str], tuple[str, str]] = {}
        # Gates, keyed by (account, symbol); None in either place means "every one".
        self.trading_states: dict[tuple[str | None, str | None], TradingStateChanged] = {}
        self.dirty: dict[tuple[str, str | None], InstrumentMarkedDirty] = {}
        self.armed: dict[str, TradingArmed] = {}
        self.last_reconciliation: dict[str, ReconciliationRecorded] = {}
        # Every trading signal taken and not retired, by id: a redelivered one is answered
        # from here (a retired one from the store); and how many orders each has held.
        self.signals: dict[str, SignalReceived] = {}
        self._signal_orders: dict[str, int] = {}
        # Target positions (`engine.targets`): the newest per (account, strategy, symbol),
        # and the latest target sets by (account, set id), oldest first.
        self.targets: dict[tuple[str, str, str], HeldTarget] = {}
        self.target_sets: dict[tuple[str, str], TargetsSet] = {}
        # Retention (`engine.retention`): finished orders in the order they finished, with
        # when (the candidates to retire); and the idempotency keys of retired ones.
        self.finished: dict[str, int] = {}
        self.retired_keys = BloomFilter()
        self.retired_count = 0
        self._retired: list[OrderSnapshot] = []
        self._retired_signals: list[SignalReceived] = []
        self._changed_orders: dict[str, Order] = {}
        self._new_fills: list[OrderFilled] = []
        self._changed_positions: dict[tuple[str, str], Position] = {}
        self._changed_accounts: dict[str, Account] = {}

    @classmethod
    def replay(cls, events: Iterable[Event], partition: int = 0) -> OmsState:
        """Fold stored events. What they changed stays pending: `take_changes()` then gives
        every row the read models should hold, which is how verification compares them."""
        state = cls(partition)
        for event in events:
            state.apply(event)
        return state

    # --- folding ----------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        kind = type(event)
        if kind in _CHANGES_AN_ORDER:
            self._apply_order_event(event)  # type: ignore[arg-type]
        elif kind is OrderInitialized:
            self._initialize(event)  # type: ignore[arg-type]
        elif isinstance(event, JournalOpened):
            if self.journal_id is not None:
                raise InvalidRequest(f"the journal is {self.journal_id} already")
            self.journal_id = event.journal_id
            self.journal_mode = event.mode
        elif isinstance(event, InstrumentUpdated):
            self.instruments[event.instrument.symbol] = event.instrument
            for order in self.open_orders.values():
                if order.symbol == event.instrument.symbol:
                    self._recount(order)  # margin rate or contract size may have changed
        elif isinstance(event, SignalReceived):
            if event.signal_id in self.signals:
                raise InvalidRequest(f"signal {event.signal_id!r} is journaled already")
            self.signals[event.signal_id] = event
        elif isinstance(event, TargetsSet):
            self._hold_targets(event)
        elif isinstance(event, BalanceAdjusted):
            account = self._account(event.account)
            account.credit(event.currency, event.amount, event.ts)
            self._changed_accounts[account.account_id] = account
        elif isinstance(event, ControlEvent):
            self._apply_control(event)
        elif isinstance(event, FinishedOrdersRetired):
            self._retire(event)
        elif isinstance(event, RetiredOrderRecalled):
            self._recall(event.order, event.ts)
        else:
            raise InvalidRequest(f"no fold for {kind.__name__}")
        self.event_count += 1
        if not self.first_ts:
            self.first_ts = event.ts
        if event.ts > self.last_ts:
            self.last_ts = event.ts

    def _hold_targets(self, event: TargetsSet) -> None:
        key = (event.account, event.set_id)
        if key in self.target_sets:
            raise InvalidRequest(f"target set {event.set_id!r} is journaled already")
        self.target_sets[key] = event
        if len(self.target_sets) > TARGET_SETS_KEPT:
            del self.target_sets[next(iter(self.target_sets))]
        for step in event.steps:
            held = HeldTarget(event.set_id, event.ts, step)
            self.targets[(event.account, event.strategy, step.symbol)] = held

    def _initialize(self, event: OrderInitialized) -> None:
        order = Order(event)
        self.orders[order.order_id] = order
        self.by_client_id[order.client_order_id] = order
        if event.idempotency_key is not None:
            self.by_idempotency_key[(event.account, event.idempotency_key)] = order
        if event.parent_order_id is not None:
            self.children.setdefault(event.parent_order_id, []).append(order.order_id)
        if event.signal_id is not None:
            self._count_signal_order(event.signal_id, +1)
        self.order_count = max(self.order_count, order_number_of(order.order_id))
        self._changed_orders[order.order_id] = order

    def _apply_order_event(self, event: OrderEvent) -> None:
        order = self.orders[event.order_id]
        fill = event if isinstance(event, OrderFilled) else None
        if fill is not None and fill.symbol not in self.instruments:
            raise InvalidRequest(f"fill {fill.trade_id} for unknown instrument {fill.symbol}")
        was_open = order.status in OPEN_STATUSES
        order.apply(event)  # raises before changing anything if the table refuses
        is_open = order.status in OPEN_STATUSES
        if not (was_open and is_open and type(event) in _COUNTS_UNCHANGED):
            self._recount(order)
        order_id = order.order_id
        if is_open:
            self.open_orders[order_id] = order
        else:
            self.open_orders.pop(order_id, None)
        if order.finished:
            # To the end, at the journal's time (a venue's own timestamps may lag or skew).
            self.finished.pop(order_id, None)
            self.finished[order_id] = max(self.last_ts, event.ts)
        elif order_id in self.finished:
            del self.finished[order_id]  # a late fill's flag, say: never back to open
        self._changed_orders[order_id] = order
        if fill is not None:
            self._book_fill(fill)

    def _retire(self, event: FinishedOrdersRetired) -> None:
        """Drop finished orders from the hot state, keeping each as a snapshot (a read-model
        row) and its idempotency key in `retired_keys`. A bracket's children go with their
        parent, in the same event: the fold refuses to split them."""
        retiring = set(event.order_ids)
        if len(retiring) != len(event.order_ids):
            raise InvalidRequest("an order is named twice in one retirement")
        for order_id in event.order_ids:
            order = self.orders.get(order_id)
            if order is None or not order.finished:
                raise InvalidRequest(f"order {order_id} is not a finished order to retire")
            parent = order.parent_order_id
            if parent is not None and parent in self.orders and parent not in retiring:
                raise InvalidRequest(f"order {order_id} retires only with its parent {parent}")
            children = self.children.get(order_id, ())
            if any(c in self.orders and c not in retiring for c in children):
                raise InvalidRequest(f"order {order_id} retires only with its children")
        for order_id in event.order_ids:
            order = self.orders.pop(order_id)
            self._retired.append(order.snapshot(tuple(self.children.pop(order_id, ()))))
            del self.by_client_id[order.client_order_id]
            del self.finished[order_id]
            if order.idempotency_key is not None:
                key = (order.account, order.idempotency_key)
                if self.by_idempotency_key.get(key) is order:
                    del self.by_idempotency_key[key]
                self.retired_keys.add(retired_key(*key))
            self.book.forget_trades(order.account, order_id, order.trade_ids)
            if order.signal_id is not None:
                self._count_signal_order(order.signal_id, -1)
        self.retired_count += len(event.order_ids)
        for signal_id in event.signal_ids:
            received = self.signals.pop(signal_id, None)
            if received is None:
                raise InvalidRequest(f"signal {signal_id!r} is not held: it cannot retire")
            if signal_id in self._signal_orders:
                raise InvalidRequest(f"signal {signal_id!r} retires only with its last order")
            self._retired_signals.append(received)
            self.retired_keys.add(retired_signal_key(signal_id))

    def _recall(self, snapshot: OrderSnapshot, ts: int) -> None:
        """Bring a retired order back exactly as it was retired."""
        order_id = snapshot.order_id
        if order_id in self.orders or snapshot.client_order_id in self.by_client_id:
            raise InvalidRequest(f"order {order_id} is not retired: it cannot be recalled")
        order = self._hold_restored(snapshot)
        self._changed_orders[order_id] = order  # published again, as it was
        if order.finished:
            self.finished[order_id] = max(self.last_ts, ts)
        self.retired_count -= 1

    def _hold_restored(self, snapshot: OrderSnapshot) -> Order:
        """Hold an order restored from its snapshot, with every index over it (a recall,
        a checkpoint)."""
        order = Order.restore(snapshot)
        self.orders[order.order_id] = order
        self.by_client_id[order.client_order_id] = order
        if order.idempotency_key is not None:
            self.by_idempotency_key[(order.account, order.idempotency_key)] = order
        if snapshot.children:
            self.children[order.order_id] = list(snapshot.children)
        self.book.remember_trades(order.account, order.order_id, order.trade_ids)
        if order.signal_id is not None:
            self._count_signal_order(order.signal_id, +1)
        return order

    def _book_fill(self, fill: OrderFilled) -> None:
        instrument = self.instruments[fill.symbol]
        effect = self.book.apply_fill(fill, instrument)
        if effect is None:
            return
        self._new_fills.append(fill)
        self._changed_positions[(fill.account, fill.symbol)] = effect.position
        account = self._account(fill.account)
        if effect.realized_pnl != ZERO:
            account.credit(instrument.quote_currency, effect.realized_pnl, fill.ts)
        if fill.fee != ZERO:
            account.credit(fill.fee_currency, -fill.fee, fill.ts)
        account.updated_ts = fill.ts
        self._changed_accounts[account.account_id] = account

    def _recount(self, order: Order) -> None:
        """Release what the order was counted with, then count what it holds now.

        An open order that is not reduce-only holds its remaining qty of exposure and the
        margin of that qty. Releasing the remembered amounts (not recomputed ones) keeps
        the totals exact when an instrument's margin rate changes while it is open.
        """
        counted = self._counted.pop(order.order_id, None)
        if counted is not None:
            if counted.qty:
                self.open_qty[counted.exposure_key] -= counted.qty
            if counted.margin_key is not None:
                self.reserved[counted.margin_key] -= counted.margin
            if counted.pending:
                self._count_open(counted.exposure_key, -1)
        pending = order.status in OPEN_STATUSES
        if not pending and (order.reduce_only or order.awaited_fill_qty <= ZERO):
            return  # done, nothing due: it counts nowhere
        key = self._interned(order.account, order.symbol, order.side)
        if pending:
            self._count_open(key, +1)
        if order.reduce_only:
            if pending:
                self._counted[order.order_id] = _Counted(key, ZERO, None, ZERO, True)
            return
        if pending:
            leaves = order.qty - order.filled_qty if order.filled_qty else order.qty
        elif order.awaited_fill_qty > ZERO:
            leaves = order.awaited_fill_qty  # done, but fills the venue reported are due
        else:
            return
        exposure_key = key
        self.open_qty[exposure_key] = self.open_qty.get(exposure_key, ZERO) + leaves
        margin_key: tuple[str, str] | None = None
        margin = ZERO
        price = order.reserve_price
        instrument = self.instruments.get(order.symbol)
        if price is not None and instrument is not None:
            margin_key = self._interned_margin(order.account, instrument.quote_currency)
            margin = instrument.initial_margin(leaves, price)
            self.reserved[margin_key] = self.reserved.get(margin_key, ZERO) + margin
        self._counted[order.order_id] = _Counted(exposure_key, leaves, margin_key, margin, pending)

    def _count_signal_order(self, signal_id: str, step: int) -> None:
        held = self._signal_orders.get(signal_id, 0) + step
        if held:
            self._signal_orders[signal_id] = held
        else:
            del self._signal_orders[signal_id]

    def signal_orders(self, signal_id: str) -> int:
        """How many orders of this signal are in the hot state."""
        return self._signal_orders.get(signal_id, 0)

    def _interned(self, account: str, symbol: str, side: Side) -> tuple[str, str, Side]:
        """One tuple per (account, symbol, side), shared by every open order counted under
        it (a tuple per order cost 64 bytes each)."""
        key = (account, symbol, side)
        return self._keys.setdefault(key, key)

    def _interned_margin(self, account: str, currency: str) -> tuple[str, str]:
        key = (account, currency)
        return self._margin_keys.setdefault(key, key)

    def _count_open(self, key: tuple[str, str, Side], step: int) -> None:
        self.open_count[key] = self.open_count.get(key, 0) + step
        symbols = self._order_symbols.setdefault(key[0], {})
        symbols[key[1]] = symbols.get(key[1], 0) + step

    def _apply_control(self, event: ControlEvent) -> None:
        if isinstance(event, TradingStateChanged):
            scope = (event.account, event.symbol)
            if event.state is TradingState.ACTIVE:
                self.trading_states.pop(scope, None)
            else:
                self.trading_states[scope] = event
        elif isinstance(event, InstrumentMarkedDirty):
            if event.account is None:
                raise InvalidRequest("a dirty mark names its account")
            self.dirty[(event.account, event.symbol)] = event
        elif isinstance(event, InstrumentCleared):
            for key in [k for k in self.dirty if k[0] == event.account]:
                if event.symbol is None or key[1] == event.symbol:
                    del self.dirty[key]
        elif isinstance(event, TradingArmed):
            self.armed[event.account] = event
        elif isinstance(event, ReconciliationRecorded):
            self.last_reconciliation[event.account] = event

    # --- checkpoints ---------------------------------------------------------------------

    def checkpoint(self) -> StateCheckpoint:
        """The state as data (`engine.checkpoint`), at the last event folded (read-model
        rows still to be taken are not state: a checkpoint is taken whatever they are)."""
        children = self.children
        return StateCheckpoint(
            version=CHECKPOINT_VERSION,
            partition=self.partition,
            seq=self.event_count,
            journal_id=self.journal_id,
            instruments=list(self.instruments.values()),
            orders=[o.snapshot(tuple(children.get(i, ()))) for i, o in self.orders.items()],
            open_order_ids=list(self.open_orders),
            positions=[
                PositionRecord(
                    p.account,
                    p.symbol,
                    p.qty,
                    p.avg_price,
                    p.realized_pnl,
                    p.fees,
                    p.updated_ts,
                    p.openings,
                )
                for p in self.book
            ],
            accounts=[
                AccountRecord(a.account_id, list(a.balances.items()), a.updated_ts)
                for a in self.accounts.values()
            ],
            order_count=self.order_count,
            first_ts=self.first_ts,
            last_ts=self.last_ts,
            reserved=[(a, c, m) for (a, c), m in self.reserved.items()],
            open_qty=[(a, s, side, q) for (a, s, side), q in self.open_qty.items()],
            open_count=[(a, s, side, n) for (a, s, side), n in self.open_count.items()],
            order_symbols=[(a, list(n.items())) for a, n in self._order_symbols.items()],
            counted=[
                CountedRecord(
                    order_id,
                    *c.exposure_key,
                    c.qty,
                    None if c.margin_key is None else c.margin_key[1],
                    c.margin,
                    c.pending,
                )
                for order_id, c in self._counted.items()
            ],
            trading_states=list(self.trading_states.values()),
            dirty=list(self.dirty.values()),
            armed=list(self.armed.values()),
            last_reconciliation=list(self.last_reconciliation.values()),
            signals=list(self.signals.values()),
            finished=list(self.finished.items()),
            retired_keys=self.retired_keys.dump(),
            retired_count=self.retired_count,
            journal_mode=self.journal_mode,
            target_sets=list(self.target_sets.values()),
            targets=[
                TargetRecord(account, strategy, held.set_id, held.ts, held.step)
                for (account, strategy, _), held in self.targets.items()
            ],
        )

    @classmethod
    def from_checkpoint(cls, checkpoint: StateCheckpoint) -> OmsState:
        """The state a checkpoint was taken of: the fold of the journal to its seq."""
        state = cls(checkpoint.partition)
        state.journal_id = checkpoint.journal_id
        state.instruments = {i.symbol: i for i in checkpoint.instruments}
        for snapshot in checkpoint.orders:
            state._hold_restored(snapshot)
        state.open_orders = {i: state.orders[i] for i in checkpoint.open_order_ids}
        for p in checkpoint.positions:
            state.book.restore(
                Position(
                    p.account,
                    p.symbol,
                    p.qty,
                    p.avg_price,
                    p.realized_pnl,
                    p.fees,
                    p.updated_ts,
                    p.openings,
                )
            )
        for record in checkpoint.accounts:
            account = state.accounts[record.account_id] = Account(record.account_id)
            account.balances = dict(record.balances)
            account.updated_ts = record.updated_ts
        state.order_count = checkpoint.order_count
        state.event_count = checkpoint.seq
        state.first_ts = checkpoint.first_ts
        state.last_ts = checkpoint.last_ts
        state.reserved = {(a, c): m for a, c, m in checkpoint.reserved}
        state.open_qty = {(a, s, side): q for a, s, side, q in checkpoint.open_qty}
        state.open_count = {(a, s, side): n for a, s, side, n in checkpoint.open_count}
        state._order_symbols = {a: dict(n) for a, n in checkpoint.order_symbols}
        state._counted = {
            c.order_id: _Counted(
                (c.account, c.symbol, c.side),
                c.qty,
                None if c.margin_currency is None else (c.account, c.margin_currency),
                c.margin,
                c.pending,
            )
            for c in checkpoint.counted
        }
        state.trading_states = {(e.account, e.symbol): e for e in checkpoint.trading_states}
        state.dirty = {(e.account or "", e.symbol): e for e in checkpoint.dirty}
        state.armed = {e.account: e for e in checkpoint.armed}
        state.last_reconciliation = {e.account: e for e in checkpoint.last_reconciliation}
        state.signals = {e.signal_id: e for e in checkpoint.signals}
        state.finished = dict(checkpoint.finished)
        state.retired_keys = BloomFilter.load(checkpoint.retired_keys)
        state.retired_count = checkpoint.retired_count
        state.journal_mode = checkpoint.journal_mode
        state.target_sets = {(e.account, e.set_id): e for e in checkpoint.target_sets}
        state.targets = {
            (t.account, t.strategy, t.step.symbol): HeldTarget(t.set_id, t.ts, t.step)
            for t in checkpoint.targets
        }
        return state

    # --- gates -------------------------------------------------------------------------

    def trading_state(self, account: str, symbol: str) -> TradingStateChanged | None:
        """The most restrictive state set for this account and instrument, if any."""
        worst: TradingStateChanged | None = None
        for scope in ((None, None), (account, None), (None, symbol), (account, symbol)):
            record = self.trading_states.get(scope)
            if record is not None and (
                worst is None or record.state.severity > worst.state.severity
            ):
                worst = record
        return worst

    def dirty_mark(self, account: str, symbol: str) -> InstrumentMarkedDirty | None:
        return self.dirty.get((account, symbol)) or self.dirty.get((account, None))

    def worst_case(self, account: str, symbol: str) -> tuple[Decimal, Decimal]:
        """(longest, shortest) the position could become if every open order filled."""
        position = self.book.qty(account, symbol)
        buys = self.open_qty.get((account, symbol, Side.BUY), ZERO)
        sells = self.open_qty.get((account, symbol, Side.SELL), ZERO)
        return position + buys, position - sells

    def symbols_of(self, account: str) -> set[str]:
        """Instruments the account has a position or an open order in."""
        symbols = {p.symbol for p in self.book.of_account(account) if p.qty != ZERO}
        symbols.update(s for s, n in self._order_symbols.get(account, {}).items() if n)
        return symbols

    def _account(self, account_id: str) -> Account:
        account = self.accounts.get(account_id)
        if account is None:
            account = self.accounts[account_id] = Account(account_id)
        return account

    # --- changes since the last commit ---------------------------------------------------

    def take_changes(self) -> ReadModelChanges:
        changes = ReadModelChanges(
            orders=[OrderView.of(o) for o in self._changed_orders.values()],
            fills=[FillView.of(f) for f in self._new_fills],
            positions=[PositionView.of(p) for p in self._changed_positions.values()],
            balances=[b for a in self._changed_accounts.values() for b in BalanceView.all_of(a)],
            retired=self._retired,
            retired_signals=self._retired_signals,
        )
        self._retired = []
        self._retired_signals = []
        self._changed_orders = {}
        self._new_fills = []
        self._changed_positions = {}
        self._changed_accounts = {}
        return changes

    def discard_changes(self) -> None:
        """Forget what changed without building rows: a start-up replay's changes are in
        the read models already, and holding them would hold every order ever folded."""
        self._changed_orders = {}
        self._new_fills = []
        self._changed_positions = {}
        self._changed_accounts = {}
        self._retired = []
        self._retired_signals = []

    # --- queries used by decisions --------------------------------------------------------

    def next_order_id(self) -> str:
        return order_id_for(self.partition, self.order_count + 1)

    def equity_and_free_margin(
        self, account: str, currency: str, mark_of: MarkOf
    ) -> tuple[Decimal, Decimal]:
        """Equity, and equity less position and order margin, in one currency.

        The same arithmetic as `margin_by_currency`, for one currency and without building
        every currency's figures: it runs for every order.
        """
        acct = self.accounts.get(account)
        equity = ZERO if acct is None else acct.balances.get(currency, ZERO)
        used = self.reserved.get((account, currency), ZERO)
        for position in self.book.of_account(account):
            if position.qty == ZERO:
                continue
            instrument = self.instruments[position.symbol]
            if instrument.quote_currency == currency:
                upnl, margin = position_exposure(position, instrument, mark_of(position.symbol))
                equity += upnl
                used += margin
        return equity, equity - used

    def free_margin(self, account: str, currency: str, mark_of: MarkOf) -> Decimal:
        return self.equity_and_free_margin(account, currency, mark_of)[1]

    def gross_exposure(
        self, account: str, currency: str, mark_of: MarkOf, excluding: str | None = None
    ) -> Decimal:
        """Worst-case gross exposure at the marks over the account's instruments in one
        currency: for each, the larger of the longest and shortest it could become."""
        gross = ZERO
        for symbol in self.symbols_of(account):
            instrument = self.instruments.get(symbol)
            if symbol == excluding or instrument is None or instrument.quote_currency != currency:
                continue
            longest, shortest = self.worst_case(account, symbol)
            position = self.book.get(account, symbol)
            mark = mark_of(symbol) or (position.avg_price if position is not None else None)
            if mark is None:
                continue
            gross += instrument.notional(max(abs(longest), abs(shortest)), mark)
        return gross
