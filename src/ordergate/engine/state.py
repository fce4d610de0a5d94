"""The engine's state: the fold of the journal's events, and nothing else.

`OmsState.apply(event)` is deterministic and synchronous; the engine calls it for new
events and replay calls it for stored ones, so both build the same state. It also keeps
what changed since the last `take_changes()`, which become the read-model rows written in
the same transaction as the events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from ordergate.domain.accounts import Account, position_exposure
from ordergate.domain.errors import InvalidRequest
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
        self._counted: dict[str, tuple[tuple[str, str], Decimal]] = {}
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
            for order in self.open_orders.values():
                if order.symbol == event.instrument.symbol:
                    self._recount(order)  # margin rate or contract size may have changed
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
        """Release what the order was counted with, then count what it reserves now.

        Releasing the remembered amount (not a recomputed one) keeps the totals exact when
        an instrument's margin rate changes while the order is open.
        """
        counted = self._counted.pop(order.order_id, None)
        if counted is not None:
            key, margin = counted
            self.reserved[key] -= margin
        if order.reduce_only or not order.status.is_open:
            return
        price = order.reserve_price
        instrument = self.instruments.get(order.symbol)
        if price is None or instrument is None:
            return
        key = (order.account, instrument.quote_currency)
        margin = instrument.initial_margin(order.qty - order.filled_qty, price)
        self.reserved[key] = self.reserved.get(key, ZERO) + margin
        self._counted[order.order_id] = (key, margin)

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

    def free_margin(self, account: str, currency: str, mark_of: MarkOf) -> Decimal:
        """Equity less position and order margin, in one currency (the pre-trade figure).

        The same arithmetic as `margin_by_currency`, for one currency and without building
        every currency's figures: it runs for every order.
        """
        acct = self.accounts.get(account)
        free = ZERO if acct is None else acct.balances.get(currency, ZERO)
        free -= self.reserved.get((account, currency), ZERO)
        for position in self.book.of_account(account):
            if position.qty == ZERO:
                continue
            instrument = self.instruments[position.symbol]
            if instrument.quote_currency == currency:
                upnl, margin = position_exposure(position, instrument, mark_of(position.symbol))
                free += upnl - margin
        return free
