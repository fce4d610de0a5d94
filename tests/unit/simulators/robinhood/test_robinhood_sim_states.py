"""The order state table: every row it has moves as written, every other pair is refused."""

from __future__ import annotations

import itertools

import pytest

from ordergate.domain.errors import InvalidTransition
from ordergate.simulators.robinhood.states import (
    TERMINAL,
    TRANSITIONS,
    OrderEvent,
    OrderState,
    next_state,
)

ALL_PAIRS = list(itertools.product(OrderState, OrderEvent))


@pytest.mark.parametrize(("state", "event"), list(TRANSITIONS))
def test_every_row_moves_the_order_to_its_target(state: OrderState, event: OrderEvent):
    assert next_state("o-1", state, event) is TRANSITIONS[state, event]


@pytest.mark.parametrize(
    ("state", "event"), [pair for pair in ALL_PAIRS if pair not in TRANSITIONS]
)
def test_every_other_pair_is_refused(state: OrderState, event: OrderEvent):
    with pytest.raises(InvalidTransition):
        next_state("o-1", state, event)


def test_terminal_states_have_no_way_out_and_states_are_the_wire_strings():
    assert not [pair for pair in TRANSITIONS if pair[0] in TERMINAL]
    assert [state.value for state in OrderState] == [
        "unconfirmed",
        "queued",
        "confirmed",
        "partially_filled",
        "filled",
        "cancelled",
        "rejected",
        "failed",
    ]


def test_a_partly_filled_order_can_be_cancelled_with_its_executions():
    assert next_state("o-1", OrderState.PARTIALLY_FILLED, OrderEvent.CANCEL) is (
        OrderState.CANCELLED
    )
