"""A Robinhood order's states, and the table of what moves it from one to the next.

The states are the strings Robinhood puts on the wire (`cancelled` with two l's). An
order is posted `unconfirmed`; the broker `queued` it while it waits (for its session, or
for the confirmation the simulator delays), then `confirmed` it: it works. Fills take it
to `partially_filled` and `filled`. Any non-terminal order can be cancelled (by the
client, by its day's end, or by the venue after a partial fill); a refused order ends
`rejected`. `failed` is Robinhood's state for an order its systems could not handle:
parsers must know it, the simulator never produces it.

`unconfirmed` lingering after a fill (sanko/Robinhood#18) is not a transition: the order
is `filled` and is only shown so (`orders.SimOrder.wire_state`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from ordergate.domain.errors import InvalidTransition


class OrderState(StrEnum):
    UNCONFIRMED = "unconfirmed"
    QUEUED = "queued"
    CONFIRMED = "confirmed"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    FAILED = "failed"


class OrderEvent(StrEnum):
    QUEUE = "queue"  # held: its session is closed, or its confirmation is delayed
    CONFIRM = "confirm"  # working from now on
    FILL_PART = "fill_part"  # an execution that leaves some quantity
    FILL_REST = "fill_rest"  # the execution that completes the quantity
    CANCEL = "cancel"
    REJECT = "reject"


_S = OrderState
_E = OrderEvent
TRANSITIONS: Final[dict[tuple[OrderState, OrderEvent], OrderState]] = {
    (_S.UNCONFIRMED, _E.QUEUE): _S.QUEUED,
    (_S.UNCONFIRMED, _E.CONFIRM): _S.CONFIRMED,
    (_S.UNCONFIRMED, _E.CANCEL): _S.CANCELLED,
    (_S.UNCONFIRMED, _E.REJECT): _S.REJECTED,
    (_S.QUEUED, _E.CONFIRM): _S.CONFIRMED,
    (_S.QUEUED, _E.CANCEL): _S.CANCELLED,
    (_S.QUEUED, _E.REJECT): _S.REJECTED,
    (_S.CONFIRMED, _E.FILL_PART): _S.PARTIALLY_FILLED,
    (_S.CONFIRMED, _E.FILL_REST): _S.FILLED,
    (_S.CONFIRMED, _E.CANCEL): _S.CANCELLED,
    (_S.PARTIALLY_FILLED, _E.FILL_PART): _S.PARTIALLY_FILLED,
    (_S.PARTIALLY_FILLED, _E.FILL_REST): _S.FILLED,
    # Cancelling the rest of a partly filled order: `cancelled` with executions
    # (robin_stocks PR #334), so a client must read fills from `executions`, not state.
    (_S.PARTIALLY_FILLED, _E.CANCEL): _S.CANCELLED,
}
TERMINAL: Final = frozenset((_S.FILLED, _S.CANCELLED, _S.REJECTED, _S.FAILED))
WORKING: Final = frozenset((_S.CONFIRMED, _S.PARTIALLY_FILLED))
WAITING: Final = frozenset((_S.UNCONFIRMED, _S.QUEUED))


def next_state(order_id: str, state: OrderState, event: OrderEvent) -> OrderState:
    """The state `event` takes order `order_id` in `state` to; a pair without a row is
    refused."""
    target = TRANSITIONS.get((state, event))
    if target is None:
        raise InvalidTransition(order_id, state, event)
    return target
