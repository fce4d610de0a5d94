"""Brackets: reduce-only stop-loss and take-profit children of a finished parent, OCO."""

from __future__ import annotations

from collections.abc import AsyncIterator

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

from ordergate.domain.errors import Conflict
from ordergate.domain.events import OrderCancelRequested, OrderInitialized
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderStatus, OrderType, Side
from ordergate.engine.commands import CancelOrder, ClosePosition
from ordergate.engine.venue_reports import VenueOrderAccepted
from ordergate.engine.views import OrderView

STOP_LOSS = D(49000)
TAKE_PROFIT = D(51000)


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


def children_of(h: Harness, parent_id: str) -> dict[OrderType, OrderView]:
    views = [v for v in (h.engine.order(i) for i in h.engine.state.orders) if v is not None]
    return {v.type: v for v in views if v.parent_order_id == parent_id}


async def bracketed(h: Harness, qty: str = "0.1") -> tuple[OrderView, OrderView, OrderView]:
    """A filled market BUY with both children accepted: (parent, stop-loss, take-profit)."""
    placed = await h.place(market_order(qty=qty, stop_loss=STOP_LOSS, take_profit=TAKE_PROFIT))
    parent = await h.settled(placed.order_id)
    assert parent.status is OrderStatus.FILLED
    children = children_of(h, parent.order_id)
    return parent, children[OrderType.STOP], children[OrderType.LIMIT]


async def test_filled_parent_creates_reduce_only_stop_and_limit_children(sessions):
    h = await sessions.start()
    parent, stop_loss, take_profit = await bracketed(h, qty="0.1")

    assert (stop_loss.side, stop_loss.qty, stop_loss.stop_price, stop_loss.price) == (
        Side.SELL,
        D("0.1"),
        STOP_LOSS,
        None,
    )
    assert (take_profit.side, take_profit.qty, take_profit.price) == (
        Side.SELL,
        D("0.1"),
        TAKE_PROFIT,
    )
    for child in (stop_loss, take_profit):
        assert child.reduce_only
        assert child.parent_order_id == parent.order_id
        assert child.status is OrderStatus.ACCEPTED
    assert sorted(h.venue.requests("submit")[1:]) == sorted(
        [stop_loss.client_order_id, take_profit.client_order_id]
    )
    assert h.engine.order_margin("acct") == {"USDT": D(0)}  # reduce-only reserves nothing


async def test_partly_filled_parent_canceled_protects_filled_qty(sessions):
    h = await sessions.start()
    placed = await h.place(
        limit_order(qty="0.1", price="50000", stop_loss=STOP_LOSS, take_profit=TAKE_PROFIT)
    )
    await h.settle()
    h.venue.fill(placed.client_order_id, D("0.04"), PRICE)
    await h.settle()
    assert children_of(h, placed.order_id) == {}  # not done yet: no children

    await h.engine.cancel(CancelOrder(placed.order_id))
    await h.settle()

    children = children_of(h, placed.order_id)
    assert sorted(children) == [OrderType.LIMIT, OrderType.STOP]
    assert {c.qty for c in children.values()} == {D("0.04")}


async def test_take_profit_fully_filled_cancels_stop_loss_as_oco(sessions):
    h = await sessions.start()
    _, stop_loss, take_profit = await bracketed(h)

    h.venue.fill(take_profit.client_order_id, D("0.1"), TAKE_PROFIT)
    await h.settle()

    assert h.engine.order(take_profit.order_id).status is OrderStatus.FILLED
    assert h.engine.order(stop_loss.order_id).status is OrderStatus.CANCELED
    assert [e.reason for e in h.events(OrderCancelRequested, stop_loss.order_id)] == [
        ReasonCode.OCO_SIBLING_FILLED
    ]
    assert h.venue.requests("cancel") == [stop_loss.client_order_id]
    assert h.position() == D(0)


async def test_stop_loss_fully_filled_cancels_take_profit_as_oco(sessions):
    h = await sessions.start()
    _, stop_loss, take_profit = await bracketed(h)

    h.venue.fill(stop_loss.client_order_id, D("0.1"), STOP_LOSS)
    await h.settle()

    assert h.engine.order(take_profit.order_id).status is OrderStatus.CANCELED
    assert h.venue.requests("cancel") == [take_profit.client_order_id]


