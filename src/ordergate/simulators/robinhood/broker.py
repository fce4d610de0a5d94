"""The simulated broker: the account's orders, its ledger and each symbol's market.

Synchronous and deterministic (time from `clock`, ids from `IdSource`); the server calls
it for every request and market step. What it does with an order:

- `place`: refuses, creating nothing, a reused `ref_id` (400 `{"ref_id": [...]}`), a buy
  beyond the buying power and a sell beyond the shares not already held for sells
  (400 `{"detail": ...}`). A stop order is created and `rejected` at once: ordergate
  sends limit orders only, and the simulator works no stop. Otherwise the order is
  posted `unconfirmed` and, if its session is open and confirmation is not delayed,
  `confirmed` and matched against the current touch at once (a marketable order may
  answer the POST `filled`); outside its session it is `queued`.
- `step` (one symbol's new touch): waiting orders advance (see `config`: queued until
  their session opens, confirmed after `confirm_after_steps` steps), a day order still
  working when its session has closed is cancelled, and working orders are matched
  (`matching`). An `ioc` order is cancelled after its first chance to match.
- `cancel`: a working or waiting order is cancelled at once (200 `{}`); a terminal one
  answers 400 `{"detail": ...}`.

The order faults of the `FaultPlan` act here (fill on cancel, partial then cancel,
unconfirmed lingering after a fill, refusal for buying power).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Final

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.values import ONE, ZERO
from ordergate.simulators.ids import IdSource
from ordergate.simulators.robinhood import errors
from ordergate.simulators.robinhood.errors import RobinhoodError, detail
from ordergate.simulators.robinhood.faults import FaultKind, FaultPlan
from ordergate.simulators.robinhood.ledger import Ledger
from ordergate.simulators.robinhood.matching import Touch, fill_on_step, touch_price
from ordergate.simulators.robinhood.orders import Execution, OrderTicket, SimOrder
from ordergate.simulators.robinhood.sessions import Session, is_open, settlement_date
from ordergate.simulators.robinhood.states import WAITING, OrderEvent, OrderState
from ordergate.simulators.robinhood.stocks import TICK, StockSpec

# Robinhood's collar on a market buy: buying power is held at the ask plus 5 %.
MARKET_BUY_COLLAR: Final = Decimal("0.05")
_TWO: Final = Decimal(2)


@dataclass(frozen=True, slots=True)
class Quoted:
    """A symbol's touch and when it was set."""

    touch: Touch
    updated_ns: int


