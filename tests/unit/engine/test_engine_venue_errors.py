"""Venue errors, as classified at the edge: refused, retried, or ambiguous and queried."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from engine_support import (
    SECOND,
    D,
    ScriptedVenue,
    Sessions,
    is_status,
    limit_order,
    market_order,
)
from tests.fakes import BTC, FakeMarket, _Resting
from tests.waiting import TIMEOUT, eventually

from ordergate.domain.errors import AmbiguousVenueError, RejectedByVenue, RetryableVenueError
from ordergate.domain.events import OrderRejected, OrderStatusUnknown
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderStatus
from ordergate.engine.commands import CancelOrder, ReplaceOrder
from ordergate.engine.retry import RetryPolicy
from ordergate.engine.venue_reports import VenueOrderRequest


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


async def test_submit_rejected_by_venue_ends_rejected_with_its_code(sessions):
    h = await sessions.start()
    h.venue.fail_next.append(RejectedByVenue("margin", code="VENUE_INSUFFICIENT_MARGIN"))

    placed = await h.place(market_order())
    view = await h.settled(placed.order_id)

    assert view.status is OrderStatus.REJECTED
    assert view.reason_code == "VENUE_INSUFFICIENT_MARGIN"
    assert h.venue.submitted == []
    assert h.venue.requests("submit") == [placed.client_order_id]  # asked once, not again
    assert h.position() == D(0)
    assert h.engine.order_margin("acct") == {"USDT": D(0)}


async def test_submit_retryable_then_success_sends_once_and_accepts(sessions):
    h = await sessions.start()
    h.venue.fail_next.extend([RetryableVenueError("busy"), RetryableVenueError("busy")])

    placed = await h.place(limit_order())
    view = await h.settled(placed.order_id)

    assert view.status is OrderStatus.ACCEPTED
    assert h.venue.requests("submit") == [placed.client_order_id] * 3
    assert len(h.venue.submitted) == 1
    assert list(h.venue.orders) == [placed.client_order_id]


async def test_submit_retryable_every_time_rejected_venue_unavailable_after_max(sessions):
    h = await sessions.start(retry=RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=0.001))
    h.venue.fail_next.extend(RetryableVenueError("busy") for _ in range(5))

    placed = await h.place(limit_order())
    view = await h.settled(placed.order_id)

    assert view.status is OrderStatus.REJECTED
    assert view.reason_code == ReasonCode.VENUE_UNAVAILABLE
    assert len(h.venue.requests("submit")) == 4
    assert len(h.venue.fail_next) == 1  # the fifth error was never needed
    assert h.venue.submitted == []


async def test_submit_ambiguous_order_reached_venue_becomes_accepted_by_query(sessions):
    h = await sessions.start()
    h.venue.lost_answers = 1  # the venue takes the order; its answer is lost

    placed = await h.place(limit_order())
    view = await h.settled(placed.order_id)

    assert view.status is OrderStatus.ACCEPTED
    assert view.venue_order_id == "V1"
    assert [type(e) for e in h.events(OrderStatusUnknown, placed.order_id)] == [OrderStatusUnknown]
    assert h.venue.requests("submit") == [placed.client_order_id]
    assert h.venue.requests("query") == [placed.client_order_id]


async def test_submit_ambiguous_order_never_reached_rejected_not_found(sessions):
    h = await sessions.start()
    h.venue.fail_next.append(AmbiguousVenueError("timeout"))  # raised before it is taken

    placed = await h.place(limit_order())
    view = await h.settled(placed.order_id)

    assert view.status is OrderStatus.REJECTED
    assert view.reason_code == ReasonCode.VENUE_ORDER_NOT_FOUND
    assert h.venue.requests("submit") == [placed.client_order_id]  # never resubmitted
    assert h.venue.requests("query") == [placed.client_order_id]
    assert h.venue.orders == {}


async def queried(h, client_order_id: str, times: int) -> None:
    await eventually(
        lambda: len(h.venue.requests("query", client_order_id)) >= times,
        message=f"{client_order_id} to be queried {times} times",
    )


def taken_late(h, view) -> None:
    """The venue carries out a submit it had not when first asked (it was still on its
    way); nothing streams, so only a query can tell."""
    request = VenueOrderRequest(
        view.client_order_id,
        view.account,
        view.symbol,
        view.side,
        view.type,
        view.qty,
        view.price,
        view.stop_price,
        view.time_in_force,
        view.reduce_only,
    )
    h.venue.orders[view.client_order_id] = _Resting(request, "V-late")


async def test_submit_ambiguous_not_found_within_acceptance_window_asked_again_until_found(
    sessions,
):
    market = FakeMarket()
    market.set(BTC.symbol, "50000")
    venue = ScriptedVenue(market, acceptance_window=5.0)
    h = await sessions.start(venue=venue, market=market)
    venue.fail_next.append(AmbiguousVenueError("timeout"))  # not taken yet

    placed = await h.place(limit_order())
    await queried(h, placed.client_order_id, 3)
    in_doubt = h.engine.order(placed.order_id)
    taken_late(h, in_doubt)
    view = await h.engine.wait_for(placed.order_id, is_status(OrderStatus.ACCEPTED), TIMEOUT)

    assert in_doubt.status is OrderStatus.UNKNOWN  # "not found" was not taken as final
    assert view.status is OrderStatus.ACCEPTED
    assert view.venue_order_id == "V-late"
    assert h.venue.requests("submit") == [placed.client_order_id]  # never resubmitted
    assert h.events(OrderRejected, placed.order_id) == []


async def test_submit_ambiguous_not_found_once_acceptance_window_passed_rejected(sessions):
    market = FakeMarket()
    market.set(BTC.symbol, "50000")
    venue = ScriptedVenue(market, acceptance_window=5.0)
    h = await sessions.start(venue=venue, market=market)
    venue.fail_next.append(AmbiguousVenueError("timeout"))

    placed = await h.place(limit_order())
    await queried(h, placed.client_order_id, 2)
    before = h.engine.order(placed.order_id).status
    h.clock.advance(5 * SECOND)  # the venue now refuses the request as too late
    view = await h.engine.wait_for(placed.order_id, is_status(OrderStatus.REJECTED), TIMEOUT)

    assert before is OrderStatus.UNKNOWN
    assert view.status is OrderStatus.REJECTED
    assert view.reason_code == ReasonCode.VENUE_ORDER_NOT_FOUND
    assert h.venue.requests("submit") == [placed.client_order_id]


async def test_submit_ambiguous_then_query_fails_query_retried_later(sessions):
    h = await sessions.start(query_retry_delay=0.01)
    h.venue.lost_answers = 1
    h.venue.query_failures.append(AmbiguousVenueError("timeout"))

    placed = await h.place(limit_order())
    view = await h.engine.wait_for(placed.order_id, is_status(OrderStatus.ACCEPTED), TIMEOUT)

    assert view.status is OrderStatus.ACCEPTED
    assert h.venue.requests("query") == [placed.client_order_id] * 2
    assert h.venue.requests("submit") == [placed.client_order_id]


async def test_submit_unclassified_adapter_error_treated_as_ambiguous(sessions):
    h = await sessions.start()
    h.venue.fail_next.append(RuntimeError("adapter bug"))

    placed = await h.place(limit_order())
    view = await h.settled(placed.order_id)

    assert view.status is OrderStatus.REJECTED  # the query found nothing at the venue
    assert view.reason_code == ReasonCode.VENUE_ORDER_NOT_FOUND
    assert h.venue.requests("query") == [placed.client_order_id]
    assert len(h.events(OrderStatusUnknown, placed.order_id)) == 1


async def test_cancel_rejected_by_venue_order_resumes_working(sessions):
    h = await sessions.start()
    resting = await h.place(limit_order())
    await h.settle()
    h.venue.fail_next.append(RejectedByVenue("too late", code="ORDER_CLOSED"))

    await h.engine.cancel(CancelOrder(resting.order_id))
    view = await h.settled(resting.order_id)

    assert view.status is OrderStatus.ACCEPTED
    assert view.reason_code == "ORDER_CLOSED"


async def test_replace_rejected_by_venue_keeps_old_price(sessions):
    h = await sessions.start()
    resting = await h.place(limit_order(price="40000"))
    await h.settle()
    h.venue.fail_next.append(RejectedByVenue("no", code="REPLACE_REJECTED"))

    await h.engine.replace(ReplaceOrder(resting.order_id, price=D(41000)))
    view = await h.settled(resting.order_id)

    assert view.status is OrderStatus.ACCEPTED
    assert view.price == D(40000)
    assert h.engine.order_margin("acct") == {"USDT": D(400)}


async def test_cancel_ambiguous_not_reached_order_still_gets_canceled(sessions):
    h = await sessions.start()
    resting = await h.place(limit_order())
    await h.settle()
    h.venue.fail_next.append(AmbiguousVenueError("timeout"))  # the cancel never arrived

    await h.engine.cancel(CancelOrder(resting.order_id))
    view = await h.settled(resting.order_id)

    assert view.status is OrderStatus.CANCELED


async def test_replace_ambiguous_applied_at_venue_order_takes_new_price(sessions):
    h = await sessions.start()
    h.venue.apply_replaces = True
    resting = await h.place(limit_order(price="40000"))
    await h.settle()
    h.venue.lost_replace_answers = 1

    await h.engine.replace(ReplaceOrder(resting.order_id, price=D(41000)))
    view = await h.settled(resting.order_id)

    report = h.venue.orders[resting.client_order_id].request
    assert report.price == D(41000)  # what the venue works
    assert view.status is OrderStatus.ACCEPTED
    assert view.price == D(41000)
