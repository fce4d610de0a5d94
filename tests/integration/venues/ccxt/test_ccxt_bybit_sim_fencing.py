"""A fenced node sends nothing: the ccxt adapter asks `may_send` (a cluster node's
partition lease) as each request leaves, not only when the engine hands it over.

A request can wait a long time between the two: on ordergate's request budget, ccxt's
throttle, and in a process frozen meanwhile (SIGSTOP, a stalled VM) for as long as the
freeze lasts. Here the wait is made deterministic: the venue's budget is one that parks
the next request at `acquire` until the test lets it go, and the lease lapses exactly
then. The simulator's request log shows what reached the venue.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from sim_support import ACCOUNT, ASK, BID, CASH, SYMBOL, D, order
from tests.waiting import TIMEOUT, eventually

from ordergate.domain.errors import JournalFenced
from ordergate.domain.limits import Rate
from ordergate.engine.dispatch import SubmitRequest, VenueDispatcher, VenueOutcome
from ordergate.engine.retry import RetryPolicy
from ordergate.simulators.bybit import BybitSimulator, SimulatorConfig, ccxt_settings
from ordergate.simulators.bybit import OrderStatus as BybitStatus
from ordergate.venues.ccxt import CcxtVenue, CcxtVenueConfig
from ordergate.venues.ccxt import venue as venue_module
from ordergate.venues.ccxt.budget import RequestBudget

CREATE, CANCEL, AMEND = "/v5/order/create", "/v5/order/cancel", "/v5/order/amend"
ORDER_QUERIES = ("/v5/order/realtime", "/v5/order/history")


class Lease:
    """A partition lease the test lapses by hand; it counts how often it was asked."""

    def __init__(self) -> None:
        self.valid = True
        self.asked = 0

    def __call__(self) -> bool:
        self.asked += 1
        return self.valid


class HeldBudget(RequestBudget):
    """The venue's request budget, able to park the next request while it waits for a
    token: the window a frozen process would spend there."""

    def __init__(self, rate: Rate) -> None:
        super().__init__(rate)
        self._hold_next = False
        self.waiting = asyncio.Event()
        self.release = asyncio.Event()

    def hold_next(self) -> None:
        self._hold_next = True

    async def acquire(self) -> None:
        if self._hold_next:
            self._hold_next = False
            self.waiting.set()
            await self.release.wait()
        await super().acquire()


@dataclass
class FencedRig:
    sim: BybitSimulator
    venue: CcxtVenue
    budget: HeldBudget
    lease: Lease

    async def requests(self, path: str) -> list[dict[str, Any]]:
        """What reached the simulator on `path`, from its own request log."""
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{self.sim.rest_url}/sim/requests", params={"path": path}) as answer,
        ):
            seen: list[dict[str, Any]] = (await answer.json())["requests"]
            return seen


@pytest.fixture
async def rig(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FencedRig]:
    budgets: list[HeldBudget] = []

    def held_budget(rate: Rate) -> HeldBudget:
        budgets.append(HeldBudget(rate))
        return budgets[-1]

    monkeypatch.setattr(venue_module, "RequestBudget", held_budget)
    sim = BybitSimulator(SimulatorConfig(balances={"USDT": CASH}, market="manual"))
    await sim.start(host="127.0.0.1", port=0)
    api_key, api_secret = sim.api_credentials
    lease = Lease()
    venue = CcxtVenue(
        CcxtVenueConfig(
            exchange_id="bybit",
            account=ACCOUNT,
            symbols=(SYMBOL,),
            market_type="swap",
            api_key=api_key,
            api_secret=api_secret,
            live=False,
            overrides=ccxt_settings(sim, timeout_ms=2_000),
            request_rate=Rate(D(200), 50),
            retry=RetryPolicy(max_attempts=4, base_delay=0.02, max_delay=0.2),
            poll_interval=0.1,
            confirm_after=0.3,
            fill_grace=0.1,
        ),
        may_send=lease,
    )
    try:
        await venue.connect()
        sim.set_quote(SYMBOL, bid=BID, ask=ASK)
        [budget] = budgets
        yield FencedRig(sim, venue, budget, lease)
    finally:
        await venue.disconnect()
        await sim.stop()


async def test_a_submit_held_on_the_budget_while_the_lease_lapses_is_withheld_unsent(rig):
    outcomes: list[VenueOutcome] = []
    withheld = asyncio.Event()
    dispatcher = VenueDispatcher(
        rig.venue, outcomes.append, may_send=rig.lease, on_withheld=withheld.set
    )
    dispatcher.start()
    request = order()
    asked = rig.lease.asked  # connecting asked too
    try:
        rig.budget.hold_next()
        dispatcher.send(SubmitRequest("0-1", request))
        # Past the dispatcher's own asking, the request waits for a token...
        await asyncio.wait_for(rig.budget.waiting.wait(), TIMEOUT)
        assert rig.lease.asked == asked + 1
        # ...and the lease lapses meanwhile, as it does for a process frozen there.
        rig.lease.valid = False
        rig.budget.release.set()
        await eventually(
            lambda: withheld.is_set() or outcomes, message="the submit withheld or answered"
        )
    finally:
        await dispatcher.stop()

    assert withheld.is_set()
    assert outcomes == []  # withheld: neither answered, nor refused, nor ambiguous
    assert rig.lease.asked > asked + 1  # asked again as the request left: no
    assert await rig.requests(CREATE) == []
    assert rig.sim.order(order_link_id=request.client_order_id) is None


async def test_a_submit_asks_the_lease_as_it_leaves_and_goes_while_it_holds(rig):
    request = order()
    asked = rig.lease.asked

    await rig.venue.submit_order(request)

    assert rig.lease.asked > asked
    assert len(await rig.requests(CREATE)) == 1
    assert rig.sim.order(order_link_id=request.client_order_id) is not None


async def test_after_the_lease_lapses_no_cancel_amend_or_query_leaves(rig):
    request = order()
    await rig.venue.submit_order(request)  # resting: the lease still held
    rig.lease.valid = False

    with pytest.raises(JournalFenced):
        await rig.venue.cancel_order(ACCOUNT, SYMBOL, request.client_order_id)
    with pytest.raises(JournalFenced):
        await rig.venue.replace_order(
            ACCOUNT, SYMBOL, request.client_order_id, D("0.020"), D("49000.0"), None
        )
    with pytest.raises(JournalFenced):
        await rig.venue.get_order(ACCOUNT, SYMBOL, request.client_order_id)

    assert await rig.requests(CANCEL) == []
    assert await rig.requests(AMEND) == []
    resting = rig.sim.order(order_link_id=request.client_order_id)
    assert resting is not None
    assert (resting.status, resting.qty) == (BybitStatus.NEW, D("0.010"))