class Broker:
    """The account's orders, ledger and market; the faults that act on orders."""

    def __init__(
        self,
        stocks: Mapping[str, StockSpec],
        *,
        cash: Decimal,
        resting_liquidity: Mapping[str, Decimal],
        confirm_after_steps: int,
        always_open: bool,
        faults: FaultPlan,
        ids: IdSource,
        clock: Callable[[], int],
    ) -> None:
        self.stocks = dict(stocks)
        self.ledger = Ledger(cash)
        self._liquidity = dict(resting_liquidity)
        self._confirm_after = confirm_after_steps
        self._always_open = always_open
        self._faults = faults
        self._ids = ids
        self._clock = clock
        self._orders: dict[str, SimOrder] = {}
        self._ref_ids: set[str] = set()
        now = clock()
        self._quotes = {
            symbol: Quoted(Touch(spec.level, spec.level + TICK, spec.level), now)
            for symbol, spec in self.stocks.items()
        }
        self.previous_close = {symbol: spec.level for symbol, spec in self.stocks.items()}

    # --- reading -----------------------------------------------------------------------

    def orders(self) -> list[SimOrder]:
        """Every order, oldest first."""
        return list(self._orders.values())

    def order(self, order_id: str) -> SimOrder:
        found = self._orders.get(order_id)
        if found is None:
            raise detail(404, errors.NOT_FOUND)
        return found

    def quote(self, symbol: str) -> Quoted:
        return self._quotes[symbol]

    def cash_held_for_orders(self) -> Decimal:
        """What open buys hold of the cash: each one's hold price times what is left."""
        return sum(
            (o.hold_price * o.remaining for o in self._open() if o.ticket.side == "buy"), ZERO
        )

    def buying_power(self) -> Decimal:
        return self.ledger.cash - self.cash_held_for_orders()

    def shares_held(self, symbol: str, side: str) -> Decimal:
        """Shares open orders of `side` still want in `symbol`."""
        return sum((o.remaining for o in self._open(symbol) if o.ticket.side == side), ZERO)

    # --- requests ----------------------------------------------------------------------

    def place(self, ticket: OrderTicket) -> SimOrder:
        """Take a new order (see the module), or raise the `RobinhoodError` refusing it."""
        if ticket.ref_id is not None and ticket.ref_id in self._ref_ids:
            raise RobinhoodError(400, {"ref_id": [errors.DUPLICATE_REF_ID]})
        if self._faults.take(FaultKind.BUYING_POWER) is not None:
            raise detail(400, errors.BUYING_POWER)
        touch = self._quotes[ticket.symbol].touch
        hold_price = _hold_price(ticket, touch)
        if ticket.trigger != "stop":
            self._check_means(ticket, hold_price)
        now = self._clock()
        order = SimOrder(self._ids.next("order"), ticket, now, hold_price)
        self._orders[order.id] = order
        if ticket.ref_id is not None:
            self._ref_ids.add(ticket.ref_id)
        if ticket.trigger == "stop":
            order.reject_reason = errors.STOP_ORDERS
            order.apply(OrderEvent.REJECT, now)
        elif not self._session_open(ticket.session, now):
            order.apply(OrderEvent.QUEUE, now)
        elif self._confirm_after == 0:
            order.apply(OrderEvent.CONFIRM, now)
            self._match(order, touch, now, arriving=True)
        return order

    def cancel(self, order_id: str) -> None:
        """Cancel an order now; a terminal one is refused (400)."""
        order = self.order(order_id)
        if not order.cancellable:
            raise detail(400, errors.NOT_CANCELLABLE)
        now = self._clock()
        if order.working and self._faults.take(FaultKind.FILL_ON_CANCEL) is not None:
            touch = self._quotes[order.ticket.symbol].touch
            self._execute(order, touch_price(order.ticket, touch), order.remaining, now)
            return
        order.apply(OrderEvent.CANCEL, now)

    # --- the market --------------------------------------------------------------------

    def step(self, symbol: str, touch: Touch) -> None:
        """One market step of `symbol`: advance, expire and match its open orders."""
        if symbol not in self.stocks:
            raise InvalidRequest(f"unknown symbol {symbol!r}")
        now = self._clock()
        self._quotes[symbol] = Quoted(touch, now)
        for order in self._open(symbol):
            open_now = self._session_open(order.ticket.session, now)
            arriving = order.state in WAITING  # working from this step: its first chance
            if arriving:
                self._advance(order, open_now, now)
            elif not open_now and order.ticket.time_in_force == "gfd":
                order.apply(OrderEvent.CANCEL, now)  # its day is over
            if order.working and open_now:
                self._match(order, touch, now, arriving)

    # --- inside ------------------------------------------------------------------------

    def _open(self, symbol: str | None = None) -> list[SimOrder]:
        return [
            o for o in self._orders.values() if o.cancellable and symbol in (None, o.ticket.symbol)
        ]

    def _session_open(self, session: Session, now: int) -> bool:
        return self._always_open or is_open(session, now)

    def _check_means(self, ticket: OrderTicket, hold_price: Decimal) -> None:
        if ticket.side == "buy" and hold_price * ticket.quantity > self.buying_power():
            raise detail(400, errors.BUYING_POWER)
        if ticket.side == "sell":
            free = self.ledger.quantity(ticket.symbol) - self.shares_held(ticket.symbol, "sell")
            if ticket.quantity > free:
                raise detail(400, errors.SHARES)

    def _advance(self, order: SimOrder, open_now: bool, now: int) -> None:
        """A waiting order: queued while its session is closed, confirmed after its
        steps."""
        if open_now:
            order.steps_waited += 1
            if order.steps_waited >= self._confirm_after:
                order.apply(OrderEvent.CONFIRM, now)
                return
        if order.state is OrderState.UNCONFIRMED:
            order.apply(OrderEvent.QUEUE, now)

    def _match(self, order: SimOrder, touch: Touch, now: int, arriving: bool = False) -> None:
        symbol = order.ticket.symbol
        liquidity = self._liquidity.get(symbol)
        fill = fill_on_step(order.ticket, order.remaining, touch, liquidity, arriving)
        if fill is not None and not order.executions:
            fault = self._faults.take(FaultKind.PARTIAL_THEN_CANCEL)
            if fault is not None:
                part = _part(order.ticket.quantity, fault.quantity)
                self._execute(order, fill.price, min(part, fill.quantity), now)
                if order.cancellable:
                    order.apply(OrderEvent.CANCEL, now)
                return
        if fill is not None:
            self._execute(order, fill.price, fill.quantity, now)
        if order.ticket.time_in_force == "ioc" and order.cancellable:
            order.apply(OrderEvent.CANCEL, now)

    def _execute(self, order: SimOrder, price: Decimal, quantity: Decimal, now: int) -> None:
        ticket = order.ticket
        self.ledger.book(ticket.symbol, ticket.side, price, quantity, now)
        order.fill(
            Execution(self._ids.next("execution"), price, quantity, now, settlement_date(now))
        )
        if order.state is OrderState.FILLED:
            order.lingers = self._faults.take(FaultKind.UNCONFIRMED_LINGERS) is not None


def _hold_price(ticket: OrderTicket, touch: Touch) -> Decimal:
    """What a share of the order holds of the buying power: its limit, or for a market
    buy the ask plus the collar, on the cent."""
    if ticket.order_type == "limit" and ticket.price is not None:
        return ticket.price
    if ticket.side == "buy":
        return (touch.ask * (ONE + MARKET_BUY_COLLAR)).quantize(TICK, rounding=ROUND_CEILING)
    return touch.bid


def _part(quantity: Decimal, asked: Decimal | None) -> Decimal:
    """What a partial-then-cancel fills: as asked (less than the whole), else half,
    in whole shares from two shares up."""
    if asked is not None and asked < quantity:
        return asked
    half = quantity / _TWO
    return half.to_integral_value(rounding=ROUND_FLOOR) if quantity >= _TWO else half
