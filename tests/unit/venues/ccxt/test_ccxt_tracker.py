"""`OrderTracker`: each transition said once, whatever arrives duplicated, late or reordered."""

from __future__ import annotations

from decimal import Decimal

from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.venue_reports import (
    VenueFill,
    VenueOrderAccepted,
    VenueOrderCanceled,
    VenueOrderExpired,
    VenueOrderRejected,
    VenueOrderReplaced,
    VenueOrderReport,
    VenueOrderRequest,
)
from ordergate.venues.ccxt.tracker import OrderTracker

D = Decimal
COID = "c" * 32


def submitted(tif: TimeInForce = TimeInForce.GTC) -> OrderTracker:
    tracker = OrderTracker()
    tracker.submitted(
        VenueOrderRequest(
            COID, "acct", "BTCUSDT", Side.BUY, OrderType.LIMIT, D("1"), D("100"), None, tif, False
        )
    )
    return tracker


def report(
    status: OrderStatus,
    ts: int,
    filled: str = "0",
    qty: str = "1",
    price: str = "100",
) -> VenueOrderReport:
    return VenueOrderReport(
        client_order_id=COID,
        venue_order_id="v1",
        account="acct",
        symbol="BTCUSDT",
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=D(qty),
        price=D(price),
        stop_price=None,
        status=status,
        filled_qty=D(filled),
        avg_fill_price=None,
        ts=ts,
    )


def fill(trade_id: str, qty: str, ts: int = 5) -> VenueFill:
    return VenueFill(
        client_order_id=COID,
        account="acct",
        symbol="BTCUSDT",
        side=Side.BUY,
        trade_id=trade_id,
        qty=D(qty),
        price=D("100"),
        fee=D("0.01"),
        fee_currency="USDT",
        liquidity=LiquiditySide.MAKER,
        venue_seq=None,
        ts=ts,
    )


def kinds(events: list[object]) -> list[str]:
    return [type(e).__name__ for e in events]


def test_new_order_is_accepted_once_however_often_it_is_reported():
    tracker = submitted()

    first = tracker.on_report(report(OrderStatus.ACCEPTED, 1))
    again = tracker.on_report(report(OrderStatus.ACCEPTED, 1))
    later = tracker.on_report(report(OrderStatus.ACCEPTED, 2))

    assert first == [VenueOrderAccepted(COID, "v1", None, 1)]
    assert again == later == []


def test_a_fill_before_the_order_update_brings_the_acknowledgement_first():
    tracker = submitted()

    events = tracker.on_fill(fill("t1", "0.4"), "v1")
    update = tracker.on_report(report(OrderStatus.PARTIALLY_FILLED, 6, filled="0.4"))

    assert kinds(events) == ["VenueOrderAccepted", "VenueFill"]
    assert update == []


def test_fills_pass_once_per_trade_id():
    tracker = submitted()

    first = tracker.on_fill(fill("t1", "0.4"), "v1")
    duplicate = tracker.on_fill(fill("t1", "0.4"), "v1")
    second = tracker.on_fill(fill("t2", "0.6"), "v1")

    assert kinds(first) == ["VenueOrderAccepted", "VenueFill"]
    assert duplicate == []
    assert kinds(second) == ["VenueFill"]
    tracked = tracker.get(COID)
    assert tracked is not None
    assert tracked.streamed_filled == D("1.0")


def test_cancel_is_said_once_with_what_had_filled_and_stale_updates_after_it_are_dropped():
    tracker = submitted()
    tracker.on_report(report(OrderStatus.ACCEPTED, 1))
    tracker.cancel_requested(COID, "BTCUSDT")

    canceled = tracker.on_report(report(OrderStatus.CANCELED, 3, filled="0.4"))
    late_open = tracker.on_report(report(OrderStatus.PARTIALLY_FILLED, 2, filled="0.4"))
    duplicate = tracker.on_report(report(OrderStatus.CANCELED, 3, filled="0.4"))

    assert canceled == [VenueOrderCanceled(COID, None, None, None, 3, D("0.4"))]
    assert late_open == duplicate == []


def test_a_fill_after_the_cancel_still_passes_without_a_second_acknowledgement():
    tracker = submitted()
    tracker.on_report(report(OrderStatus.CANCELED, 3, filled="0.4"))

    late = tracker.on_fill(fill("t1", "0.4", ts=2), "v1")

    assert kinds(late) == ["VenueFill"]


