"""Streamed venue events: de-duplicated, matched, validated, fitted to the state table."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
import pytest
from engine_support import (
    PRICE,
    D,
    Harness,
    ScriptedVenue,
    Sessions,
    limit_order,
    market_order,
    venue_fill,
)
from tests.fakes import BTC, FakeMarket
from tests.waiting import TIMEOUT

from ordergate.domain.events import InstrumentMarkedDirty, OrderFilled
from ordergate.domain.values import DirtyCause, OrderStatus, Side
from ordergate.engine.commands import CancelOrder
from ordergate.engine.digest import state_digest
from ordergate.engine.venue_reports import VenueOrderAccepted, VenueOrderCanceled
from ordergate.engine.views import OrderView


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


async def resting_market_order(sessions: Sessions) -> tuple[Harness, OrderView]:
    """An accepted market BUY 0.1 that the venue has not filled yet."""
    market = FakeMarket()
    market.set(BTC.symbol, str(PRICE))
    h = await sessions.start(venue=ScriptedVenue(market, auto_fill=False), market=market)
    placed = await h.place(market_order(qty="0.1"))
    view = await h.settled(placed.order_id)
    assert view.status is OrderStatus.ACCEPTED
    return h, view


async def test_fill_delivered_twice_counted_once(sessions):
    h, order = await resting_market_order(sessions)
    fill = venue_fill(order, "0.04", trade_id="T1")

    h.venue.push(fill)
    h.venue.push(fill)
    await h.settle()
    h.venue.push(fill)  # and once more, in a later batch
    view = await h.settled(order.order_id)

    assert view.filled_qty == D("0.04")
    assert view.status is OrderStatus.PARTIALLY_FILLED
    assert h.position() == D("0.04")
    assert len(h.events(OrderFilled)) == 1
    assert len((await h.store.snapshot()).fills) == 1
    assert h.engine.dropped_venue_events == 0  # a duplicate is expected, not an anomaly


async def test_fill_for_unknown_client_order_id_books_nothing_and_puts_the_instrument_in_doubt(
    sessions,
):
    h, order = await resting_market_order(sessions)
    journaled = len(await h.stored_events())

    h.venue.push(venue_fill(order, "0.1", trade_id="T1", client_order_id="not-ours"))
    await h.settle()

    assert h.engine.unmatched_venue_events == 1
    assert h.position() == D(0)
    [marked] = (await h.stored_events())[journaled:]
    assert isinstance(marked, InstrumentMarkedDirty)
    assert (marked.account, marked.symbol, marked.cause) == (
        order.account,
        order.symbol,
        DirtyCause.UNKNOWN_FILL,
    )
    assert "not-ours" in marked.detail


@pytest.mark.parametrize(
    ("qty", "price", "fee", "side"),
    [
        ("0", "50000", "0", None),
        ("-0.1", "50000", "0", None),
        ("NaN", "50000", "0", None),
        ("0.1", "NaN", "0", None),
        ("0.1", "Infinity", "0", None),
        ("0.1", "0", "0", None),
        ("0.1", "50000", "NaN", None),
        ("0.1", "50000", "0", Side.SELL),  # the order is a BUY
    ],
)
async def test_malformed_fill_dropped_and_counted(sessions, qty, price, fee, side):
    h, order = await resting_market_order(sessions)
    before = state_digest(h.engine.state)
    journaled = len(await h.stored_events())

    h.venue.push(venue_fill(order, D(qty), D(price), "T1", fee=D(fee), side=side))
    view = await h.settled(order.order_id)

    assert h.engine.dropped_venue_events == 1
    assert view.filled_qty == D(0)
    assert h.position() == D(0)
    assert state_digest(h.engine.state) == before
    assert len(await h.stored_events()) == journaled


async def test_malformed_fill_does_not_block_a_good_resend_of_same_trade(sessions):
    h, order = await resting_market_order(sessions)

    h.venue.push(venue_fill(order, "NaN", PRICE, "T1"))
    h.venue.push(venue_fill(order, "0.1", PRICE, "T1"))
    view = await h.settled(order.order_id)

    assert view.status is OrderStatus.FILLED
    assert h.position() == D("0.1")


async def test_accept_after_fill_dropped_and_counted(sessions):
    h = await sessions.start()
    placed = await h.place(market_order())
    filled = await h.settled(placed.order_id)
    assert filled.status is OrderStatus.FILLED
    journaled = len(await h.stored_events())

    h.venue.push(VenueOrderAccepted(placed.client_order_id, "V9", None, 0))
    h.venue.push(VenueOrderCanceled(placed.client_order_id, None, None, None, 0))
    view = await h.settled(placed.order_id)

    assert view == filled
    assert h.engine.dropped_venue_events == 2
    assert len(await h.stored_events()) == journaled


async def test_fill_after_canceled_applied_and_flagged_late(sessions):
    h = await sessions.start()
    resting = await h.place(limit_order(qty="0.1", price="40000"))
    await h.settle()
    await h.engine.cancel(CancelOrder(resting.order_id))
    canceled = await h.settled(resting.order_id)
    assert canceled.status is OrderStatus.CANCELED

    h.venue.fill(resting.client_order_id, D("0.03"), D(40000))
    view = await h.settled(resting.order_id)

    assert view.status is OrderStatus.CANCELED
    assert view.filled_qty == D("0.03")
    assert "LATE_FILL" in view.flags
    assert h.position() == D("0.03")
    assert h.engine.dropped_venue_events == 0


async def test_fill_while_cancel_pending_applied_and_flagged(sessions):
    h = await sessions.start()
    h.venue.hold.add("cancel")
    resting = await h.place(limit_order(qty="0.1", price="40000"))
    await h.settle()
    await h.engine.cancel(CancelOrder(resting.order_id))

    h.venue.fill(resting.client_order_id, D("0.03"), D(40000))
    view = await h.engine.wait_for(resting.order_id, lambda v: v.filled_qty > 0, TIMEOUT)

    assert view.status is OrderStatus.PENDING_CANCEL
    assert "FILL_AFTER_CANCEL_REQUEST" in view.flags
    assert h.position() == D("0.03")


async def test_overfill_flagged_filled_qty_capped_position_carries_all(sessions):
    h, order = await resting_market_order(sessions)

    h.venue.push(venue_fill(order, "0.08", PRICE, "T1"))
    h.venue.push(venue_fill(order, "0.05", PRICE, "T2"))
    view = await h.settled(order.order_id)

    assert view.status is OrderStatus.FILLED
    assert view.filled_qty == view.qty == D("0.1")
    assert view.overfill_qty == D("0.03")
    assert "OVERFILL" in view.flags
    assert h.position() == D("0.13")
    assert len((await h.store.snapshot()).fills) == 2


async def test_self_trade_legs_sharing_a_trade_id_both_journaled_and_stored(sessions):
    h = await sessions.start()
    bid = await h.place(limit_order(Side.BUY, qty="0.1", price="49000"))
    offer = await h.place(limit_order(Side.SELL, qty="0.1", price="49000"))
    await h.settle()

    h.venue.push(venue_fill(bid, "0.1", "49000", "S1"))  # the venue matched the account's
    h.venue.push(venue_fill(offer, "0.1", "49000", "S1"))  # own orders: one trade, two legs
    bought = await h.settled(bid.order_id)
    sold = await h.settled(offer.order_id)

    assert (bought.status, sold.status) == (OrderStatus.FILLED, OrderStatus.FILLED)
    assert [f.order_id for f in h.events(OrderFilled)] == [bid.order_id, offer.order_id]
    assert h.position() == D(0)
    stored = (await h.store.snapshot()).fills
    assert sorted((f.order_id, f.trade_id) for f in stored) == sorted(
        [(bid.order_id, "S1"), (offer.order_id, "S1")]
    )


async def test_fill_with_symbol_contradicting_order_dropped(sessions):
    h, order = await resting_market_order(sessions)
    wrong = msgspec.structs.replace(venue_fill(order, "0.1", PRICE, "T1"), symbol="ETHUSDT")

    h.venue.push(wrong)
    view = await h.settled(order.order_id)

    assert view.filled_qty == D(0)
    assert h.position() == D(0)
    assert h.engine.dropped_venue_events == 1
