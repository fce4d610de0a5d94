"""The NautilusTrader venue after a restart: `restore` re-seeds a fresh engine with the
journal's cash, positions and open orders, streams nothing of the seeding, and the
restored orders then trade on as NautilusTrader's own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from tests.unit.venues.nautilus_support import (
    ACCOUNT,
    MINUTE,
    T0,
    D,
    make_venue,
    request,
    step,
)
from tests.venue_support import EventLog, recording

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.venue_reports import (
    VenueBalance,
    VenueFill,
    VenueOrderCanceled,
    VenueOrderExpired,
    VenueOrderReport,
    VenuePosition,
)
from ordergate.matching import RestoredOrder
from ordergate.venues.nautilus import NautilusVenue

JOURNAL_CASH = D("99998.447")
NOW = T0 + 30 * MINUTE


def open_report(
    coid: str,
    side: Side,
    qty: str,
    price: str,
    filled: str = "0",
    avg: str | None = None,
    ts: int = T0 + 10 * MINUTE,
) -> VenueOrderReport:
    return VenueOrderReport(
        client_order_id=coid,
        venue_order_id=f"old-{coid}",
        account=ACCOUNT,
        symbol="BTCUSDT",
        side=side,
        type=OrderType.LIMIT,
        qty=D(qty),
        price=D(price),
        stop_price=None,
        status=OrderStatus.PARTIALLY_FILLED if D(filled) else OrderStatus.ACCEPTED,
        filled_qty=D(filled),
        avg_fill_price=None if avg is None else D(avg),
        ts=ts,
    )


@pytest.fixture
async def restarted() -> AsyncIterator[tuple[NautilusVenue, EventLog]]:
    venue = make_venue(session="s2")
    await venue.connect()
    step(venue, "50000.0", "50010.0", ts=NOW)
    async with recording(venue) as log:
        venue.restore(
            [
                RestoredOrder(
                    open_report("rest", Side.SELL, "0.01", "51000.0", "0.004", "51000.0")
                ),
                RestoredOrder(open_report("ioc", Side.BUY, "0.01", "40000.0"), TimeInForce.IOC),
                RestoredOrder(
                    open_report("day", Side.BUY, "0.01", "40000.0", ts=T0 - MINUTE),
                    TimeInForce.DAY,
                ),
            ],
            [VenuePosition(ACCOUNT, "BTCUSDT", D("0.03"), D("47067.16666"))],
            [VenueBalance(ACCOUNT, "USDT", JOURNAL_CASH)],
        )
        yield venue, log
    venue.close()


async def test_restore_seeds_position_and_cash_without_a_fee_or_an_event(
    restarted: tuple[NautilusVenue, EventLog],
) -> None:
    venue, log = restarted
    await log.wait_for(lambda: len(log.events) == 2, "the two ends of unrestorable orders")

    [position] = await venue.get_positions(ACCOUNT)
    [balance] = await venue.get_balances(ACCOUNT)

    assert (position.qty, position.avg_price) == (D("0.03"), D("47067.2"))  # on the tick
    assert balance.balance == JOURNAL_CASH
    assert not any(isinstance(e, VenueFill) for e in log.events)  # the seeding is silent
    assert venue.now_ns() == NOW
    quote = venue.quote("BTCUSDT")
    assert quote is not None
    assert (quote.bid, quote.ask) == (D("50000.0"), D("50010.0"))  # the real market again


async def test_restore_ends_an_ioc_and_an_expired_day_order_with_their_events(
    restarted: tuple[NautilusVenue, EventLog],
) -> None:
    venue, log = restarted
    await log.wait_for(lambda: len(log.events) == 2, "the two ends")

    [canceled] = log.of_kind(VenueOrderCanceled, "ioc")
    [expired] = log.of_kind(VenueOrderExpired, "day")
    assert canceled.reason_code == ReasonCode.IOC_UNFILLED
    assert expired.reason_code == ReasonCode.DAY_ORDER_EXPIRED
    ioc = await venue.get_order(ACCOUNT, "BTCUSDT", "ioc")
    assert ioc is not None
    assert ioc.status is OrderStatus.CANCELED
    assert [o.client_order_id for o in await venue.get_open_orders(ACCOUNT)] == ["rest"]


async def test_a_restored_order_reports_what_filled_before_and_fills_the_rest(
    restarted: tuple[NautilusVenue, EventLog],
) -> None:
    venue, log = restarted
    before = await venue.get_order(ACCOUNT, "BTCUSDT", "rest")

    step(venue, "51100.0", "51110.0")
    await log.wait_for(lambda: log.filled("rest") == D("0.006"), "the rest's fill")
    after = await venue.get_order(ACCOUNT, "BTCUSDT", "rest")

    assert before is not None
    assert (before.status, before.qty, before.filled_qty, before.venue_order_id) == (
        OrderStatus.PARTIALLY_FILLED,
        D("0.01"),
        D("0.004"),
        "old-rest",
    )
    assert after is not None
    assert (after.status, after.filled_qty, after.avg_fill_price) == (
        OrderStatus.FILLED,
        D("0.01"),
        D("51000.0"),
    )
    [position] = await venue.get_positions(ACCOUNT)
    assert position.qty == D("0.024")
    # Numbered from the first streamed event (the restore's own), with no gaps.
    assert [getattr(e, "venue_seq", None) for e in log.events] == [1, 2, 3]


async def test_restore_needs_a_venue_with_no_orders() -> None:
    venue = make_venue()
    await venue.connect()
    step(venue, "50000.0", "50010.0", ts=NOW)
    try:
        await venue.submit_order(request("x", price="40000.0"))
        with pytest.raises(InvalidRequest):
            venue.restore([], [], [VenueBalance(ACCOUNT, "USDT", Decimal(1))])
    finally:
        venue.close()