def test_a_reordered_older_update_is_dropped():
    tracker = submitted()
    tracker.on_report(report(OrderStatus.PARTIALLY_FILLED, 5, filled="0.5"))

    older = tracker.on_report(report(OrderStatus.ACCEPTED, 4))

    assert older == []


def test_an_unrequested_cancel_of_an_ioc_remainder_says_why():
    tracker = submitted(TimeInForce.IOC)

    events = tracker.on_report(report(OrderStatus.CANCELED, 2, filled="0.3"))

    assert kinds(events) == ["VenueOrderAccepted", "VenueOrderCanceled"]
    assert events[1] == VenueOrderCanceled(COID, ReasonCode.IOC_UNFILLED, None, None, 2, D("0.3"))


def test_a_rejection_before_any_acknowledgement_is_a_rejection():
    tracker = submitted()

    events = tracker.on_report(report(OrderStatus.REJECTED, 2))
    again = tracker.on_report(report(OrderStatus.REJECTED, 2))

    assert events == [VenueOrderRejected(COID, "VENUE_REJECTED", "rejected by the venue", None, 2)]
    assert again == []


def test_a_rejection_after_the_order_worked_ends_it_as_canceled():
    tracker = submitted()
    tracker.on_report(report(OrderStatus.ACCEPTED, 1))

    events = tracker.on_report(report(OrderStatus.REJECTED, 2))

    assert len(events) == 1
    assert isinstance(events[0], VenueOrderCanceled)
    assert events[0].reason_code == ReasonCode.VENUE_REJECTED


def test_expiry_is_said_once_with_what_had_filled():
    tracker = submitted()
    tracker.on_report(report(OrderStatus.ACCEPTED, 1))

    events = tracker.on_report(report(OrderStatus.EXPIRED, 2, filled="0.2"))

    assert events == [VenueOrderExpired(COID, None, None, 2, D("0.2"))]


def test_filled_says_nothing_itself_and_ends_the_order():
    tracker = submitted()
    tracker.on_report(report(OrderStatus.ACCEPTED, 1))

    filled = tracker.on_report(report(OrderStatus.FILLED, 2, filled="1"))
    stale_cancel = tracker.on_report(report(OrderStatus.CANCELED, 3, filled="1"))

    assert filled == stale_cancel == []
    tracked = tracker.get(COID)
    assert tracked is not None
    assert tracked.final
    assert tracked.missing_fills


def test_new_terms_are_a_replace_once_and_a_late_update_with_old_terms_is_dropped():
    tracker = submitted()
    tracker.on_report(report(OrderStatus.ACCEPTED, 1))
    tracker.replace_requested(COID, "BTCUSDT", (D("2"), D("99"), None))

    replaced = tracker.on_report(report(OrderStatus.ACCEPTED, 2, qty="2", price="99"))
    duplicate = tracker.on_report(report(OrderStatus.ACCEPTED, 2, qty="2", price="99"))
    late_old = tracker.on_report(report(OrderStatus.ACCEPTED, 1, qty="1", price="100"))

    assert replaced == [VenueOrderReplaced(COID, D("2"), D("99"), None, None, 2)]
    assert duplicate == late_old == []


def test_terms_are_compared_as_numbers():
    tracker = submitted()

    events = tracker.on_report(report(OrderStatus.ACCEPTED, 1, qty="1.000", price="100.0"))

    assert kinds(events) == ["VenueOrderAccepted"]


def test_the_cumulative_fill_ahead_of_the_executions_is_noticed():
    tracker = submitted()
    tracker.on_fill(fill("t1", "0.4"), "v1")

    tracker.on_report(report(OrderStatus.PARTIALLY_FILLED, 6, filled="0.7"))

    short = tracker.get(COID)
    assert short is not None
    assert short.missing_fills
    assert (short.reported_filled, short.streamed_filled) == (D("0.7"), D("0.4"))
    tracker.on_fill(fill("t2", "0.3"), "v1")
    assert not short.missing_fills


def test_a_refused_submit_is_forgotten_and_venue_ids_map_back():
    tracker = submitted()
    tracker.identified(COID, "BTCUSDT", "v1")

    assert tracker.client_order_id_of("v1") == COID
    tracker.refused(COID)
    assert tracker.get(COID) is None
