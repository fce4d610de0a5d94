"""The order state table, exhaustively: every (status, trigger) pair is tested.

A pair the table lists must move the order where the table says; every other pair must
raise `InvalidTransition` and leave the order exactly as it was.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from ordergate.domain.errors import InvalidTransition
from ordergate.domain.orders import (
    RESUME,
    TRANSITIONS,
    Trigger,
    can_request_cancel,
    can_request_replace,
)
from ordergate.domain.values import TERMINAL_STATUSES, OrderStatus

from .builders import event_for, initialized, order_in, path_to, snapshot

S = OrderStatus
T = Trigger
FILL_TRIGGERS = frozenset({T.FILL_PARTIAL, T.FILL_FULL})

ALL_PAIRS = list(itertools.product(OrderStatus, Trigger))
LISTED = [pair for pair in ALL_PAIRS if pair in TRANSITIONS]
# A FILLED order has filled its whole qty, so any further fill completes it again:
# `trigger_for` can only ever say FILL_FULL there. No event can form this pair.
UNREACHABLE = frozenset({(S.FILLED, T.FILL_PARTIAL)})
UNLISTED = [pair for pair in ALL_PAIRS if pair not in TRANSITIONS and pair not in UNREACHABLE]
RESUME_ROWS = [pair for pair in LISTED if TRANSITIONS[pair] is RESUME]


def pair_id(pair: tuple[OrderStatus, Trigger]) -> str:
    return f"{pair[0].value}-{pair[1].value}"


def test_transition_table_lists_only_known_statuses_and_triggers():
    for status, trigger in TRANSITIONS:
        assert isinstance(status, OrderStatus)
        assert isinstance(trigger, Trigger)
    assert set(TRANSITIONS.values()) - set(OrderStatus) == {RESUME}


@pytest.mark.parametrize("status", list(OrderStatus), ids=lambda s: s.value)
def test_path_to_every_status_exists_from_new(status):
    # Every status is reachable from NEW by real events, so every row can be exercised.
    order = order_in(status)

    assert order.status is status


@pytest.mark.parametrize(
    "pair",
    [p for p in LISTED if TRANSITIONS[p] is not RESUME],
    ids=pair_id,
)
def test_order_apply_listed_pair_moves_to_table_target(pair):
    status, trigger = pair
    order = order_in(status)
    event = event_for(order, trigger)
    assert order.trigger_for(event) is trigger
    assert order.can_apply(event)

    order.apply(event)

    assert order.status is TRANSITIONS[pair]
    assert order.updated_ts == event.ts


# PARTIALLY_FILLED has something filled by definition: its rows run only partly filled.
RESUME_CASES = [
    pytest.param(pair, filled, id=f"{pair_id(pair)}-{'partly' if filled else 'nothing'}-filled")
    for pair in RESUME_ROWS
    for filled in (False, True)
    if filled or pair[0] is not S.PARTIALLY_FILLED
]


@pytest.mark.parametrize(("pair", "filled"), RESUME_CASES)
def test_order_apply_resume_row_returns_to_working_status(pair, filled):
    status, trigger = pair
    if path_to(status, filled=filled) is None:
        pytest.fail(f"{status} with filled={filled} should be reachable")
    order = order_in(status, filled=filled)
    event = event_for(order, trigger)
    assert order.trigger_for(event) is trigger

    order.apply(event)

    expected = S.PARTIALLY_FILLED if filled else S.ACCEPTED
    assert order.status is expected
    assert order.pending_replace is None


@pytest.mark.parametrize("pair", sorted(UNREACHABLE), ids=pair_id)
def test_order_unreachable_row_never_classified_so(pair):
    status, trigger = pair
    order = order_in(status)
    smallest = event_for(order, T.FILL_PARTIAL)

    assert order.trigger_for(smallest) is T.FILL_FULL
    assert order.trigger_for(smallest) is not trigger


@pytest.mark.parametrize("pair", UNLISTED, ids=pair_id)
def test_order_apply_unlisted_pair_raises_and_changes_nothing(pair):
    status, trigger = pair
    order = order_in(status)
    event = event_for(order, trigger)
    assert order.trigger_for(event) is trigger
    before = snapshot(order)

    assert not order.can_apply(event)
    with pytest.raises(InvalidTransition) as info:
        order.apply(event)

    assert info.value.state == status
    assert info.value.trigger == trigger
    assert order.status is status
    assert order.filled_qty == before["filled_qty"]
    assert order.flags == before["flags"]
    assert snapshot(order) == before


def test_order_apply_initialized_event_raises_invalid_transition():
    order = order_in(S.ACCEPTED)
    before = snapshot(order)

    assert not order.can_apply(initialized(order.order_id))
    with pytest.raises(InvalidTransition):
        order.apply(initialized(order.order_id))

    assert snapshot(order) == before


# --- cancel and replace requests -------------------------------------------------------------

CANCELABLE = {S.PENDING_SUBMIT, S.SUBMITTED, S.ACCEPTED, S.PARTIALLY_FILLED, S.PENDING_REPLACE}
REPLACEABLE = {S.ACCEPTED, S.PARTIALLY_FILLED}


@pytest.mark.parametrize("status", list(OrderStatus), ids=lambda s: s.value)
def test_can_request_cancel_status_agrees_with_table_and_apply(status):
    order = order_in(status)
    event = event_for(order, T.REQUEST_CANCEL)

    assert can_request_cancel(status) is ((status, T.REQUEST_CANCEL) in TRANSITIONS)
    assert can_request_cancel(status) is (status in CANCELABLE)
    if can_request_cancel(status):
        order.apply(event)
        assert order.status is S.PENDING_CANCEL
    else:
        with pytest.raises(InvalidTransition):
            order.apply(event)


@pytest.mark.parametrize("status", list(OrderStatus), ids=lambda s: s.value)
def test_can_request_replace_status_agrees_with_table_and_apply(status):
    order = order_in(status)
    event = event_for(order, T.REQUEST_REPLACE)

    assert can_request_replace(status) is ((status, T.REQUEST_REPLACE) in TRANSITIONS)
    assert can_request_replace(status) is (status in REPLACEABLE)
    if can_request_replace(status):
        order.apply(event)
        assert order.status is S.PENDING_REPLACE
        assert order.pending_replace == event
    else:
        with pytest.raises(InvalidTransition):
            order.apply(event)


# --- terminal statuses -----------------------------------------------------------------------


@pytest.mark.parametrize("status", sorted(TERMINAL_STATUSES), ids=lambda s: s.value)
def test_terminal_status_outgoing_rows_are_fills_only(status):
    outgoing = {t for (s, t) in TRANSITIONS if s is status}

    assert outgoing <= FILL_TRIGGERS
    if status in (S.DENIED, S.PLANNED):
        assert outgoing == set()  # never reached the venue: nothing can fill it
    elif status is S.FILLED:
        assert outgoing == {T.FILL_FULL}  # any fill of a FILLED order is an overfill
    else:
        assert outgoing == FILL_TRIGGERS


LATE_FILL_TARGETS = {
    (S.CANCELED, T.FILL_PARTIAL): S.CANCELED,
    (S.CANCELED, T.FILL_FULL): S.FILLED,
    (S.EXPIRED, T.FILL_PARTIAL): S.EXPIRED,
    (S.EXPIRED, T.FILL_FULL): S.FILLED,
    (S.REJECTED, T.FILL_PARTIAL): S.REJECTED,
    (S.REJECTED, T.FILL_FULL): S.FILLED,
    (S.FILLED, T.FILL_FULL): S.FILLED,
}


@pytest.mark.parametrize("pair", list(LATE_FILL_TARGETS), ids=pair_id)
def test_terminal_status_fill_keeps_status_per_table(pair):
    status, trigger = pair
    order = order_in(status)
    filled_before = order.filled_qty
    event = event_for(order, trigger)
    assert order.trigger_for(event) is trigger

    order.apply(event)

    assert TRANSITIONS[pair] is LATE_FILL_TARGETS[pair]
    assert order.status is LATE_FILL_TARGETS[pair]
    assert order.filled_qty + order.overfill_qty == filled_before + event.qty
    assert order.leaves_qty == Decimal(0)


@pytest.mark.parametrize("status", sorted(TERMINAL_STATUSES), ids=lambda s: s.value)
def test_terminal_status_leaves_qty_is_zero(status):
    order = order_in(status)

    assert order.leaves_qty == Decimal(0)
    assert not status.is_open
