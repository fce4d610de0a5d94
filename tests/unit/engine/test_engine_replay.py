"""Deterministic replay: the journal alone rebuilds the live state, digest for digest."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from engine_support import (
    PRICE,
    SECOND,
    D,
    Harness,
    Sessions,
    limit_order,
    market_order,
)
from engine_support import venue_fill as fill_of
from tests.fakes import BTC

from ordergate.domain.values import OrderStatus, OrderType, Side
from ordergate.engine.commands import CancelOrder, ClosePosition, ReplaceOrder
from ordergate.engine.digest import state_digest
from ordergate.engine.replay import verify_store


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


async def busy_session(h: Harness) -> None:
    """Fills, fees, cancels, replaces, a late fill, an overfill, a denial, brackets."""

    async def step() -> None:
        await h.settle()
        h.clock.advance(SECOND)

    parent = await h.place(market_order(qty="0.2", stop_loss=D(49000), take_profit=D(51000)))
    await step()
    children = {o.type: o for o in h.engine.state.orders.values() if o.parent_order_id}
    take_profit = children[OrderType.LIMIT]
    h.venue.fill(take_profit.client_order_id, D("0.05"), D(51000))  # the stop-loss shrinks
    await step()

    resting = await h.place(limit_order(qty="0.3", price="40000"))
    await step()
    await h.engine.replace(ReplaceOrder(resting.order_id, qty=D("0.4"), price=D(40100)))
    await step()
    h.venue.push(fill_of(resting, "0.1", "40100", "F1", fee="2"))
    await step()
    await h.engine.cancel(CancelOrder(resting.order_id))
    await step()
    h.venue.push(fill_of(resting, "0.05", "40100", "F2", fee="1"))  # late, after CANCELED
    await step()

    short = await h.place(limit_order(side=Side.SELL, qty="0.1", price="52000"))
    await step()
    h.venue.fill(short.client_order_id, D("0.08"), D(52000))
    h.venue.fill(short.client_order_id, D("0.04"), D(52000))  # overfill
    await step()

    await h.place(market_order(qty="100"))  # denied: margin
    await h.engine.close_position(ClosePosition("acct", BTC.symbol, qty=D("0.1")))
    await step()
    h.venue.push(fill_of(parent, "0.2", PRICE, "T1"))  # a duplicate of the parent's fill
    await step()


async def test_replay_twice_equal_digests_equal_live_state(sessions):
    h = await sessions.start()
    await busy_session(h)
    statuses = {v.status for v in map(h.engine.order, h.engine.state.orders) if v}
    assert {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.DENIED} <= statuses

    live = state_digest(h.engine.state)
    first = state_digest(await h.replayed())
    second = state_digest(await h.replayed())

    assert first == second == live


async def test_busy_session_store_verifies_with_live_digest(sessions):
    h = await sessions.start()
    await busy_session(h)

    report = await verify_store(h.store)

    assert report.ok, report.problems
    assert report.events == len(await h.stored_events())
    assert report.digest == state_digest(h.engine.state)


# The second busy session sends trade ids the first used (F1, F2, T1) for other orders.
async def test_restart_then_more_trading_replays_to_live_state(sessions):
    h = await sessions.start()
    await busy_session(h)
    before = state_digest(h.engine.state)

    h2 = await sessions.restart(h)
    await h2.settle()
    assert state_digest(h2.engine.state) == before
    await busy_session(h2)

    assert state_digest(await h2.replayed()) == state_digest(h2.engine.state)
    assert (await verify_store(h2.store)).ok
