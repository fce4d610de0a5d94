"""A bug or a malformed request answers Bybit's way; the server keeps serving."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from tests.integration.simulators.bybit.support import PrivateReader, private_reader

from ordergate.simulators.bybit import RetCode
from ordergate.simulators.bybit.faults import FaultPlan
from ordergate.simulators.bybit.params import Params
from ordergate.simulators.bybit.ratelimit import RateLimiter
from ordergate.simulators.bybit.rest import RestApi, Route


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def broken(params: Params) -> object:
    raise RuntimeError("a bug in a route")


def fine(params: Params) -> object:
    return {}


async def test_unexpected_route_error_answers_10016_and_the_server_serves_on(session):
    app = web.Application()
    rest = RestApi(
        [Route("GET", "/v5/broken", False, broken), Route("GET", "/v5/fine", False, fine)],
        api_key="k",
        api_secret="s",
        faults=FaultPlan(0),
        limiter=RateLimiter({}, lambda: 0),
        clock=lambda: 1_700_000_000_000_000_000,
        withhold_seconds=1.0,
    )
    rest.install(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with session.get(f"{base}/v5/broken") as response:
            failed = await response.json()
        async with session.get(f"{base}/v5/fine") as response:
            healthy = await response.json()
    finally:
        await runner.cleanup()

    assert (failed["retCode"], failed["result"]) == (RetCode.SERVER_ERROR, {})
    assert healthy["retCode"] == 0


async def test_malformed_body_and_unknown_path_are_refused(sim, raw, session):
    headers = raw.headers("{not json")
    async with session.post(
        f"{raw.base}/v5/order/create", data="{not json", headers=headers
    ) as response:
        malformed = await response.json()
    async with session.get(f"{raw.base}/v5/no/such/path") as response:
        status = response.status

    assert malformed["retCode"] == RetCode.PARAMS_ERROR
    assert status == 404


async def test_malformed_stream_requests_are_answered_and_the_connection_lives(sim, session):
    reader: PrivateReader = await private_reader(session, sim, "order")

    await reader.ws.send_str("{not json")
    await reader.send({"op": "subscribe", "req_id": "odd", "args": [{"topic": "order"}]})
    await reader.send({"op": "teleport"})
    await reader.send({"op": "ping", "req_id": "p"})
    await reader.next_where(lambda m: m.get("op") == "pong")
    await reader.close()

    failures = [m for m in reader.messages if m.get("success") is False]
    assert [m["op"] for m in failures] == ["", "subscribe", "teleport"]
    assert sim.subscriptions() == frozenset()  # the reader closed; nothing else subscribed
