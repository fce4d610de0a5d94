"""One order at the simulated broker: what was asked, what happened, what it shows.

`OrderTicket` is a validated `POST orders/` (see `admission`); `SimOrder` adds the
broker's record: its state (moved only through the `states` table), its executions
(cumulative: a client learns of fills by polling and diffing them), and what the
simulator needs to run it (the price it holds buying power at, the market steps it has
waited, whether a fault keeps it showing `unconfirmed`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from ordergate.domain.values import ZERO
from ordergate.simulators.robinhood.sessions import Session
from ordergate.simulators.robinhood.states import (
    TERMINAL,
    WORKING,
    OrderEvent,
    OrderState,
    next_state,
)

SideName = Literal["buy", "sell"]
OrderType = Literal["limit", "market"]


@dataclass(frozen=True, slots=True)
class OrderTicket:
    """What the client asked for, read and checked."""

    symbol: str
    side: SideName
    order_type: OrderType
    trigger: str  # "immediate" or "stop"
    time_in_force: str  # "gfd", "gtc" or "ioc"
    quantity: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    ref_id: str | None
    market_hours: str
    extended_hours: bool
    preset_percent_limit: Decimal | None
    session: Session


@dataclass(frozen=True, slots=True)
class Execution:
    """One fill, as `executions` lists it."""

    id: str
    price: Decimal
    quantity: Decimal
    ns: int
    settlement_date: date


@dataclass(slots=True)
class SimOrder:
    """An order's record; `apply` is the only way its state changes."""

    id: str
    ticket: OrderTicket
    created_ns: int
    hold_price: Decimal  # per share: what an open buy holds of the buying power
    updated_ns: int = 0
    state: OrderState = OrderState.UNCONFIRMED
    executions: list[Execution] = field(default_factory=list)
    reject_reason: str | None = None
    steps_waited: int = 0
    lingers: bool = False  # shows `unconfirmed` once filled (a fault)

    def __post_init__(self) -> None:
        self.updated_ns = self.updated_ns or self.created_ns

    @property
    def filled(self) -> Decimal:
        return sum((execution.quantity for execution in self.executions), ZERO)

    @property
    def remaining(self) -> Decimal:
        return self.ticket.quantity - self.filled if self.state not in TERMINAL else ZERO

    @property
    def average_price(self) -> Decimal | None:
        filled = self.filled
        if filled == ZERO:
            return None
        return sum((e.price * e.quantity for e in self.executions), ZERO) / filled

    @property
    def cancellable(self) -> bool:
        return self.state not in TERMINAL

    @property
    def working(self) -> bool:
        return self.state in WORKING

    @property
    def wire_state(self) -> OrderState:
        """The state the order shows: its own, but `unconfirmed` for a lingering fill."""
        if self.lingers and self.state is OrderState.FILLED:
            return OrderState.UNCONFIRMED
        return self.state

    def apply(self, event: OrderEvent, now_ns: int) -> None:
        self.state = next_state(self.id, self.state, event)
        self.updated_ns = now_ns

    def fill(self, execution: Execution) -> None:
        """Record an execution; it completes the order or leaves some quantity open."""
        completes = execution.quantity >= self.remaining
        self.executions.append(execution)
        self.apply(OrderEvent.FILL_REST if completes else OrderEvent.FILL_PART, execution.ns)
