"""Driving a simulator from outside: the /sim control routes, replay mode, and the CLI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from tests.integration.simulators.bybit.support import D, RawBybit
from tests.waiting import TIMEOUT, eventually

from ordergate.simulators.bybit import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    BybitSimulator,
    FaultKind,
    SimulatorConfig,
)
from ordergate.simulators.bybit.process import simulator_process


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def test_control_routes_set_quotes_and_read_the_truth(sim, raw, session):
    base = f"{sim.rest_url}/sim"
    async with session.post(
        f"{base}/quote", json={"symbol": "BTCUSDT", "bid": "42000", "ask": "42000.5"}
    ) as r:
        assert r.status == 200
    await raw.create(symbol="BTCUSDT", side="Sell", orderType="Market", qty="0.01", orderLinkId="x")

    async with session.get(f"{base}/orders") as r:
        (order,) = (await r.json())["orders"]
    async with session.get(f"{base}/executions") as r:
        (execution,) = (await r.json())["executions"]
    async with session.get(f"{base}/positions") as r:
        (position,) = (await r.json())["positions"]
    async with session.get(f"{base}/wallet") as r:
        wallet = (await r.json())["wallet"]

    assert (order["orderLinkId"], order["orderStatus"]) == ("x", "Filled")
    assert (execution["execPrice"], execution["seq"]) == ("42000.00", 1)
    assert (position["symbol"], position["side"], position["size"]) == ("BTCUSDT", "Sell", "0.010")
    assert wallet["accountType"] == "UNIFIED"


async def test_control_routes_add_list_and_clear_faults(sim, session):
    base = f"{sim.rest_url}/sim"
    rule = {"kind": "http_error", "scope": "/v5/market/time", "count": 1, "status": 502}

    async with session.post(f"{base}/faults", json=rule) as r:
        assert r.status == 200
    async with session.get(f"{sim.rest_url}/v5/market/time") as r:
        assert r.status == 502
    async with session.post(f"{base}/faults", json={"kind": "latency", "delay": 0.01}) as r:
        assert r.status == 200
    async with session.get(f"{base}/faults") as r:
        listed = await r.json()
    async with session.delete(f"{base}/faults") as r:
        assert r.status == 200

    assert [rule["kind"] for rule in listed["rules"]] == ["latency"]
    assert listed["fired"] == [
        {"kind": "http_error", "scope": "/v5/market/time", "target": "/v5/market/time"}
    ]
    assert sim.faults.rules() == []


@pytest.mark.parametrize(
    "body",
    [
        {"symbol": "XYZUSDT", "bid": "1", "ask": "2"},
        {"symbol": "BTCUSDT", "bid": "2", "ask": "1"},
        {"symbol": "BTCUSDT", "bid": "abc", "ask": "1"},
    ],
    ids=["unknown-symbol", "crossed", "not-a-number"],
)
async def test_control_refuses_a_bad_quote_with_400(sim, session, body):
    async with session.post(f"{sim.rest_url}/sim/quote", json=body) as r:
        assert r.status == 400
        assert "error" in await r.json()


async def test_control_sets_the_size_an_oversized_fault_pads_to(sim, session):
    rule = {"kind": "ws_oversized", "scope": "execution", "size": 4096}
    async with session.post(f"{sim.rest_url}/sim/faults", json=rule) as r:
        assert r.status == 200
    async with session.get(f"{sim.rest_url}/sim/faults") as r:
        [listed] = (await r.json())["rules"]

    assert (listed["kind"], listed["scope"], listed["size"]) == ("ws_oversized", "execution", 4096)
    [(added, _)] = sim.faults.rules()
    assert added.size == 4096


async def test_control_refuses_a_bad_fault_with_400(sim, session):
    async with session.post(f"{sim.rest_url}/sim/faults", json={"kind": "meteor"}) as r:
        assert r.status == 400
    oversized = {"kind": "oversized", "size": 0}
    async with session.post(f"{sim.rest_url}/sim/faults", json=oversized) as r:
        assert r.status == 400


async def test_control_drops_private_connections(sim, exchange, session):
    watching = asyncio.create_task(exchange.watch_orders())
    await eventually(lambda: "order" in sim.subscriptions(), message="the subscription")
    async with session.get(f"{sim.rest_url}/sim/ws/topics") as r:
        assert (await r.json())["topics"] == ["order"]

    async with session.post(f"{sim.rest_url}/sim/ws/drop") as r:
        assert r.status == 200

    with pytest.raises(Exception, match="closed"):
        await asyncio.wait_for(watching, TIMEOUT)


async def test_replay_mode_moves_btcusdt_from_the_bundled_bars(session):
    config = SimulatorConfig(market="replay", replay_bars_per_second=200.0)
    async with BybitSimulator(config) as sim:
        raw = RawBybit(session, sim)
        await eventually(lambda: _last(sim, "BTCUSDT") is not None, message="the first bar")
        first = _last(sim, "BTCUSDT")
        await eventually(lambda: _last(sim, "BTCUSDT") != first, message="a later bar")
        answer = await raw.public("/v5/market/tickers", {"category": "linear"})
        btc, eth = answer["result"]["list"]
        filled = await raw.create(symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.001")

        assert D(btc["lastPrice"]) > 0
        assert eth["lastPrice"] == ""  # no data: only manual quotes move it
        assert filled["retCode"] == 0
        assert sim.positions()[0].size == D("0.001")


def _last(sim: BybitSimulator, symbol: str):
    quote = sim.quote(symbol)
    return None if quote is None else quote.last


async def test_cli_serves_a_simulator_driven_over_http(session, unused_tcp_port):
    async with simulator_process(unused_tcp_port, "--market", "manual") as sim:
        quote = {"symbol": "ETHUSDT", "bid": "2500", "ask": "2500.1"}
        async with session.post(f"{sim.rest_url}/sim/quote", json=quote) as r:
            assert r.status == 200
        async with session.get(
            f"{sim.rest_url}/v5/market/tickers?category=linear&symbol=ETHUSDT"
        ) as r:
            (ticker,) = (await r.json())["result"]["list"]

    assert ticker["bid1Price"] == "2500.00"
    assert sim.api_credentials == (DEFAULT_API_KEY, DEFAULT_API_SECRET)
    assert (DEFAULT_API_KEY, DEFAULT_API_SECRET) == ("ordergate-sim-key", "ordergate-sim-secret")


async def test_cli_without_rate_limits_answers_a_burst_over_bybits_limit(session, unused_tcp_port):
    async with simulator_process(unused_tcp_port, "--market", "manual", "--no-rate-limits") as sim:
        raw = RawBybit(session, sim)  # type: ignore[arg-type]
        query = {"category": "linear", "symbol": "BTCUSDT"}
        answers = await asyncio.gather(*(raw.get("/v5/order/realtime", query) for _ in range(80)))

    assert {answer["retCode"] for answer, _ in answers} == {0}  # Bybit allows 50 a second


def test_fault_kinds_are_named_for_the_control_api():
    assert {kind.value for kind in FaultKind} == {
        "latency",
        "http_error",
        "rate_limit",
        "lost_response",
        "ws_drop",
        "ws_duplicate",
        "ws_reorder",
        "ws_withhold",
        "not_json",
        "truncated",
        "oversized",
        "ws_not_json",
        "ws_truncated",
        "ws_oversized",
    }


async def test_the_simulator_logs_who_sent_each_request(sim, session):
    base = sim.rest_url
    headers = {"X-Ordergate-Node": "node-7"}
    async with session.get(f"{base}/v5/market/time", headers=headers) as r:
        assert r.status == 200
    async with session.get(f"{base}/v5/market/time") as r:
        assert r.status == 200

    async with session.get(f"{base}/sim/requests", params={"path": "/v5/market/time"}) as r:
        seen = (await r.json())["requests"]

    assert [(s["method"], s["client"]) for s in seen] == [("GET", "node-7"), ("GET", None)]
    assert seen[0]["ms"] <= seen[1]["ms"]
