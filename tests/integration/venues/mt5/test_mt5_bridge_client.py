"""ordergate's bridge client against the EA simulator on real sockets: Lazy Pirate makes
a lost or unanswered command happen once, an EA that stays silent is an ambiguity for a
command that may have changed something and a retry for a read, reply errors become
ordergate's venue errors, and the event stream is whole and in order under every PUB
fault, with a restart announced so the caller can take a snapshot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from tests.mt5_support import running_simulator

from ordergate.domain.errors import AmbiguousVenueError, RejectedByVenue, RetryableVenueError
from ordergate.domain.reasons import ReasonCode
from ordergate.simulators.mt5.server import Mt5Simulator
from ordergate.venues.mt5.client import BridgeClient, Restarted

D = Decimal


@pytest.fixture
async def sim() -> AsyncIterator[Mt5Simulator]:
    async with running_simulator() as simulator:
        yield simulator


@pytest.fixture
async def client(sim: Mt5Simulator) -> AsyncIterator[BridgeClient]:
    bridge = BridgeClient(sim.rep_url, sim.pub_url, timeout=0.3, attempts=3)
    await bridge.connect()
    yield bridge
    bridge.close()


def market(coid: str, volume: str = "0.10") -> dict[str, Any]:
    return {
        "client_order_id": coid,
        "symbol": "EURUSD",
        "side": "buy",
        "type": "market",
        "volume": volume,
    }


async def collect(client: BridgeClient, until_seq: int) -> list[Any]:
    seen: list[Any] = []
    async for item in client.events():
        seen.append(item)
        if isinstance(item, Restarted) or item["seq"] >= until_seq:
            return seen
    raise AssertionError("the stream ended")


async def test_a_lost_reply_and_a_silent_ea_each_make_one_order(
    sim: Mt5Simulator, client: BridgeClient
):
    sim.lose_replies(1)
    first = await client.call("submit_order", **market("m1"))
    sim.silence(1)
    second = await client.call("submit_order", **market("m2"))

    assert (first["duplicate"], second["duplicate"]) == (True, False)
    assert client.resends == 2
    assert len(sim.trade_server.deals) == 2


async def test_an_ea_silent_to_every_attempt_is_ambiguous_for_a_change_and_retryable_for_a_read(
    sim: Mt5Simulator, client: BridgeClient
):
    sim.silence(3)
    with pytest.raises(AmbiguousVenueError):
        await client.call("submit_order", **market("m1"))
    sim.silence(3)
    with pytest.raises(RetryableVenueError):
        await client.call("get_positions")

    # The client works on afterwards, and the order was never sent.
    assert await client.call("get_positions") == {"positions": []}
    assert sim.trade_server.deals == []


async def test_reply_errors_become_venue_errors(sim: Mt5Simulator, client: BridgeClient):
    with pytest.raises(RejectedByVenue) as refused:
        await client.call("submit_order", **market("m1", volume="0.015"))
    assert refused.value.code == ReasonCode.VENUE_REJECTED
    assert "TRADE_RETCODE_INVALID_VOLUME" in str(refused.value)
    with pytest.raises(RejectedByVenue) as poor:
        await client.call("submit_order", **market("m2", volume="20"))
    assert poor.value.code == ReasonCode.VENUE_INSUFFICIENT_MARGIN
    with pytest.raises(RejectedByVenue) as missing:
        await client.call("get_order", client_order_id="nope")
    assert missing.value.code == ReasonCode.VENUE_ORDER_NOT_FOUND
    sim.inject_retcode(10024)  # TOO_MANY_REQUESTS: not sent
    with pytest.raises(RetryableVenueError):
        await client.call("submit_order", **market("m3"))
    sim.inject_retcode(10012)  # TIMEOUT: carried out, the answer lost
    with pytest.raises(AmbiguousVenueError):
        await client.call("submit_order", **market("m4"))
    assert (await client.call("submit_order", **market("m4")))["duplicate"] is True


@pytest.mark.parametrize("fault", ["drop_events", "duplicate_events", "swap_events"])
async def test_the_event_stream_is_whole_and_in_order_under_each_pub_fault(
    sim: Mt5Simulator, client: BridgeClient, fault: str
):
    getattr(sim, fault)(2)
    for n in range(3):
        await client.call("submit_order", **market(f"m{n}"))
    last = sim.ea.last_seq

    events = await collect(client, last)

    assert [e["seq"] for e in events] == list(range(1, last + 1))
    assert sum(1 for e in events if e["type"] == "fill") == 3


async def test_a_restart_is_announced_and_the_stream_resumes_in_the_new_session(
    sim: Mt5Simulator, client: BridgeClient
):
    await client.call("submit_order", **market("m1"))
    before = await collect(client, sim.ea.last_seq)
    sim.restart()
    await client.call("submit_order", **market("m2"))

    announced = await collect(client, 10**9)
    hello = await client.resume()
    await client.call("submit_order", **market("m3"))
    after = await collect(client, sim.ea.last_seq)

    assert announced == [Restarted(hello["session"])]
    assert {e["session"] for e in before} != {e["session"] for e in after}
    assert [e["deal"]["client_order_id"] for e in after if e["type"] == "fill"] == ["m3"]


async def test_the_venue_follows_the_brokers_clock_change_without_an_ea_restart():
    from tests.waiting import eventually

    from ordergate.venues.mt5 import Mt5Config, Mt5Venue

    async with running_simulator(gmt_offset_s=7200) as sim:
        venue = Mt5Venue(
            Mt5Config(
                account="a", rep_url=sim.rep_url, pub_url=sim.pub_url, clock_check_interval=0.02
            )
        )
        await venue.connect()
        try:
            assert venue.server_offset_s == 7200
            sim.shift_clock(10800)  # the broker's summer time

            await eventually(lambda: venue.server_offset_s == 10800)
            assert sim.fired == []  # no restart, no fault
        finally:
            await venue.disconnect()
