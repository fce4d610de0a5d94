"""A node whose partition lease lapsed sends nothing and appends nothing more."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from engine_support import ScriptedVenue, Sessions, limit_order, market_order
from tests.fakes import BTC, FakeMarket
from tests.waiting import eventually

from ordergate.domain.errors import EngineStopped, JournalFenced


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


class Lease:
    def __init__(self) -> None:
        self.valid = True

    def __call__(self) -> bool:
        return self.valid


async def test_after_the_lease_lapses_no_command_is_journaled_or_sent(sessions):
    lease = Lease()
    h = await sessions.start(may_act=lease)
    placed = await h.place(limit_order())
    await h.settle()
    journaled = len(h.events())

    lease.valid = False
    with pytest.raises(EngineStopped):
        await h.place(limit_order(price="39000"))

    assert h.venue.requests("submit") == [placed.client_order_id]
    assert len(h.events()) == journaled
    assert isinstance(h.engine.failure, JournalFenced)


async def test_a_request_journaled_before_the_lease_lapsed_is_withheld_after_it(sessions):
    lease = Lease()
    market = FakeMarket()
    market.set(BTC.symbol, "50000")
    venue = ScriptedVenue(market, hold={"submit"})  # submits hang at the venue until released
    h = await sessions.start(venue=venue, market=market, may_act=lease, venue_lanes=1)
    first = await h.place(market_order())  # its submit leaves, and hangs
    second = await h.place(limit_order())  # journaled; its submit waits behind the first

    lease.valid = False
    venue.release.set()
    await eventually(lambda: h.engine.failure is not None, message="the engine to fail")

    assert venue.requests("submit") == [first.client_order_id]  # never the second
    assert second.client_order_id not in venue.requests("submit")
    assert isinstance(h.engine.failure, JournalFenced)
    with pytest.raises(EngineStopped):
        await h.place(limit_order(price="39000"))
