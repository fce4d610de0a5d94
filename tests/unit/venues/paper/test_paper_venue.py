"""`PaperVenue`: the async Venue port, its event stream, clock, quotes, pacing and seek."""

from __future__ import annotations

import asyncio
import time

import pytest
from tests.unit.matching.matching_support import BALANCES, BTC, EURUSD, MINUTE, T0, D, request
from tests.waiting import TIMEOUT, eventually

from ordergate.domain.errors import InvalidRequest, RejectedByVenue, RetryableVenueError
from ordergate.domain.values import OrderStatus, OrderType, Side
from ordergate.engine.ports import MarketData, Venue
from ordergate.engine.venue_reports import (
    SubmitReceipt,
    VenueBalance,
    VenueFill,
    VenueOrderCanceled,
    VenueOrderRejected,
    VenuePosition,
)
from ordergate.matching import Bar, BarSeries, ReplayFeed
from ordergate.venues.paper import PaperVenue


def flat_bars(start: int, *closes: str) -> BarSeries:
    return BarSeries(
        [Bar(start + i * MINUTE, D(c), D(c), D(c), D(c)) for i, c in enumerate(closes)],
        interval_ns=MINUTE,
    )


def make_venue(*closes: str, loop: bool = False, session: str = "s1") -> PaperVenue:
    closes = closes or ("100.0", "101.0", "99.0")
    feed = ReplayFeed({"BTCUSDT": flat_bars(T0, *closes)}, loop=loop)
    return PaperVenue([BTC, EURUSD], feed, BALANCES, session=session)


async def connected(*closes: str, loop: bool = False) -> PaperVenue:
    venue = make_venue(*closes, loop=loop)
    await venue.connect()
    return venue


async def take(venue: PaperVenue, count: int) -> list[object]:
    stream = venue.events()
    return [await asyncio.wait_for(anext(stream), TIMEOUT) for _ in range(count)]


def test_paper_venue_satisfies_the_venue_and_market_data_ports():
    venue: Venue = make_venue()
    market_data: MarketData = make_venue()

    assert venue.name == "paper"
    assert market_data.quote("BTCUSDT") is None


def test_clock_before_first_step_reads_first_step_time_minus_one_interval():
    venue = make_venue()

    assert venue.now_ns() == T0  # the first bar closes at T0 + 1 min
    assert venue.quote("BTCUSDT") is None


def test_clock_without_any_data_reads_zero():
    venue = PaperVenue([BTC], ReplayFeed({}), BALANCES, session="s1")

    assert venue.now_ns() == 0
    assert venue.advance() is False


def test_advance_moves_clock_and_quote_to_each_step_then_stops():
    venue = make_venue("100.0", "101.0")

    assert venue.advance() is True
    quote = venue.quote("BTCUSDT")
    assert quote is not None
    assert (quote.bid, quote.ask, quote.last, quote.ts) == (D(100), D(100), D(100), T0 + MINUTE)
    assert venue.advance() is True
    assert venue.now_ns() == T0 + 2 * MINUTE
    assert venue.advance() is False
    assert venue.now_ns() == T0 + 2 * MINUTE


def test_advance_with_loop_keeps_going_forward_in_time():
    venue = make_venue("100.0", "101.0", loop=True)
    times = []
    for _ in range(6):
        assert venue.advance()
        times.append(venue.now_ns())

    assert times == [T0 + i * MINUTE for i in range(1, 7)]


async def test_requests_before_connect_raise_retryable():
    venue = make_venue()

    with pytest.raises(RetryableVenueError):
        await venue.submit_order(request("c1", Side.BUY, OrderType.MARKET, "1"))
    with pytest.raises(RetryableVenueError):
        await venue.get_open_orders("acc")


async def test_submit_accepts_in_the_receipt_and_streams_the_fill_only():
    venue = await connected()
    venue.advance()

    receipt = await venue.submit_order(request("c1", Side.BUY, OrderType.MARKET, "1"))
    (fill,) = await take(venue, 1)

    assert receipt == SubmitReceipt("s1-O1", accepted=True)
    assert isinstance(fill, VenueFill)
    assert (fill.price, fill.ts) == (D(100), T0 + MINUTE)


async def test_refused_submit_gives_unaccepted_receipt_and_streams_the_rejection():
    venue = await connected()
    venue.advance()

    receipt = await venue.submit_order(request("c1", Side.BUY, OrderType.MARKET, "1000000"))
    (rejected,) = await take(venue, 1)

    assert receipt.accepted is False
    assert isinstance(rejected, VenueOrderRejected)
    assert rejected.reason_code == "VENUE_INSUFFICIENT_MARGIN"


async def test_events_wake_a_waiting_consumer_when_a_step_fills():
    venue = await connected()
    venue.advance()
    await venue.submit_order(request("c1", Side.BUY, OrderType.LIMIT, "1", "99.0"))
    consumer = asyncio.create_task(take(venue, 1))
    await asyncio.sleep(0)

    venue.advance()  # 101: no fill
    venue.advance()  # 99: fills
    (fill,) = await consumer

    assert isinstance(fill, VenueFill)
    assert fill.ts == T0 + 3 * MINUTE


async def test_duplicate_submit_raises_rejected_by_venue():
    venue = await connected()

    await venue.submit_order(request("c1", Side.BUY, OrderType.LIMIT, "1", "90.0"))
    with pytest.raises(RejectedByVenue):
        await venue.submit_order(request("c1", Side.BUY, OrderType.LIMIT, "1", "90.0"))


