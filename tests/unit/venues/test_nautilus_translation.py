"""The NautilusTrader venue: NautilusTrader's events as ordergate's venue events.

Each test drives NautilusTrader's real simulated exchange (in process, no I/O) and reads
what the venue streams and answers: market orders with no acceptance, risk-engine
denials apart from exchange rejections, fills split across book levels, cancel and
modify rejections, expiry, trade ids with the session and numbering without gaps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import msgspec
import pytest
from tests.unit.venues.nautilus_support import (
    ACCOUNT,
    CASH,
    MINUTE,
    T0,
    D,
    make_venue,
    request,
    step,
)
from tests.venue_support import EventLog, recording

from ordergate.domain.errors import InvalidRequest, RejectedByVenue, RetryableVenueError
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.ports import Clock, MarketData, Venue
from ordergate.engine.venue_reports import (
    VenueCancelRejected,
    VenueFill,
    VenueOrderAccepted,
    VenueOrderCanceled,
    VenueOrderExpired,
    VenueOrderRejected,
    VenueOrderReplaced,
    VenueReplaceRejected,
)
from ordergate.matching import DUPLICATE_CLIENT_ORDER_ID, ORDER_NOT_FOUND
from ordergate.venues.nautilus import NautilusVenue
from ordergate.venues.nautilus_vocabulary import DENIED_BY

BID, ASK = "50000.0", "50010.0"


@pytest.fixture
async def venue() -> AsyncIterator[NautilusVenue]:
    venue = make_venue()
    await venue.connect()
    step(venue, BID, ASK, ts=T0 + MINUTE)
    yield venue
    venue.close()


@pytest.fixture
async def log(venue: NautilusVenue) -> AsyncIterator[EventLog]:
    async with recording(venue) as log:
        yield log


def kinds(log: EventLog, coid: str) -> list[type]:
    return [type(e) for e in log.of(coid)]


def test_nautilus_venue_is_a_venue_market_data_and_clock() -> None:
    venue = make_venue()
    try:
        ports: tuple[Venue, MarketData, Clock] = (venue, venue, venue)
        assert ports[0].name == "nautilus"
        assert (venue.live, venue.acceptance_window) == (False, 0.0)
        assert venue.quote("BTCUSDT") is None
    finally:
        venue.close()


async def test_requests_before_connect_are_retryable() -> None:
    venue = make_venue()
    try:
        with pytest.raises(RetryableVenueError):
            await venue.submit_order(request("c1"))
    finally:
        venue.close()


async def test_market_order_fills_with_no_acceptance_and_a_session_trade_id(
    venue: NautilusVenue, log: EventLog
) -> None:
    receipt = await venue.submit_order(request("m1"))
    await log.wait_for(lambda: log.filled("m1") == D("0.01"), "the fill")

    assert receipt.accepted  # the receipt is the acknowledgement: a fill follows, no ack
    assert kinds(log, "m1") == [VenueFill]
    [fill] = log.fills("m1")
    assert (fill.price, fill.liquidity, fill.side, fill.account) == (
        D(ASK),
        LiquiditySide.TAKER,
        Side.BUY,
        ACCOUNT,
    )
    assert fill.trade_id.startswith("s1:OG1-")
    assert fill.fee == D("0.01") * D(ASK) * D("0.00055")
    assert fill.ts == venue.now_ns() == T0 + MINUTE
    assert receipt.venue_order_id is not None


async def test_resting_limit_is_acknowledged_by_the_receipt_then_fills_as_maker(
    venue: NautilusVenue, log: EventLog
) -> None:
    receipt = await venue.submit_order(request("l1", price="49900.0"))
    report = await venue.get_order(ACCOUNT, "BTCUSDT", "l1")

    step(venue, "49800.0", "49850.0")
    await log.wait_for(lambda: log.filled("l1") == D("0.01"), "the fill")

    assert receipt.accepted
    assert report is not None
    assert (report.status, report.venue_order_id) == (OrderStatus.ACCEPTED, receipt.venue_order_id)
    assert kinds(log, "l1") == [VenueFill]  # the acceptance was the receipt's
    [fill] = log.fills("l1")
    assert (fill.price, fill.liquidity) == (D("49900.0"), LiquiditySide.MAKER)


async def test_an_order_larger_than_the_touch_fills_across_levels() -> None:
    venue = make_venue(quote_size=D("0.010"))
    await venue.connect()
    step(venue, BID, ASK, ts=T0 + MINUTE)
    try:
        async with recording(venue) as log:
            await venue.submit_order(request("big", qty="0.025", tif=TimeInForce.GTC))
            await log.wait_for(lambda: log.filled("big") == D("0.025"), "the fills")

            fills = log.fills("big")
            assert [(f.qty, f.price) for f in fills] == [
                (D("0.010"), D(ASK)),
                (D("0.015"), D("50010.1")),  # the rest one tick worse
            ]
            assert len({f.trade_id for f in fills}) == 2
            report = await venue.get_order(ACCOUNT, "BTCUSDT", "big")
            assert report is not None
            assert report.avg_fill_price == (D("0.010") * D(ASK) + D("0.015") * D("50010.1")) / D(
                "0.025"
            )
    finally:
        venue.close()


async def test_an_ioc_market_order_larger_than_the_touch_fills_the_touch_only() -> None:
    venue = make_venue(quote_size=D("0.010"))
    await venue.connect()
    step(venue, BID, ASK, ts=T0 + MINUTE)
    try:
        async with recording(venue) as log:
            await venue.submit_order(request("ioc", qty="0.025", tif=TimeInForce.IOC))
            await log.wait_for(lambda: log.count(VenueOrderCanceled, "ioc") == 1, "the cancel")

            assert kinds(log, "ioc") == [VenueFill, VenueOrderCanceled]
            [canceled] = log.of_kind(VenueOrderCanceled, "ioc")
            assert (canceled.reason_code, canceled.filled_qty) == (
                ReasonCode.IOC_UNFILLED,
                D("0.010"),
            )
    finally:
        venue.close()


async def test_a_risk_engine_denial_is_a_streamed_rejection_saying_who_denied_it(
    venue: NautilusVenue, log: EventLog
) -> None:
    # Finer than the lot step: NautilusTrader's risk engine denies it before its exchange.
    receipt = await venue.submit_order(request("fine", qty="0.0101"))
    await log.wait_for(lambda: log.count(VenueOrderRejected, "fine") == 1, "the rejection")

    [rejected] = log.of_kind(VenueOrderRejected, "fine")
    assert not receipt.accepted
    assert rejected.reason_code == ReasonCode.VENUE_REJECTED
    assert rejected.reason.startswith(DENIED_BY)
    assert "precision" in rejected.reason
    assert await venue.get_order(ACCOUNT, "BTCUSDT", "fine") is None  # never at the exchange


async def test_an_exchange_rejection_is_streamed_with_its_code(
    venue: NautilusVenue, log: EventLog
) -> None:
    receipt = await venue.submit_order(request("ro", side=Side.SELL, reduce_only=True))
    await log.wait_for(lambda: log.count(VenueOrderRejected, "ro") == 1, "the rejection")

    [rejected] = log.of_kind(VenueOrderRejected, "ro")
    assert not receipt.accepted
    assert rejected.reason_code == ReasonCode.REDUCE_ONLY_NO_POSITION
    report = await venue.get_order(ACCOUNT, "BTCUSDT", "ro")
    assert report is not None
    assert report.status is OrderStatus.REJECTED


async def test_a_stop_already_in_the_market_is_rejected(
    venue: NautilusVenue, log: EventLog
) -> None:
    stop = request("st", qty="0.01", order_type=OrderType.STOP, stop="49000.0")
    await venue.submit_order(stop)
    await log.wait_for(lambda: log.count(VenueOrderRejected, "st") == 1, "the rejection")

    [rejected] = log.of_kind(VenueOrderRejected, "st")
    assert "was in the market" in rejected.reason


async def test_a_duplicate_client_order_id_is_refused_and_the_first_order_stays(
    venue: NautilusVenue, log: EventLog
) -> None:
    await venue.submit_order(request("d1", price="49000.0"))

    with pytest.raises(RejectedByVenue) as refused:
        await venue.submit_order(request("d1", price="48000.0"))

    assert refused.value.code == DUPLICATE_CLIENT_ORDER_ID
    [still] = await venue.get_open_orders(ACCOUNT)
    assert (still.client_order_id, still.price) == ("d1", D("49000.0"))
    assert log.of("d1") == []


async def test_cancel_of_a_filled_order_is_rejected_by_nautilus(
    venue: NautilusVenue, log: EventLog
) -> None:
    await venue.submit_order(request("f1"))

    await venue.cancel_order(ACCOUNT, "BTCUSDT", "f1")
    await log.wait_for(lambda: log.count(VenueCancelRejected, "f1") == 1, "the refusal")

    [refusal] = log.of_kind(VenueCancelRejected, "f1")
    assert refusal.reason_code == ReasonCode.VENUE_ORDER_NOT_FOUND
    assert "not found" in refusal.reason


async def test_cancel_or_replace_of_an_unknown_order_is_refused_at_once(
    venue: NautilusVenue,
) -> None:
    with pytest.raises(RejectedByVenue) as cancel:
        await venue.cancel_order(ACCOUNT, "BTCUSDT", "nope")
    with pytest.raises(RejectedByVenue) as replace:
        await venue.replace_order(ACCOUNT, "BTCUSDT", "nope", D("0.02"), None, None)

    assert cancel.value.code == replace.value.code == ORDER_NOT_FOUND


async def test_cancel_ends_a_resting_order_with_no_reason(
    venue: NautilusVenue, log: EventLog
) -> None:
    await venue.submit_order(request("c1", price="49000.0"))

    await venue.cancel_order(ACCOUNT, "BTCUSDT", "c1")
    await log.wait_for(lambda: log.count(VenueOrderCanceled, "c1") == 1, "the cancel")

    [canceled] = log.of_kind(VenueOrderCanceled, "c1")
    assert (canceled.reason_code, canceled.filled_qty) == (None, D(0))
    report = await venue.get_order(ACCOUNT, "BTCUSDT", "c1")
    assert report is not None
    assert report.status is OrderStatus.CANCELED


async def test_replace_then_replace_of_the_closed_order_is_rejected(
    venue: NautilusVenue, log: EventLog
) -> None:
    await venue.submit_order(request("r1", price="49000.0"))

    await venue.replace_order(ACCOUNT, "BTCUSDT", "r1", D("0.02"), D("48000.0"), None)
    await log.wait_for(lambda: log.count(VenueOrderReplaced, "r1") == 1, "the replace")
    await venue.cancel_order(ACCOUNT, "BTCUSDT", "r1")
    await venue.replace_order(ACCOUNT, "BTCUSDT", "r1", D("0.03"), None, None)
    await log.wait_for(lambda: log.count(VenueReplaceRejected, "r1") == 1, "the refusal")

    [replaced] = log.of_kind(VenueOrderReplaced, "r1")
    assert (replaced.qty, replaced.price, replaced.stop_price) == (D("0.020"), D("48000.0"), None)
    [refusal] = log.of_kind(VenueReplaceRejected, "r1")
    assert refusal.reason_code == ReasonCode.VENUE_ORDER_NOT_FOUND


async def test_ioc_that_does_not_cross_is_canceled_unfilled(
    venue: NautilusVenue, log: EventLog
) -> None:
    receipt = await venue.submit_order(request("i1", price="49000.0", tif=TimeInForce.IOC))
    await log.wait_for(lambda: log.count(VenueOrderCanceled, "i1") == 1, "the cancel")

    assert receipt.accepted
    [canceled] = log.of_kind(VenueOrderCanceled, "i1")
    assert canceled.reason_code == ReasonCode.IOC_UNFILLED


async def test_a_day_order_expires_on_the_first_step_of_the_next_utc_day(
    venue: NautilusVenue, log: EventLog
) -> None:
    await venue.submit_order(request("day", price="49000.0", tif=TimeInForce.DAY))
    step(venue, BID, ASK, ts=T0 + 23 * 60 * MINUTE)  # still the same day
    open_late = await venue.get_open_orders(ACCOUNT)

    tomorrow = step(venue, BID, ASK, ts=T0 + 24 * 60 * MINUTE + MINUTE)
    await log.wait_for(lambda: log.count(VenueOrderExpired, "day") == 1, "the expiry")

    assert [o.client_order_id for o in open_late] == ["day"]
    [expired] = log.of_kind(VenueOrderExpired, "day")
    assert (expired.reason_code, expired.ts) == (ReasonCode.DAY_ORDER_EXPIRED, tomorrow)


async def test_events_are_numbered_without_gaps(venue: NautilusVenue, log: EventLog) -> None:
    await venue.submit_order(request("n1"))
    await venue.submit_order(request("n2", price="49900.0"))
    await venue.submit_order(request("n3", qty="0.0101"))  # denied: streamed, numbered
    step(venue, "49800.0", "49850.0")
    await log.wait_for(lambda: log.filled("n2") == D("0.01"), "the limit's fill")

    numbers = [getattr(e, "venue_seq", None) for e in log.events]
    assert numbers == list(range(1, len(numbers) + 1))


async def test_clock_follows_the_steps_and_never_goes_back(venue: NautilusVenue) -> None:
    at = step(venue, BID, ASK)

    assert venue.now_ns() == at
    quote = venue.quote("BTCUSDT")
    assert quote is not None
    assert (quote.bid, quote.ask, quote.ts) == (D(BID), D(ASK), at)
    with pytest.raises(InvalidRequest):
        step(venue, BID, ASK, ts=at - 1)
    assert venue.now_ns() == at


async def test_positions_and_balances_follow_the_fills(venue: NautilusVenue, log: EventLog) -> None:
    await venue.submit_order(request("p1", qty="0.02"))
    await venue.submit_order(request("p2", side=Side.SELL, qty="0.005"))
    await log.wait_for(lambda: log.filled("p2") == D("0.005"), "the fills")
    fees = sum((f.fee for f in log.fills()), Decimal(0))

    [position] = await venue.get_positions(ACCOUNT)
    [balance] = await venue.get_balances(ACCOUNT)

    assert (position.symbol, position.qty, position.avg_price) == ("BTCUSDT", D("0.015"), D(ASK))
    # Sold at the bid what was bought at the ask: the spread is realized.
    realized = D("0.005") * (D(BID) - D(ASK))
    assert (balance.currency, balance.balance) == ("USDT", CASH - fees + realized)
    assert {f.trade_id for f in await venue.get_fills(ACCOUNT)} == {f.trade_id for f in log.fills()}
    assert await venue.get_positions("other") == []


async def test_an_order_for_an_unknown_account_is_rejected_on_the_stream(
    venue: NautilusVenue, log: EventLog
) -> None:
    receipt = await venue.submit_order(msgspec.structs.replace(request("u1"), account="other"))
    await log.wait_for(lambda: log.count(VenueOrderRejected, "u1") == 1, "the rejection")

    assert not receipt.accepted
    assert kinds(log, "u1") == [VenueOrderRejected]
    assert not any(isinstance(e, VenueOrderAccepted) for e in log.events)
