"""Arming live trading: a live venue refuses new orders until an operator confirms
`ARM <account> ON <venue>`; the arming is journaled and survives a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from engine_support import ACCOUNT, ScriptedVenue, Sessions
from gates_support import assert_denied, assert_sent, fresh_market, order, placed, start

from ordergate.domain.errors import Conflict, InvalidRequest
from ordergate.domain.events import TradingArmed
from ordergate.domain.reasons import ReasonCode
from ordergate.engine.commands import ArmTrading

R = ReasonCode
OTHER = "acct-b"


@dataclass
class MainnetVenue(ScriptedVenue):
    """The same fake under another venue name."""

    @property
    def name(self) -> str:
        return "mainnet"


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


async def live(sessions: Sessions, **kw):
    market = fresh_market()
    return await start(
        sessions, market=market, venue=ScriptedVenue(market, live=True), fund=(ACCOUNT, OTHER), **kw
    )


def arming(account: str = ACCOUNT, venue: str = "fake") -> ArmTrading:
    return ArmTrading(account, venue, f"ARM {account} ON {venue}", "ops")


async def test_arming_live_venue_denies_orders_until_armed(sessions):
    h = await live(sessions)
    before = await placed(h, order(qty="0.01"))

    await h.engine.arm(arming())
    after = await placed(h, order(qty="0.01"))

    assert_denied(h, before, R.NOT_ARMED)
    assert_sent(h, after)


async def test_arming_is_per_account(sessions):
    h = await live(sessions)
    await h.engine.arm(arming())

    other = await placed(h, order(qty="0.01", account=OTHER))

    assert_denied(h, other, R.NOT_ARMED)


async def test_arming_journaled_with_actor_and_venue(sessions):
    h = await live(sessions)

    gates = await h.engine.arm(arming())

    [armed] = h.events(TradingArmed)
    assert (armed.account, armed.venue, armed.actor) == (ACCOUNT, "fake", "ops")
    assert gates.armed == (armed,)
    assert h.engine.gates.armed == (armed,)


@pytest.mark.parametrize(
    "confirmation",
    [
        "ARM acct ON fakE",
        "arm acct on fake",
        "ARM acct ON fake ",
        "ARM acct-b ON fake",
        "ARM acct",
        "",
    ],
)
def test_arming_wrong_confirmation_refused(confirmation):
    with pytest.raises(InvalidRequest) as refused:
        ArmTrading(ACCOUNT, "fake", confirmation, "ops")

    assert refused.value.code == "ARM_CONFIRMATION"
    assert "ARM acct ON fake" in refused.value.message


async def test_arming_wrong_venue_refused_and_nothing_journaled(sessions):
    h = await live(sessions)
    journaled = len(h.events())

    with pytest.raises(Conflict) as refused:
        await h.engine.arm(arming(venue="binance"))
    await h.settle()

    assert refused.value.code == "ARM_WRONG_VENUE"
    assert len(h.events()) == journaled
    assert_denied(h, await placed(h, order(qty="0.01")), R.NOT_ARMED)


async def test_arming_survives_restart(sessions):
    h = await live(sessions)
    await h.engine.arm(arming())

    again = await sessions.restart(h, watch_interval=None)
    view = await placed(again, order(qty="0.01"))

    assert_sent(again, view)
    assert [a.account for a in again.engine.gates.armed] == [ACCOUNT]


async def test_arming_paper_venue_needs_none(sessions):
    h = await start(sessions)

    view = await placed(h, order(qty="0.01"))

    assert not h.engine.venue_live
    assert_sent(h, view)


async def test_arming_on_one_venue_does_not_arm_another_after_restart(sessions):
    h = await live(sessions)
    await h.engine.arm(arming())
    await h.engine.stop()
    state = await h.replayed()
    state.take_changes()

    mainnet = await sessions.start(
        venue=MainnetVenue(h.market, live=True),
        journal=h.journal,
        market=h.market,
        clock=h.clock,
        state=state,
        fund=(),
        watch_interval=None,
    )
    view = await placed(mainnet, order(qty="0.01"))

    assert_denied(mainnet, view, R.NOT_ARMED)