async def test_cancel_replace_and_queries_go_through_the_venue():
    venue = await connected()
    venue.advance()
    await venue.submit_order(request("c1", Side.BUY, OrderType.LIMIT, "1", "90.0"))
    await venue.submit_order(request("c2", Side.BUY, OrderType.MARKET, "1"))

    await venue.replace_order("acc", "BTCUSDT", "c1", D(2), D("91.0"), None)
    (open_order,) = await venue.get_open_orders("acc", "BTCUSDT")
    await venue.cancel_order("acc", "BTCUSDT", "c1")
    report = await venue.get_order("acc", "BTCUSDT", "c1")
    events = await take(venue, 3)  # the fill of c2, c1 replaced, c1 canceled

    assert (open_order.qty, open_order.price) == (D(2), D("91.0"))
    assert report is not None
    assert report.status is OrderStatus.CANCELED
    assert isinstance(events[-1], VenueOrderCanceled)
    assert await venue.get_positions("acc") == [VenuePosition("acc", "BTCUSDT", D(1), D(100))]
    balances = await venue.get_balances("acc")
    assert VenueBalance("acc", "USD", D(100_000)) in balances


async def test_run_paces_steps_and_returns_at_end_of_data():
    venue = await connected("100.0", "101.0", "102.0", "103.0", "104.0")

    started = time.monotonic()
    await asyncio.wait_for(venue.run(bars_per_second=100.0), TIMEOUT)
    elapsed = time.monotonic() - started

    assert venue.now_ns() == T0 + 5 * MINUTE
    assert elapsed >= 0.03  # paced: five steps at 100/s are not replayed in one burst


async def test_run_on_looping_feed_continues_until_cancelled():
    venue = await connected(loop=True)
    runner = asyncio.create_task(venue.run(bars_per_second=200.0))

    # Past the end of the data (five bars) and on: the feed loops.
    await eventually(lambda: venue.now_ns() - T0 >= 5 * MINUTE, message="five steps")
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner

    steps = (venue.now_ns() - T0) // MINUTE
    assert 5 <= steps <= 60


async def test_run_refuses_a_pace_that_is_not_positive():
    venue = await connected()

    with pytest.raises(InvalidRequest, match="positive"):
        await venue.run(bars_per_second=0)


async def test_seek_sets_clock_and_prices_without_matching_skipped_steps():
    venue = await connected("100.0", "90.0", "95.0", "96.0")
    await venue.submit_order(request("c1", Side.BUY, OrderType.MARKET, "1"))  # no price yet
    await venue.submit_order(request("c2", Side.BUY, OrderType.LIMIT, "1", "91.0"))

    venue.seek(T0 + 2 * MINUTE + 30_000_000_000)

    quote = venue.quote("BTCUSDT")
    assert quote is not None
    assert quote.last == D(90)
    assert venue.now_ns() == T0 + 2 * MINUTE + 30_000_000_000
    assert venue.advance() is True
    assert venue.now_ns() == T0 + 3 * MINUTE
    (fill,) = await take(venue, 1)  # acceptances are in the receipts; then the fill
    assert isinstance(fill, VenueFill)
    assert (fill.client_order_id, fill.price) == ("c1", D(95))
    limit = await venue.get_order("acc", "BTCUSDT", "c2")
    assert limit is not None
    assert limit.status is OrderStatus.ACCEPTED  # 90 was skipped, never matched


def test_seek_before_data_only_moves_the_clock():
    venue = make_venue()

    venue.seek(T0 + 10)

    assert venue.now_ns() == T0 + 10
    assert venue.quote("BTCUSDT") is None


async def test_restore_through_the_venue_rests_orders_for_later_steps():
    venue = make_venue("100.0", "97.0", session="s9")
    await venue.connect()
    restored = await _report_from_another_session()

    venue.restore([restored], [], [VenueBalance("acc", "USDT", D(500))])
    venue.advance()
    venue.advance()
    (fill,) = await take(venue, 1)  # restoring a resting order streams nothing

    assert isinstance(fill, VenueFill)
    # The second bar opens at 97, below the limit of 98: a resting limit fills at its limit.
    assert (fill.client_order_id, fill.trade_id, fill.price) == ("old", "s9-T1", D(98))


async def _report_from_another_session():
    previous = make_venue("100.0", session="s8")
    await previous.connect()
    previous.advance()
    await previous.submit_order(request("old", Side.BUY, OrderType.LIMIT, "1", "98.0"))
    report = await previous.get_order("acc", "BTCUSDT", "old")
    assert report is not None
    return report


async def test_streamed_sequence_has_no_gaps_when_acceptances_travel_in_receipts():
    venue = await connected("100.0", "99.0", "98.0")
    venue.advance()
    await venue.submit_order(request("c1", Side.BUY, OrderType.MARKET, "1"))
    await venue.submit_order(request("c2", Side.BUY, OrderType.LIMIT, "1", "99.0"))
    await venue.submit_order(request("c3", Side.BUY, OrderType.MARKET, "1000000"))  # rejected
    await venue.submit_order(request("c4", Side.SELL, OrderType.MARKET, "1"))
    venue.advance()  # fills c2

    events = await take(venue, 4)  # fill c1, reject c3, fill c4, fill c2
    seqs = [e.venue_seq for e in events]  # type: ignore[attr-defined]

    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
