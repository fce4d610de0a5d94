"""ordergate's statuses in seed 004's words: every status has a row."""

from __future__ import annotations

import pytest
from tests.unit.unified.support import order_view

from ordergate.domain.values import OrderStatus
from ordergate.unified.statuses import (
    CANCELED,
    FILLED,
    PENDING,
    PLANNED_ERROR,
    REJECTED,
    SEED_STATUS,
    SEED_STATUSES,
    seed_error,
    seed_status,
)

EXPECTED = {
    "NEW": PENDING,
    "PENDING_SUBMIT": PENDING,
    "SUBMITTED": PENDING,
    "ACCEPTED": PENDING,
    "PARTIALLY_FILLED": PENDING,
    "PENDING_CANCEL": PENDING,
    "PENDING_REPLACE": PENDING,
    "UNKNOWN": PENDING,
    "FILLED": FILLED,
    "REJECTED": REJECTED,
    "DENIED": REJECTED,
    "CANCELED": CANCELED,
    "EXPIRED": CANCELED,
    "PLANNED": CANCELED,
}


@pytest.mark.parametrize("status", list(OrderStatus))
def test_seed_status_every_ordergate_status_has_a_seed_word(status: OrderStatus) -> None:
    assert seed_status(status) == EXPECTED[status.value]
    assert seed_status(status) in SEED_STATUSES


def test_seed_status_table_is_exactly_the_expected_rows() -> None:
    assert dict(SEED_STATUS) == EXPECTED
    assert {s.value for s in OrderStatus} <= set(SEED_STATUS)


def test_seed_status_final_statuses_are_never_pending() -> None:
    for status in OrderStatus:
        assert (seed_status(status) == PENDING) == (not status.is_terminal), status


@pytest.mark.parametrize("status", [OrderStatus.DENIED, OrderStatus.REJECTED])
def test_seed_error_of_a_refusal_is_code_and_reason(status: OrderStatus) -> None:
    view = order_view(status=status, reason_code="MAX_POSITION", reason="over 5")
    assert seed_error(view) == "MAX_POSITION: over 5"


def test_seed_error_of_a_planned_order_says_it_was_not_sent() -> None:
    assert seed_error(order_view(status="PLANNED")) == PLANNED_ERROR == "PLANNED: dry run, not sent"


@pytest.mark.parametrize("status", [OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.NEW])
def test_seed_error_of_anything_else_is_none(status: OrderStatus) -> None:
    assert seed_error(order_view(status=status, reason_code="X", reason="y")) is None
