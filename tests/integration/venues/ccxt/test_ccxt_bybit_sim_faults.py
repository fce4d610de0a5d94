"""The ccxt adapter against the Bybit simulator under each injected fault.

After every fault the same promises are checked (`assert_agrees_with_the_venue`): one
venue order per client order id at most, every execution streamed exactly once, the
position from the streamed fills equal to the venue's, and the order as the venue has
it. Where a request's outcome is ambiguous, `get_order` by client order id (what the
engine asks next) must answer the venue's truth.

The venue reads at most `LIMIT` bytes of a payload here, so the oversized faults (padded
to `OVER`, still valid JSON) are refused for their size alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

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
from tests.venue_support import loop_errors
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
from ordergate.venues.ccxt.errors import PAYLOAD_UNREADABLE

CREATE, CANCEL, AMEND = "/v5/order/create", "/v5/order/cancel", "/v5/order/amend"
OPEN_ORDERS, POSITIONS = "/v5/order/realtime", "/v5/position/list"
LIMIT = 64 * 1024  # the venue's max_payload_bytes in these tests
OVER = 2 * LIMIT  # what an oversized fault pads a payload to
CCXT_WS_LIMIT = 10 * 1024 * 1024  # the max_msg_size ccxt passes to aiohttp, fixed
UNREADABLE_ANSWERS = [
    pytest.param(FaultKind.NOT_JSON, id="not-json"),
    pytest.param(FaultKind.TRUNCATED, id="truncated"),
    pytest.param(FaultKind.OVERSIZED, id="oversized"),
]
UNREADABLE_MESSAGES = [
    pytest.param(FaultKind.WS_NOT_JSON, id="not-json"),
    pytest.param(FaultKind.WS_TRUNCATED, id="truncated"),
    pytest.param(FaultKind.WS_OVERSIZED, id="oversized"),
]


@pytest.fixture
async def rig():
    async with bybit_rig(timeout_ms=1_000, max_payload_bytes=LIMIT) as rig:
        await subscribed(rig)
        yield rig


async def subscribed(rig: Rig) -> None:
    """Wait for the adapter's subscriptions: an update before them goes to nobody, and a
    fault on it would never fire."""
    await eventually(
        lambda: {"order", "execution"} <= rig.sim.subscriptions(), message="subscriptions"
    )


async def resting(rig: Rig, qty: str = "0.010", price: str = "49900.0") -> str:
    request = order(qty=qty, price=price)
    await rig.venue.submit_order(request)
    await rig.acknowledged(request.client_order_id)
    return request.client_order_id


def reconnections(rig: Rig) -> int:
    return sum(isinstance(e, VenueReconnected) for e in rig.log.events)


def unreadable_reports(rig: Rig) -> list[str]:
    """The details of the `VenueReconnected`s that report a message refused unread."""
    return [
        e.detail
        for e in rig.log.events
        if isinstance(e, VenueReconnected) and "unreadable message" in e.detail
    ]


def stream_returns(rig: Rig) -> int:
    """How often the stream came back after a drop."""
    return sum(
        isinstance(e, VenueReconnected) and e.detail.startswith("private stream reconnected")
        for e in rig.log.events
    )


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


@pytest.mark.parametrize("kind", UNREADABLE_ANSWERS)
async def test_an_unreadable_answer_to_a_create_is_ambiguous_and_the_query_answers_the_truth(
    rig, kind
):
    rig.fault(kind, CREATE, size=OVER)
    request = order(price=None)

    with pytest.raises(AmbiguousVenueError) as raised:
        await rig.venue.submit_order(request)

    assert raised.value.code == PAYLOAD_UNREADABLE
    report = await rig.venue.get_order(ACCOUNT, SYMBOL, request.client_order_id)
    assert report is not None
    assert report.status is OrderStatus.FILLED  # carried out: never to be taken as refused
    await rig.filled_up_to(request.client_order_id, D("0.010"))
    await assert_agrees_with_the_venue(rig, request.client_order_id)


@pytest.mark.parametrize("kind", UNREADABLE_ANSWERS)
async def test_an_unreadable_answer_to_a_cancel_is_ambiguous_and_the_query_finds_it_canceled(
    rig, kind
):
    client_order_id = await resting(rig)
    rig.fault(kind, CANCEL, size=OVER)

    with pytest.raises(AmbiguousVenueError) as raised:
        await rig.venue.cancel_order(ACCOUNT, SYMBOL, client_order_id)

    assert raised.value.code == PAYLOAD_UNREADABLE
    report = await rig.venue.get_order(ACCOUNT, SYMBOL, client_order_id)
    assert report is not None
    assert report.status is OrderStatus.CANCELED
    await rig.canceled(client_order_id)
    await assert_agrees_with_the_venue(rig, client_order_id)


@pytest.mark.parametrize("kind", UNREADABLE_ANSWERS)
async def test_unreadable_answers_to_reads_are_retried_never_read_as_empty(rig, kind):
    client_order_id = await resting(rig)
    rig.fault(kind, OPEN_ORDERS, count=2, size=OVER)
    rig.fault(kind, POSITIONS, count=2, size=OVER)

    [report] = await rig.venue.get_open_orders(ACCOUNT)
    positions = await rig.venue.get_positions(ACCOUNT)

    assert report.client_order_id == client_order_id
    assert positions == []
    assert [f.kind for f in rig.sim.faults.fired] == [kind] * 4


async def test_a_read_whose_answers_stay_unreadable_fails_retryable_with_the_reason(rig):
    rig.fault(FaultKind.TRUNCATED, OPEN_ORDERS, count=None)

    with pytest.raises(RetryableVenueError) as raised:
        await rig.venue.get_open_orders(ACCOUNT)

    assert raised.value.code == PAYLOAD_UNREADABLE
    rig.sim.faults.clear()
    assert await rig.venue.get_open_orders(ACCOUNT) == []  # readable again: trading goes on


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


@pytest.mark.parametrize("kind", UNREADABLE_MESSAGES)
async def test_an_unreadable_execution_is_reported_and_its_fill_recovered(rig, kind):
    client_order_id = await resting(rig, qty="0.008", price="49900.0")
    rig.fault(kind, "execution", size=OVER)

    with loop_errors() as errors:
        await rig.quote(D("49800.0"), D("49850.0"))  # a fill whose execution is unreadable
        await rig.log.wait_for(lambda: len(unreadable_reports(rig)) == 1, "the report")
        await rig.filled_up_to(client_order_id, PASSIVE_CAP)
        await rig.quote(D("49800.0"), D("49850.0"))
        await rig.filled_up_to(client_order_id, D("0.008"))

    assert errors == []
    assert stream_returns(rig) == 0  # the stream never went down
    await assert_agrees_with_the_venue(rig, client_order_id)


@pytest.fixture
async def slow_lookup_rig() -> AsyncIterator[Rig]:
    """No follow-up lookup and no fill fetch within a test's wait: whatever the venue
    says here, it says on the stream."""
    async with bybit_rig(
        timeout_ms=1_000, max_payload_bytes=LIMIT, confirm_after=300.0, fill_grace=300.0
    ) as rig:
        await subscribed(rig)
        yield rig


@pytest.mark.parametrize("kind", UNREADABLE_MESSAGES)
async def test_the_stream_keeps_running_after_an_unreadable_message(slow_lookup_rig, kind):
    rig = slow_lookup_rig
    rig.fault(kind, "order", size=OVER)
    lost = order()  # its acknowledgement is the message spoiled

    with loop_errors() as errors:
        await rig.venue.submit_order(lost)
        await rig.log.wait_for(lambda: len(unreadable_reports(rig)) == 1, "the report")
        later = order(price="48000.0")
        await rig.venue.submit_order(later)
        await rig.acknowledged(later.client_order_id)  # by the stream: nothing else asks

    assert errors == []
    assert rig.log.of(lost.client_order_id) == []  # lost with the message ...
    assert stream_returns(rig) == 0
    [detail] = unreadable_reports(rig)
    assert "state must be reconciled" in detail
    await assert_agrees_with_the_venue(rig, lost.client_order_id, later.client_order_id)


async def test_a_message_over_ccxts_own_limit_drops_the_stream_which_recovers(rig):
    """aiohttp refuses a message over the max_msg_size ccxt gives it, before ordergate's
    guard sees it: ccxt takes that as a dropped connection, and the drop is recovered."""
    client_order_id = await resting(rig, qty="0.008", price="49900.0")
    rig.fault(FaultKind.WS_OVERSIZED, "execution", size=CCXT_WS_LIMIT + 1024)

    await rig.quote(D("49800.0"), D("49850.0"))
    await rig.log.wait_for(lambda: stream_returns(rig) == 1, "the stream's return")
    await rig.filled_up_to(client_order_id, PASSIVE_CAP)
    await rig.quote(D("49800.0"), D("49850.0"))
    await rig.filled_up_to(client_order_id, D("0.008"))

    assert unreadable_reports(rig) == []
    await assert_agrees_with_the_venue(rig, client_order_id)