async def test_take_profit_partly_filled_shrinks_stop_loss_by_replace(sessions):
    h = await sessions.start()
    _, stop_loss, take_profit = await bracketed(h)

    h.venue.fill(take_profit.client_order_id, D("0.04"), TAKE_PROFIT)
    await h.settle()

    shrunk = h.engine.order(stop_loss.order_id)
    assert shrunk.status is OrderStatus.ACCEPTED
    assert (shrunk.qty, shrunk.stop_price) == (D("0.06"), STOP_LOSS)
    assert h.venue.replaces == [(stop_loss.client_order_id, D("0.06"), None, STOP_LOSS)]
    assert h.venue.requests("cancel") == []
    assert h.position() == D("0.06")


async def test_take_profit_filled_in_two_parts_shrinks_then_cancels_stop_loss(sessions):
    h = await sessions.start()
    _, stop_loss, take_profit = await bracketed(h)

    h.venue.fill(take_profit.client_order_id, D("0.04"), TAKE_PROFIT)
    await h.settle()
    h.venue.fill(take_profit.client_order_id, D("0.06"), TAKE_PROFIT)
    await h.settle()

    assert h.engine.order(stop_loss.order_id).status is OrderStatus.CANCELED
    assert h.position() == D(0)


async def test_parent_without_fill_gets_no_children(sessions):
    h = await sessions.start()
    placed = await h.place(
        limit_order(qty="0.1", price="40000", stop_loss=D(39000), take_profit=D(41000))
    )
    await h.settle()

    await h.engine.cancel(CancelOrder(placed.order_id))
    view = await h.settled(placed.order_id)

    assert view.status is OrderStatus.CANCELED
    assert children_of(h, placed.order_id) == {}
    assert len(h.events(OrderInitialized)) == 1
    assert h.venue.requests("submit") == [placed.client_order_id]


async def test_children_created_once_despite_later_parent_events(sessions):
    h = await sessions.start()
    parent, stop_loss, take_profit = await bracketed(h)

    h.venue.push(VenueOrderAccepted(parent.client_order_id, "V1", None, 0))  # stale
    h.venue.push(venue_fill(parent, "0.02", PRICE, "late-1"))  # an overfill of the parent
    await h.settle()

    assert sorted(o.order_id for o in children_of(h, parent.order_id).values()) == sorted(
        [stop_loss.order_id, take_profit.order_id]
    )
    assert len(h.events(OrderInitialized)) == 3
    assert len(h.venue.requests("submit")) == 3


async def test_full_close_position_cancels_bracket_children(sessions):
    h = await sessions.start()
    parent, stop_loss, take_profit = await bracketed(h, qty="0.1")

    closing = await h.engine.close_position(ClosePosition(parent.account, parent.symbol))
    await h.settle()

    for child in (stop_loss, take_profit):
        view = h.engine.order(child.order_id)
        assert view is not None
        assert view.status is OrderStatus.CANCELED
        assert view.reason == "position closed"
    assert h.engine.order(closing.order_id).status is OrderStatus.FILLED  # type: ignore[union-attr]
    assert h.position() == D(0)


async def test_partial_close_position_keeps_bracket_children(sessions):
    h = await sessions.start()
    parent, stop_loss, take_profit = await bracketed(h, qty="0.2")

    await h.engine.close_position(ClosePosition(parent.account, parent.symbol, qty=D("0.1")))
    await h.settle()

    for child in (stop_loss, take_profit):
        view = h.engine.order(child.order_id)
        assert view is not None
        assert view.status is OrderStatus.ACCEPTED
    assert h.position() == D("0.1")


async def test_close_position_while_a_close_is_in_flight_is_refused(sessions):
    market = FakeMarket()
    market.set(BTC.symbol, str(PRICE))
    h = await sessions.start(venue=ScriptedVenue(market, auto_fill=False), market=market)
    opened = await h.place(market_order(qty="0.3"))
    await h.settle()
    h.venue.fill(opened.client_order_id, D("0.3"), PRICE)
    await h.settle()
    await h.engine.close_position(ClosePosition(opened.account, BTC.symbol))

    with pytest.raises(Conflict) as refused:
        await h.engine.close_position(ClosePosition(opened.account, BTC.symbol))

    assert refused.value.code == ReasonCode.POSITION_ALREADY_CLOSING
