"""The EA simulator on real ZeroMQ sockets, driven by a bare pyzmq client as any client
written from docs/mt5-bridge.md would: REQ for commands with Lazy Pirate resends, SUB for
events. Under each socket fault the order is placed once and every event can be had
back, by `events_since` within a session and by a snapshot across an EA restart."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import jsonschema_rs
import pytest
import zmq
import zmq.asyncio
from tests.mt5_support import running_simulator

from ordergate.matching import Bar, BarSeries, ReplayFeed
from ordergate.protocols.mt5 import schema
from ordergate.simulators.mt5.server import Mt5Simulator

D = Decimal
VALID = jsonschema_rs.validator_for(schema())
TIMEOUT_MS = 300  # the client's reply timeout before it resends (Lazy Pirate)
_ids = itertools.count(1)


class Client:
    """A minimal bridge client: one REQ socket (reopened after a timeout), one SUB."""

    def __init__(self, sim: Mt5Simulator) -> None:
        self.sim = sim
        self.context = zmq.asyncio.Context()
        self.req = self._open_req()
        self.sub = self.context.socket(zmq.SUB)
        self.sub.setsockopt(zmq.LINGER, 0)
        self.sub.setsockopt(zmq.SUBSCRIBE, b"evt.")
        self.sub.connect(sim.pub_url)
        self.events: list[dict[str, Any]] = []
        self.resends = 0

    def _open_req(self) -> zmq.asyncio.Socket:
        sock = self.context.socket(zmq.REQ)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self.sim.rep_url)
        return sock

    async def call(self, cmd: str, attempts: int = 3, **args: Any) -> dict[str, Any]:
        frame = {"v": 1, "req_id": f"q{next(_ids)}", "cmd": cmd, "args": args}
        payload = json.dumps(frame).encode()
        for _ in range(attempts):
            await self.req.send(payload)
            if await self.req.poll(TIMEOUT_MS) & zmq.POLLIN:
                reply = json.loads(await self.req.recv())
                assert VALID.is_valid(reply), reply
                assert reply["req_id"] == frame["req_id"]
                return reply
            self.resends += 1  # Lazy Pirate: a stuck REQ socket is closed, a new one resends
            self.req.close(linger=0)
            self.req = self._open_req()
        raise AssertionError(f"no reply to {cmd} after {attempts} attempts")

    async def next_event(self, kind: str | None = None) -> dict[str, Any]:
        while True:
            assert await self.sub.poll(5000) & zmq.POLLIN, f"no {kind or 'event'} published"
            topic, payload = await self.sub.recv_multipart()
            frame = json.loads(payload)
            assert VALID.is_valid(frame), frame
            assert topic.decode() == f"evt.{frame['type']}"
            if frame["type"] != "heartbeat":
                self.events.append(frame)
            if kind is None or frame["type"] == kind:
                return frame

    async def subscribed(self) -> None:
        """Wait until the SUB socket receives (PUB drops what a late subscriber misses)."""
        await self.next_event("heartbeat")

    async def drain_until(self, last_seq: int) -> None:
        while not self.events or self.events[-1]["seq"] < last_seq:
            await self.next_event()

    def close(self) -> None:
        self.req.close(linger=0)
        self.sub.close(linger=0)
        self.context.term()


@pytest.fixture
async def sim() -> AsyncIterator[Mt5Simulator]:
    async with running_simulator() as simulator:
        yield simulator


@pytest.fixture
async def client(sim: Mt5Simulator) -> AsyncIterator[Client]:
    bridge = Client(sim)
    await bridge.subscribed()
    yield bridge
    bridge.close()


def market(coid: str, side: str = "buy") -> dict[str, Any]:
    return {
        "client_order_id": coid,
        "symbol": "EURUSD",
        "side": side,
        "type": "market",
        "volume": "0.10",
    }


async def test_a_market_order_is_answered_and_its_fill_published(client: Client):
    hello = await client.call("hello", versions=[1])
    placed = await client.call("submit_order", **market("m1"))

    fill = await client.next_event("fill")
    assert hello["result"]["session"] == placed["session"]
    assert (placed["ok"], placed["result"]["state"]) == (True, "filled")
    assert (fill["deal"]["ticket"], fill["deal"]["client_order_id"]) == (
        placed["result"]["deal"],
        "m1",
    )


async def test_a_lost_reply_is_resent_and_the_order_placed_once(sim: Mt5Simulator, client: Client):
    sim.lose_replies(1)

    placed = await client.call("submit_order", **market("m1"))

    assert client.resends == 1
    assert placed["result"]["duplicate"] is True
    assert len(sim.trade_server.deals) == 1


async def test_an_ea_that_never_answers_is_resent_and_carries_it_out_once(
    sim: Mt5Simulator, client: Client
):
    sim.silence(1)

    placed = await client.call("submit_order", **market("m1"))

    assert (client.resends, placed["result"]["duplicate"]) == (1, False)
    assert len(sim.trade_server.deals) == 1


async def test_a_dropped_event_is_seen_as_a_gap_and_had_back(sim: Mt5Simulator, client: Client):
    await client.call("submit_order", **market("m1"))
    first = await client.next_event("fill")
    sim.drop_events(1)  # the next fill
    reply = await client.call("submit_order", **market("m2"))
    await client.drain_until(reply["last_seq"])

    seen = [e["seq"] for e in client.events]
    missing = sorted(set(range(first["seq"], reply["last_seq"] + 1)) - set(seen))
    back = await client.call("events_since", seq=missing[0] - 1)

    assert len(missing) == 1
    assert back["result"]["complete"] is True
    assert back["result"]["events"][0]["seq"] == missing[0]
    assert back["result"]["events"][0]["type"] == "fill"


async def test_duplicated_and_swapped_events_keep_their_numbers(sim: Mt5Simulator, client: Client):
    sim.duplicate_events(1)
    sim.swap_events(1)
    reply = await client.call("submit_order", **market("m1"))
    await client.drain_until(reply["last_seq"])

    seqs = [e["seq"] for e in client.events]
    assert sorted(set(seqs)) == list(range(1, reply["last_seq"] + 1))
    assert len(seqs) > len(set(seqs)) or seqs != sorted(seqs)


async def test_after_an_ea_restart_a_repeat_is_still_a_duplicate(sim: Mt5Simulator, client: Client):
    before = await client.call("submit_order", **market("m1"))

    sim.restart()
    again = await client.call("submit_order", **market("m1"))
    gone = await client.call("events_since", seq=before["last_seq"])

    assert again["session"] != before["session"]
    assert (again["result"]["duplicate"], again["result"]["ticket"]) == (
        True,
        before["result"]["ticket"],
    )
    assert gone["result"]["complete"] is False  # another session: take a snapshot
    assert len(sim.trade_server.deals) == 1


async def test_a_timeout_carries_the_order_out_and_a_repeat_finds_it(
    sim: Mt5Simulator, client: Client
):
    sim.inject_retcode(10012)  # TRADE_RETCODE_TIMEOUT

    lost = await client.call("submit_order", **market("m1"))
    found = await client.call("submit_order", **market("m1"))

    assert (lost["error"]["code"], lost["error"]["retcode"]) == ("UNKNOWN_OUTCOME", 10012)
    assert found["result"]["duplicate"] is True
    assert len(sim.trade_server.deals) == 1


async def test_a_requote_sends_nothing_and_carries_the_new_prices(
    sim: Mt5Simulator, client: Client
):
    sim.inject_retcode(10004)

    requoted = await client.call("submit_order", **market("m1"))

    assert (requoted["error"]["code"], requoted["error"]["ask"]) == ("REJECTED", "1.10002")
    assert sim.trade_server.deals == []


async def test_a_replay_ticks_the_market_through_each_bar_on_the_symbols_digits(
    sim: Mt5Simulator, client: Client
):
    bars = [
        Bar(1_704_196_800_000_000_000 + i * 60_000_000_000, D(o), D(h), D(lo), D(c))
        for i, (o, h, lo, c) in enumerate(
            [("1.100001", "1.1002", "1.0999", "1.1001"), ("1.1001", "1.1003", "1.1000", "1.10024")]
        )
    ]
    resting = await client.call(
        "submit_order",
        client_order_id="l1",
        symbol="EURUSD",
        side="sell",
        type="limit",
        volume="0.10",
        price="1.10025",
    )

    await sim.replay(ReplayFeed({"EURUSD": BarSeries(bars)}), bars_per_second=1000)

    tick = sim.trade_server.last_tick("EURUSD")
    assert tick is not None
    assert (tick.bid, tick.time) == (D("1.10024"), 1_704_196_920_000)
    order = sim.trade_server.orders[resting["result"]["ticket"]]
    assert order.state == "filled"  # the second bar's high, 1.1003, reached 1.10025
