"""The engine's state: the fold of the journal's events, and nothing else.

`OmsState.apply(event)` is deterministic and synchronous; the engine calls it for new
events and replay calls it for stored ones, so both build the same state. It also keeps
what changed since the last `take_changes()`, which become the read-model rows written in
the same transaction as the events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal

from ordergate.domain.accounts import Account, CurrencyMargin, margin_by_currency
from ordergate.domain.events import (
    BalanceAdjusted,
    Event,
    InstrumentUpdated,
    OrderEvent,
    OrderFilled,
    OrderInitialized,
)
from ordergate.domain.instruments import Instrument
from ordergate.domain.orders import Order
from ordergate.domain.positions import Position, PositionBook
from ordergate.domain.values import ZERO
from ordergate.engine.ids import order_id_for, order_number_of
from ordergate.engine.views import (
    BalanceView,
    FillView,
    OrderView,
    PositionView,
    ReadModelChanges,
)

MarkOf = Callable[[str], Decimal | None]


class OmsState:
    def __init__(self, partition: int = 0) -> None:
        self.instruments: dict[str, Instrument] = {}
        self.partition = partition
        self.orders: dict[str, Order] = {}
        self.by_client_id: dict[str, Order] = {}
        self.by_idempotency_key: dict[tuple[str, str], Order] = {}
        self.open_orders: dict[str, Order] = {}
        self.children: dict[str, list[str]] = {}
        self.book = PositionBook()
        self.accounts: dict[str, Account] = {}
        self.order_count = 0
        self.event_count = 0
        self.last_ts = 0
        # Margin reserved by open, non-reduce-only orders, per (account, currency); kept
        # incrementally so a pre-trade check does not walk every open order.
        self.reserved: dict[tuple[str, str], Decimal] = {}
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
        elif isinstance(event, InstrumentUpdated):
            self.instruments[event.instrument.symbol] = event.instrument
        elif isinstance(event, BalanceAdjusted):
            account = self._account(event.account)
            account.credit(event.currency, event.amount, event.ts)
            self._changed_accounts[account.account_id] = account
        else:
            self._apply_order_event(event)
        self.event_count += 1
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
        before = self._reservation(order)
        order.apply(event)  # raises before changing anything if the table refuses
        after = self._reservation(order)
        if before is not None:
            key, margin = before
            self.reserved[key] -= margin
        if after is not None:
            key, margin = after
            self.reserved[key] = self.reserved.get(key, ZERO) + margin
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

    def _reservation(self, order: Order) -> tuple[tuple[str, str], Decimal] | None:
        """The margin an order reserves now, keyed by (account, currency), if any."""
        if order.reduce_only or not order.status.is_open:
            return None
        price = order.reserve_price
        instrument = self.instruments.get(order.symbol)
        if price is None or instrument is None:
            return None
        key = (order.account, instrument.quote_currency)
        return key, instrument.initial_margin(order.qty - order.filled_qty, price)

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

    def positions_of(self, account: str) -> Iterator[Position]:
        return (p for p in self.book if p.account == account)

    def margin_of(self, account: str, mark_of: MarkOf) -> dict[str, CurrencyMargin]:
        """Balance, equity, used and free margin of an account, per currency."""
        positions = list(self.positions_of(account))
        marks: dict[str, Decimal] = {}
        for position in positions:
            mark = mark_of(position.symbol)
            if mark is not None:
                marks[position.symbol] = mark
        acct = self.accounts.get(account)
        balances = acct.balances if acct is not None else {}
        order_margin = {ccy: m for (a, ccy), m in self.reserved.items() if a == account}
        return margin_by_currency(balances, positions, order_margin, self.instruments, marks)

    def free_margin(self, account: str, currency: str, mark_of: MarkOf) -> Decimal:
        entry = self.margin_of(account, mark_of).get(currency)
        return ZERO if entry is None else entry.free_margin
