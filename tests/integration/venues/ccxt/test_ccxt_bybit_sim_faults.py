"""The ccxt adapter against the Bybit simulator under each injected fault.

After every fault the same promises are checked (`assert_agrees_with_the_venue`): one
venue order per client order id at most, every execution streamed exactly once, the
position from the streamed fills equal to the venue's, and the order as the venue has
it. Where a request's outcome is ambiguous, `get_order` by client order id (what the
engine asks next) must answer the venue's truth.
"""

from __future__ import annotations

import pytest
from sim_support import (
    ACCOUNT,
    PASSIVE_CAP,
    SYMBOL,
    D,
    Rig,
    assert_agrees_with_the_venue,
    bybit_rig,
    order,
)
from tests.waiting import eventually

from ordergate.domain.errors import AmbiguousVenueError, RetryableVenueError
from ordergate.domain.values import OrderStatus
from ordergate.engine.venue_reports import (
    VenueOrderAccepted,
    VenueOrderCanceled,
    VenueOrderReplaced,
    VenueReconnected,
)
from ordergate.simulators.bybit import FaultKind

CREATE, CANCEL, AMEND = "/v5/order/create", "/v5/order/cancel", "/v5/order/amend"


@pytest.fixture
async def rig():
    async with bybit_rig(timeout_ms=1_000) as rig:
        yield rig


async def resting(rig: Rig, qty: str = "0.010", price: str = "49900.0") -> str:
    request = order(qty=qty, price=price)
    await rig.venue.submit_order(request)
    await rig.acknowledged(request.client_order_id)
    return request.client_order_id


def reconnections(rig: Rig) -> int:
    return sum(isinstance(e, VenueReconnected) for e in rig.log.events)


# --- REST faults ---------------------------------------------------------------------------


async def test_latency_below_the_timeout_only_slows_the_request(rig):
    rig.fault(FaultKind.LATENCY, CREATE, delay=0.3)
    request = order(price=None)

    await rig.venue.submit_order(request)
    await rig.filled_up_to(request.client_order_id, D("0.010"))

    await assert_agrees_with_the_venue(rig, request.client_order_id)


async def test_latency_past_the_timeout_is_ambiguous_and_the_query_answers_the_truth(rig):
    rig.fault(FaultKind.LATENCY, CREATE, delay=1.3)
    request = order()

    with pytest.raises(AmbiguousVenueError):
        await rig.venue.submit_order(request)
    # Past the delay, the venue carries the create out: wait until it has.
    await eventually(
        lambda: rig.sim.order(order_link_id=request.client_order_id) is not None,
        message="the delayed create to be carried out",
    )

    await assert_agrees_with_the_venue(rig, request.client_order_id)


async def test_a_server_error_on_create_is_ambiguous_and_the_query_finds_nothing(rig):
    rig.fault(FaultKind.HTTP_ERROR, CREATE, status=503)
    request = order()

    with pytest.raises(AmbiguousVenueError):
        await rig.venue.submit_order(request)

    assert await rig.venue.get_order(ACCOUNT, SYMBOL, request.client_order_id) is None
    await assert_agrees_with_the_venue(rig, request.client_order_id)


async def test_server_errors_and_rate_limits_on_reads_are_retried_away(rig):
    client_order_id = await resting(rig)
    rig.fault(FaultKind.HTTP_ERROR, "/v5/order/realtime", count=2, status=502)
    rig.fault(FaultKind.RATE_LIMIT, "/v5/position/list", count=2)

    [report] = await rig.venue.get_open_orders(ACCOUNT)
    positions = await rig.venue.get_positions(ACCOUNT)

    assert report.client_order_id == client_order_id
    assert positions == []


async def test_a_rate_limited_create_did_nothing_and_may_be_sent_again(rig):
    rig.fault(FaultKind.RATE_LIMIT, CREATE)
    request = order()

    with pytest.raises(RetryableVenueError):
        await rig.venue.submit_order(request)
    assert rig.sim.orders(SYMBOL) == []
    await rig.venue.submit_order(request)  # what the dispatcher does with a retryable error
    await rig.acknowledged(request.client_order_id)

    await assert_agrees_with_the_venue(rig, request.client_order_id)


@pytest.mark.parametrize("drop_connection", [True, False], ids=["dropped", "withheld"])
async def test_a_create_executed_but_unanswered_is_found_by_client_order_id(rig, drop_connection):
    rig.fault(FaultKind.LOST_RESPONSE, CREATE, drop_connection=drop_connection)
    request = order(price=None)

    with pytest.raises(AmbiguousVenueError):
        await rig.venue.submit_order(request)

    report = await rig.venue.get_order(ACCOUNT, SYMBOL, request.client_order_id)
    assert report is not None
    assert report.status is OrderStatus.FILLED
    await rig.filled_up_to(request.client_order_id, D("0.010"))
    await assert_agrees_with_the_venue(rig, request.client_order_id)


