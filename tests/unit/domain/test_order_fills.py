"""Fills are facts: applied in any state the table allows, flagged when they are surprising."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ordergate.domain.errors import DuplicateFill, InvalidTransition
from ordergate.domain.events import (
    OrderAccepted,
    OrderApproved,
    OrderCanceled,
    OrderDenied,
    OrderRejected,
    OrderReplaced,
    OrderReplaceRequested,
    OrderSubmitted,
)
from ordergate.domain.orders import OrderFlag
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderStatus, OrderType

from .builders import fill_of, new_order, order_in, snapshot

S = OrderStatus
D = Decimal


@pytest.mark.parametrize("status", [S.CANCELED, S.EXPIRED, S.REJECTED], ids=lambda s: s.value)
def test_order_fill_after_terminal_status_flagged_late_fill(status):
    order = order_in(status, filled=False)

    order.apply(fill_of(order, "0.4"))

    assert order.flags == {OrderFlag.LATE_FILL}
    assert order.filled_qty == D("0.4")
    assert order.status is status


def test_order_fill_after_cancel_completing_order_flagged_late_fill_and_filled():
    order = order_in(S.CANCELED, filled=True)
    remaining = order.qty - order.filled_qty

    order.apply(fill_of(order, remaining))

    assert order.status is S.FILLED
    assert OrderFlag.LATE_FILL in order.flags
    assert order.filled_qty == order.qty


def test_order_fill_while_pending_cancel_flagged_fill_after_cancel_request():
    order = order_in(S.PENDING_CANCEL, filled=False)

    order.apply(fill_of(order, "0.3"))

    assert order.status is S.PENDING_CANCEL
    assert order.flags == {OrderFlag.FILL_AFTER_CANCEL_REQUEST}
    assert order.filled_qty == D("0.3")


def test_order_full_fill_while_pending_cancel_filled_and_flagged():
    order = order_in(S.PENDING_CANCEL, filled=False)

    order.apply(fill_of(order, order.qty))

    assert order.status is S.FILLED
    assert order.flags == {OrderFlag.FILL_AFTER_CANCEL_REQUEST}


@pytest.mark.parametrize(
    "status", [S.PENDING_SUBMIT, S.SUBMITTED, S.ACCEPTED, S.PENDING_REPLACE, S.UNKNOWN]
)
def test_order_fill_in_working_status_not_flagged(status):
    order = order_in(status, filled=False)

    order.apply(fill_of(order, "0.2"))

    assert order.flags == set()
    assert order.filled_qty == D("0.2")
    assert order.venue_acknowledged


def test_order_overfill_caps_filled_qty_and_records_excess():
    order = order_in(S.ACCEPTED)
    order.apply(fill_of(order, "0.6"))

    order.apply(fill_of(order, "0.7"))

    assert order.status is S.FILLED
    assert order.filled_qty == order.qty == D("1")
    assert order.overfill_qty == D("0.3")
    assert order.flags == {OrderFlag.OVERFILL}
    assert order.leaves_qty == D(0)


def test_order_single_fill_above_qty_filled_with_overfill():
    order = order_in(S.ACCEPTED)

    order.apply(fill_of(order, "1.25"))

    assert order.status is S.FILLED
    assert order.filled_qty == D("1")
    assert order.overfill_qty == D("0.25")
    assert OrderFlag.OVERFILL in order.flags


def test_order_fill_after_filled_accumulates_overfill():
    order = order_in(S.ACCEPTED)
    order.apply(fill_of(order, "1"))
    assert order.flags == set()

    order.apply(fill_of(order, "0.2"))
    order.apply(fill_of(order, "0.05"))

    assert order.status is S.FILLED
    assert order.filled_qty == D("1")
    assert order.overfill_qty == D("0.25")
    assert order.flags == {OrderFlag.OVERFILL}


def test_order_exact_fill_not_flagged_overfill():
    order = order_in(S.ACCEPTED)
    order.apply(fill_of(order, "0.5"))

    order.apply(fill_of(order, "0.5"))

    assert order.status is S.FILLED
    assert order.overfill_qty == D(0)
    assert order.flags == set()


@pytest.mark.parametrize("status", [S.PARTIALLY_FILLED, S.FILLED, S.CANCELED])
def test_order_duplicate_trade_id_raises_and_changes_nothing(status):
    order = order_in(status, filled=True)
    (seen,) = order.trade_ids
    duplicate = fill_of(order, "0.1", "1", trade_id=seen)
    before = snapshot(order)

    assert not order.can_apply(duplicate)
    with pytest.raises(DuplicateFill):
        order.apply(duplicate)

    assert snapshot(order) == before


def test_order_fill_refused_by_table_changes_nothing():
    order = order_in(S.DENIED)
    before = snapshot(order)

    with pytest.raises(InvalidTransition):
        order.apply(fill_of(order, "0.1"))

    assert snapshot(order) == before
    assert order.trade_ids == set()  # the trade id is not burnt by a refused fill


def test_order_avg_fill_price_is_quantity_weighted_mean():
    order = order_in(S.ACCEPTED)

    order.apply(fill_of(order, "0.2", "100"))
    assert order.avg_fill_price == D("100")
    order.apply(fill_of(order, "0.3", "110"))
    assert order.avg_fill_price == D("106")  # (20 + 33) / 0.5
    order.apply(fill_of(order, "0.5", "120"))

    assert order.avg_fill_price == D("113")  # (20 + 33 + 60) / 1


def test_order_avg_fill_price_counts_overfilled_qty():
    order = order_in(S.ACCEPTED)
    order.apply(fill_of(order, "1", "100"))

    order.apply(fill_of(order, "1", "200"))

    assert order.avg_fill_price == D("150")


def test_order_avg_fill_price_none_before_any_fill():
    assert order_in(S.ACCEPTED).avg_fill_price is None


# --- what other events record on the order ---------------------------------------------------


def test_order_approved_records_reference_price():
    order = new_order(type=OrderType.MARKET, price=None)

    order.apply(OrderApproved(order.order_id, D("50123.4"), 2))

    assert order.reference_price == D("50123.4")
    assert order.reserve_price == D("50123.4")


def test_order_reserve_price_by_type():
    limit = new_order(type=OrderType.LIMIT, price="100")
    stop = new_order(type=OrderType.STOP, price=None, stop_price="90")
    stop_limit = new_order(type=OrderType.STOP_LIMIT, price="95", stop_price="90")
    market = new_order(type=OrderType.MARKET, price=None)

    assert limit.reserve_price == D("100")
    assert stop.reserve_price == D("90")
    assert stop_limit.reserve_price == D("95")
    assert market.reserve_price is None


def test_order_submitted_and_accepted_record_venue_order_id():
    order = order_in(S.PENDING_SUBMIT)
    assert not order.venue_acknowledged

    order.apply(OrderSubmitted(order.order_id, "V-9", 5))
    order.apply(OrderAccepted(order.order_id, None, 6))

    assert order.venue_order_id == "V-9"  # an ack without an id keeps the one we had
    assert order.venue_acknowledged


def test_order_denied_records_reason():
    order = new_order()

    order.apply(OrderDenied(order.order_id, ReasonCode.QTY_BELOW_MIN, "too small", 2))

    assert order.status is S.DENIED
    assert order.reason_code == ReasonCode.QTY_BELOW_MIN
    assert order.reason == "too small"


def test_order_rejected_records_reason():
    order = order_in(S.SUBMITTED)

    order.apply(OrderRejected(order.order_id, ReasonCode.VENUE_INSUFFICIENT_MARGIN, "x", 9))

    assert order.reason_code == ReasonCode.VENUE_INSUFFICIENT_MARGIN


def test_order_canceled_with_reason_records_it():
    order = order_in(S.ACCEPTED)

    order.apply(OrderCanceled(order.order_id, ReasonCode.IOC_UNFILLED, "ioc", 9))

    assert order.reason_code == ReasonCode.IOC_UNFILLED
    assert order.reason == "ioc"


def test_order_canceled_without_reason_keeps_previous_reason():
    order = order_in(S.UNKNOWN)
    assert order.reason == "timeout"

    order.apply(OrderCanceled(order.order_id, None, None, 9))

    assert order.status is S.CANCELED
    assert order.reason == "timeout"


def test_order_replace_confirmed_updates_qty_and_price():
    order = order_in(S.ACCEPTED)
    order.apply(OrderReplaceRequested(order.order_id, D("2"), D("48000"), None, 5))
    assert order.pending_replace is not None
    assert order.qty == D("1")  # unchanged until the venue confirms

    order.apply(OrderReplaced(order.order_id, D("2"), D("48000"), None, 6))

    assert order.qty == D("2")
    assert order.price == D("48000")
    assert order.status is S.ACCEPTED
    assert order.pending_replace is None


def test_order_replace_confirmed_below_filled_keeps_filled_within_qty():
    order = order_in(S.ACCEPTED)
    order.apply(OrderReplaceRequested(order.order_id, D("0.5"), D("50000"), None, 5))
    order.apply(fill_of(order, "0.6"))  # the fill raced the replace
    assert order.status is S.PENDING_REPLACE

    order.apply(OrderReplaced(order.order_id, D("0.5"), D("50000"), None, 7))

    assert order.filled_qty <= order.qty
    assert order.leaves_qty >= D(0)


def test_order_replace_confirmed_at_filled_qty_is_filled():
    order = order_in(S.ACCEPTED)
    order.apply(OrderReplaceRequested(order.order_id, D("0.5"), D("50000"), None, 5))
    order.apply(fill_of(order, "0.5"))
    assert order.status is S.PENDING_REPLACE

    order.apply(OrderReplaced(order.order_id, D("0.5"), D("50000"), None, 7))

    assert order.leaves_qty == D(0)
    assert order.status is S.FILLED
