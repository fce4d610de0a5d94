"""A request the venue withholds as it leaves fences the engine as its own check does.

The engine asks `may_act` before each attempt, but a request can wait inside the adapter
(its request budget, the exchange's throttle, a process frozen there) long after that.
An adapter given the same check asks it again as the request leaves and raises
`JournalFenced` when it says no (the ccxt venue: `payloads.strict_exchange`). The engine
must take that as "withheld": nothing happened at the venue, nothing is retried, the
order is neither refused nor in doubt, and this node stops.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from engine_support import ScriptedVenue, Sessions, limit_order
from tests.fakes import BTC, FakeMarket
from tests.waiting import eventually

from ordergate.domain.errors import EngineStopped, JournalFenced


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


async def test_a_submit_the_venue_withholds_as_it_leaves_fences_and_is_not_retried(sessions):
    market = FakeMarket()
    market.set(BTC.symbol, "50000")
    venue = ScriptedVenue(market)
    # The engine's own asking says yes; the venue's, later, says no.
    h = await sessions.start(venue=venue, market=market, may_act=lambda: True)
    venue.fail_next.append(JournalFenced("POST /v5/order/create withheld"))

    placed = await h.place(limit_order())
    journaled = len(h.events())
    await eventually(lambda: h.engine.failure is not None, message="the engine to fail")

    assert isinstance(h.engine.failure, JournalFenced)
    assert venue.requests("submit") == [placed.client_order_id]  # once: not retried
    assert venue.submitted == []  # withheld: the venue took nothing
    assert len(h.events()) == journaled  # neither refused nor marked in doubt
    with pytest.raises(EngineStopped):
        await h.place(limit_order(price="39000"))
