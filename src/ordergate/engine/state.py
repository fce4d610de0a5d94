"""The engine's state: the fold of the journal's events, and nothing else.

`OmsState.apply(event)` is deterministic and synchronous; the engine calls it for new
events and replay calls it for stored ones, so both build the same state. It also keeps
what changed since the last `take_changes()`, which become the read-model rows written in
the same transaction as the events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from ordergate.domain.accounts import Account, position_exposure
from ordergate.domain.errors import InvalidRequest
from ordergate.domain.events import (
    BalanceAdjusted,
    ControlEvent,
    Event,
    InstrumentCleared,
    InstrumentMarkedDirty,
    InstrumentUpdated,
    JournalOpened,
    OrderEvent,
    OrderFilled,
    OrderInitialized,
    ReconciliationRecorded,
    SignalReceived,
    TradingArmed,
    TradingStateChanged,
)
from ordergate.domain.instruments import Instrument
from ordergate.domain.orders import Order
from ordergate.domain.positions import Position, PositionBook
from ordergate.domain.values import ZERO, Side, TradingState
from ordergate.engine.ids import order_id_for, order_number_of
from ordergate.engine.views import (
    BalanceView,
    FillView,
    OrderView,
    PositionView,
    ReadModelChanges,
)

MarkOf = Callable[[str], Decimal | None]


@dataclass(frozen=True, slots=True)
class _Counted:
    """What one open order was counted with, to release exactly that."""

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
        # Gates, keyed by (account, symbol); None in either place means "every one".
        self.trading_states: dict[tuple[str | None, str | None], TradingStateChanged] = {}
        self.dirty: dict[tuple[str, str | None], InstrumentMarkedDirty] = {}
        self.armed: dict[str, TradingArmed] = {}
        self.last_reconciliation: dict[str, ReconciliationRecorded] = {}
        # Every trading signal taken, by id: a redelivered one is answered from here.
        self.signals: dict[str, SignalReceived] = {}
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
        if isinstance(event, OrderInitialized):
            self._initialize(event)
        elif isinstance(event, JournalOpened):
            if self.journal_id is not None:
                raise InvalidRequest(f"the journal is {self.journal_id} already")
            self.journal_id = event.journal_id
        elif isinstance(event, InstrumentUpdated):
            self.instruments[event.instrument.symbol] = event.instrument
            for order in self.open_orders.values():
                if order.symbol == event.instrument.symbol:
                    self._recount(order)  # margin rate or contract size may have changed
        elif isinstance(event, SignalReceived):
            if event.signal_id in self.signals:
                raise InvalidRequest(f"signal {event.signal_id!r} is journaled already")
            self.signals[event.signal_id] = event
        elif isinstance(event, BalanceAdjusted):
            account = self._account(event.account)
            account.credit(event.currency, event.amount, event.ts)
            self._changed_accounts[account.account_id] = account
        elif isinstance(event, ControlEvent):
            self._apply_control(event)
        else:
            self._apply_order_event(event)
        self.event_count += 1
        if not self.first_ts:
            self.first_ts = event.ts
        if event.ts > self.last_ts:
            self.last_ts = event.ts

    def _initialize(self, event: OrderInitialized) -> None:
        order = Order(event)
        self.orders[order.order_id] = order
        self.by_client_id[order.client_order_id] = order
        if event.idempotency_key is not None:
            self.by_idempotency_key[(event.account, event.idempotency_key)] = order
        if event.parent_order_id is not None:
            self.children.setdefault(event.parent_order_id, []).append(order.order_id)
        self.order_count = max(self.order_count, order_number_of(order.order_id))
        self._changed_orders[order.order_id] = order

    def _apply_order_event(self, event: OrderEvent) -> None:
        order = self.orders[event.order_id]
        if isinstance(event, OrderFilled) and event.symbol not in self.instruments:
            raise InvalidRequest(f"fill {event.trade_id} for unknown instrument {event.symbol}")
        order.apply(event)  # raises before changing anything if the table refuses
        self._recount(order)
        if order.status.is_open:
            self.open_orders[order.order_id] = order
        else:
            self.open_orders.pop(order.order_id, None)
        self._changed_orders[order.order_id] = order
        if isinstance(event, OrderFilled):
            self._book_fill(event)

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
        key = (order.account, order.symbol, order.side)
        pending = order.status.is_open
        if pending:
            self._count_open(key, +1)
        if order.reduce_only:
            if pending:
                self._counted[order.order_id] = _Counted(key, ZERO, None, ZERO, True)
            return
        if order.status.is_open:
            leaves = order.qty - order.filled_qty
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
            margin_key = (order.account, instrument.quote_currency)
            margin = instrument.initial_margin(leaves, price)
            self.reserved[margin_key] = self.reserved.get(margin_key, ZERO) + margin
        self._counted[order.order_id] = _Counted(exposure_key, leaves, margin_key, margin, pending)

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
        )
        self._changed_orders = {}
        self._new_fills = []
        self._changed_positions = {}
        self._changed_accounts = {}
        return changes

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
