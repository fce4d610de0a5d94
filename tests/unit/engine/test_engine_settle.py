"""`Engine.settle`: waits until nothing is queued, for tests, benchmarks and shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from engine_support import D, Sessions, limit_order, market_order

from ordergate.domain.values import OrderStatus, OrderType
from ordergate.engine.commands import CancelOrder


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


async def test_settle_after_cancel_order_is_canceled(sessions):
    h = await sessions.start()
    resting = await h.place(limit_order())
    await h.settle()

    await h.engine.cancel(CancelOrder(resting.order_id))
    await h.engine.settle()

    assert h.engine.order(resting.order_id).status is OrderStatus.CANCELED


async def test_settle_after_fill_that_triggers_oco_cancel_sees_cancel_confirmed(sessions):
    h = await sessions.start()
    parent = await h.place(market_order(stop_loss=D(49000), take_profit=D(51000)))
    await h.settle()
    children = {o.type: o for o in h.engine.state.orders.values() if o.parent_order_id}
    assert len(children) == 2, parent
    take_profit, stop_loss = children[OrderType.LIMIT], children[OrderType.STOP]

    h.venue.fill(take_profit.client_order_id, D("0.1"), D(51000))
    await h.engine.settle()

    assert h.engine.order(stop_loss.order_id).status is OrderStatus.CANCELED
