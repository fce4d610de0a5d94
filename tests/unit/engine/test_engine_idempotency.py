"""Idempotent placement: one key names one order, across retries, batches and restarts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from engine_support import D, Sessions, limit_order, market_order

from ordergate.domain.errors import IdempotencyConflict
from ordergate.domain.events import JournalOpened, OrderInitialized
from ordergate.domain.values import OrderStatus
from ordergate.engine.ids import client_order_id_for


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


async def test_place_same_key_twice_returns_same_order_not_created(sessions):
    h = await sessions.start()
    first = await h.engine.place(market_order(idempotency_key="k1"))
    await h.settle()

    second = await h.engine.place(market_order(idempotency_key="k1"))
    await h.settle()

    assert first.created
    assert not second.created
    assert second.order.order_id == first.order.order_id
    assert second.order.status is OrderStatus.FILLED  # the order as it is now
    assert h.venue.requests("submit") == [first.order.client_order_id]
    assert len(h.events(OrderInitialized)) == 1
    assert h.position() == D("0.1")


async def test_place_same_key_different_request_raises_idempotency_conflict(sessions):
    h = await sessions.start()
    first = await h.place(limit_order(price="40000", idempotency_key="k1"))

    with pytest.raises(IdempotencyConflict):
        await h.place(limit_order(price="40100", idempotency_key="k1"))
    await h.settle()

    assert len(h.events(OrderInitialized)) == 1
    assert h.venue.requests("submit") == [first.client_order_id]
    assert h.engine.order(first.order_id) is not None
    assert h.engine.order(first.order_id).price == D(40000)


async def test_place_same_key_other_account_creates_new_order(sessions):
    h = await sessions.start(fund=("a", "b"))
    in_a = await h.engine.place(limit_order(account="a", idempotency_key="k1"))
    in_b = await h.engine.place(limit_order(account="b", idempotency_key="k1"))
    await h.settle()

    assert in_a.created
    assert in_b.created
    assert in_b.order.order_id != in_a.order.order_id
    assert in_b.order.client_order_id != in_a.order.client_order_id
    assert sorted(h.venue.requests("submit")) == sorted(
        [in_a.order.client_order_id, in_b.order.client_order_id]
    )


async def test_place_same_key_after_restart_returns_same_order_not_sent_again(sessions):
    h = await sessions.start()
    first = await h.engine.place(limit_order(idempotency_key="k1"))
    await h.settle()

    h2 = await sessions.restart(h)
    again = await h2.engine.place(limit_order(idempotency_key="k1"))
    await h2.settle()

    assert not again.created
    assert again.order.order_id == first.order.order_id
    assert again.order.status is OrderStatus.ACCEPTED
    assert h2.venue.requests("submit") == [first.order.client_order_id]
    assert len(h2.events(OrderInitialized)) == 1


async def test_place_same_key_after_restart_with_different_request_conflicts(sessions):
    h = await sessions.start()
    await h.engine.place(limit_order(idempotency_key="k1"))
    h2 = await sessions.restart(h)

    with pytest.raises(IdempotencyConflict):
        await h2.engine.place(limit_order(qty="0.2", idempotency_key="k1"))


async def test_place_same_key_concurrently_in_one_batch_gives_one_order(sessions):
    h = await sessions.start()
    results = await asyncio.gather(
        *(h.engine.place(market_order(idempotency_key="k1")) for _ in range(5))
    )
    await h.settle()

    assert len({r.order.order_id for r in results}) == 1
    assert [r.created for r in results] == [True, False, False, False, False]
    assert len(h.venue.requests("submit")) == 1
    assert len(h.events(OrderInitialized)) == 1
    assert h.position() == D("0.1")


async def test_new_journals_on_one_venue_give_unkeyed_orders_different_client_ids(sessions):
    # A fresh journal (a new file, :memory:, a lost one) numbers its orders from 1 again.
    first = await sessions.start()
    second = await sessions.start(venue=first.venue, market=first.market)

    a = await first.place(limit_order())
    b = await second.place(limit_order())
    keyed_a = await first.place(limit_order(idempotency_key="k"))
    keyed_b = await second.place(limit_order(idempotency_key="k"))

    assert a.order_id == b.order_id == "0-1"
    assert a.client_order_id != b.client_order_id
    assert keyed_a.client_order_id == keyed_b.client_order_id  # one intent, one venue order


async def test_a_journal_keeps_its_identity_across_restarts(sessions):
    h = await sessions.start()
    before = await h.place(limit_order())
    restarted = await sessions.restart(h)
    after = await restarted.place(limit_order())

    opened = restarted.events(JournalOpened)
    assert len(opened) == 1
    assert restarted.engine.state.journal_id == opened[0].journal_id
    assert after.client_order_id == client_order_id_for(
        "acct", None, after.order_id, opened[0].journal_id
    )
    assert before.client_order_id != after.client_order_id
