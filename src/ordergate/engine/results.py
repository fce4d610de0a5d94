"""What the engine answers: results of commands, the gates as journaled, and when an
order's venue has answered. Immutable; built from journaled views only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from ordergate.domain.events import (
    InstrumentMarkedDirty,
    ReconciliationRecorded,
    SignalReceived,
    TargetsSet,
    TradingArmed,
    TradingStateChanged,
)
from ordergate.domain.values import OrderStatus, OrderType, TimeInForce
from ordergate.engine.state import HeldTarget, OmsState
from ordergate.engine.views import OrderView

# Statuses in which the venue has not yet told us what became of a request.
AWAITING_VENUE = frozenset(
    {
        OrderStatus.NEW,
        OrderStatus.PENDING_SUBMIT,
        OrderStatus.SUBMITTED,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.PENDING_REPLACE,
        OrderStatus.UNKNOWN,
    }
)


_IMMEDIATE = frozenset({TimeInForce.IOC, TimeInForce.FOK})


def venue_has_answered(view: OrderView) -> bool:
    if view.status in AWAITING_VENUE:
        return False
    if view.type is OrderType.MARKET or view.time_in_force in _IMMEDIATE:
        return view.status.is_terminal
    return True


@dataclass(frozen=True, slots=True)
class SignalResult:
    """A signal's journaled record and the orders placed for it (as journaled)."""

    received: SignalReceived
    orders: list[OrderView]
    duplicate: bool


class HeldTargetOf(NamedTuple):
    """A target as last journaled, with whose it is."""

    account: str
    strategy: str
    symbol: str
    held: HeldTarget


@dataclass(frozen=True, slots=True)
class TargetsResult:
    """A target set's journaled record and the orders its steps placed (as journaled; a
    set sent again: `duplicate`, with those of its first sending still held)."""

    targets: TargetsSet
    orders: list[OrderView]
    duplicate: bool


@dataclass(frozen=True, slots=True)
class PlaceResult:
    """The order as journaled; `created` is False when an idempotency key matched."""

    order: OrderView
    created: bool


@dataclass(frozen=True, slots=True)
class CloseAllResult:
    canceled: list[OrderView]
    closing: list[OrderView]


@dataclass(frozen=True, slots=True)
class Gates:
    """The gates as last journaled: trading states, dirty marks, armed accounts."""

    trading_states: tuple[TradingStateChanged, ...] = ()
    dirty: tuple[InstrumentMarkedDirty, ...] = ()
    armed: tuple[TradingArmed, ...] = ()
    reconciliations: tuple[ReconciliationRecorded, ...] = ()

    @classmethod
    def of(cls, state: OmsState) -> Gates:
        return cls(
            tuple(state.trading_states.values()),
            tuple(state.dirty.values()),
            tuple(state.armed.values()),
            tuple(state.last_reconciliation.values()),
        )