async def test_a_cancel_executed_but_unanswered_is_found_canceled(rig):
    client_order_id = await resting(rig)
    rig.fault(FaultKind.LOST_RESPONSE, CANCEL)

    with pytest.raises(AmbiguousVenueError):
        await rig.venue.cancel_order(ACCOUNT, SYMBOL, client_order_id)

    report = await rig.venue.get_order(ACCOUNT, SYMBOL, client_order_id)
    assert report is not None
    assert report.status is OrderStatus.CANCELED
    await rig.canceled(client_order_id)
    assert rig.log.count(VenueOrderCanceled, client_order_id) == 1
    await assert_agrees_with_the_venue(rig, client_order_id)


async def test_an_amend_executed_but_unanswered_is_found_with_its_new_terms(rig):
    client_order_id = await resting(rig)
    rig.fault(FaultKind.LOST_RESPONSE, AMEND)

    with pytest.raises(AmbiguousVenueError):
        await rig.venue.replace_order(
            ACCOUNT, SYMBOL, client_order_id, D("0.020"), D("49800.0"), None
        )

    report = await rig.venue.get_order(ACCOUNT, SYMBOL, client_order_id)
    assert report is not None
    assert (report.qty, report.price) == (D("0.020"), D("49800.0"))
    await rig.log.wait_for(
        lambda: rig.log.count(VenueOrderReplaced, client_order_id) == 1, "the replace"
    )
    await assert_agrees_with_the_venue(rig, client_order_id)


# --- websocket faults ------------------------------------------------------------------------


async def test_a_dropped_stream_is_polled_through_and_its_return_announced(rig):
    client_order_id = await resting(rig, qty="0.008", price="49900.0")

    rig.sim.drop_private_connections()
    await rig.quote(D("49800.0"), D("49850.0"))  # fills while nobody listens
    await rig.quote(D("49800.0"), D("49850.0"))
    await rig.filled_up_to(client_order_id, D("0.008"))
    await rig.log.wait_for(lambda: reconnections(rig) == 1, "the reconnection")

    later = await resting(rig, price="49000.0")  # the stream works again
    await assert_agrees_with_the_venue(rig, client_order_id, later)


async def test_a_message_lost_with_the_connection_is_recovered(rig):
    client_order_id = await resting(rig, qty="0.008", price="49900.0")
    rig.fault(FaultKind.WS_DROP, "execution")

    await rig.quote(D("49800.0"), D("49850.0"))
    await rig.filled_up_to(client_order_id, PASSIVE_CAP)
    await rig.log.wait_for(lambda: reconnections(rig) == 1, "the reconnection")
    await rig.quote(D("49800.0"), D("49850.0"))
    await rig.filled_up_to(client_order_id, D("0.008"))

    await assert_agrees_with_the_venue(rig, client_order_id)


async def test_duplicated_messages_say_each_thing_once(rig):
    rig.fault(FaultKind.WS_DUPLICATE, "order", count=None)
    rig.fault(FaultKind.WS_DUPLICATE, "execution", count=None)
    client_order_id = await resting(rig, qty="0.008", price="49900.0")

    await rig.quote(D("49800.0"), D("49850.0"))
    await rig.quote(D("49800.0"), D("49850.0"))
    await rig.filled_up_to(client_order_id, D("0.008"))
    canceled = await resting(rig, price="49000.0")  # below the market: it rests
    await rig.venue.cancel_order(ACCOUNT, SYMBOL, canceled)
    await rig.canceled(canceled)

    assert rig.log.count(VenueOrderAccepted, client_order_id) == 1
    assert rig.log.count(VenueOrderCanceled, canceled) == 1
    await assert_agrees_with_the_venue(rig, client_order_id, canceled)


async def test_reordered_messages_never_step_back(rig):
    rig.fault(FaultKind.WS_REORDER, "order", count=None)
    rig.fault(FaultKind.WS_REORDER, "execution", count=None)
    client_order_id = await resting(rig, qty="0.008", price="49900.0")

    await rig.quote(D("49800.0"), D("49850.0"))
    await rig.quote(D("49800.0"), D("49850.0"))
    await rig.filled_up_to(client_order_id, D("0.008"))
    other = await resting(rig, price="49000.0")
    await rig.venue.cancel_order(ACCOUNT, SYMBOL, other)
    await rig.canceled(other)

    kinds = [type(e).__name__ for e in rig.log.of(client_order_id)]
    assert kinds == ["VenueOrderAccepted", "VenueFill", "VenueFill"]
    await assert_agrees_with_the_venue(rig, client_order_id, other)


async def test_a_withheld_execution_is_fetched_once_its_order_says_it_filled(rig):
    client_order_id = await resting(rig, qty="0.008", price="49900.0")
    rig.fault(FaultKind.WS_WITHHOLD, "execution")  # its seq is skipped downstream

    await rig.quote(D("49800.0"), D("49850.0"))
    await rig.filled_up_to(client_order_id, PASSIVE_CAP)
    await rig.quote(D("49800.0"), D("49850.0"))
    await rig.filled_up_to(client_order_id, D("0.008"))

    assert reconnections(rig) == 0  # found by content, not by a sequence gap
    await assert_agrees_with_the_venue(rig, client_order_id)


async def test_a_withheld_acknowledgement_is_looked_up(rig):
    rig.fault(FaultKind.WS_WITHHOLD, "order")
    request = order()

    await rig.venue.submit_order(request)
    await rig.acknowledged(request.client_order_id)  # from the follow-up lookup

    await assert_agrees_with_the_venue(rig, request.client_order_id)
