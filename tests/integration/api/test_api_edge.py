"""The route guard and the one error shape, in process (the server's own limits are
tried against `ordergate serve` in tests/e2e/test_hostile_input.py).

Each request's body is a generator that notes when it is read: a request the guard
refuses before the body must leave it unread.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.fakes import FakeClock
from tests.integration.api.support import Api, make_settings, running
from tests.integration.auth.auth_support import headers, new_key, refusal
from tests.waiting import eventually

from ordergate.api.app import create_app
from ordergate.api.auth import PUBLIC_PATHS
from ordergate.auth.keys import Scope
from ordergate.auth.verifier import KeyVerifier

ORDER = {"symbol": "EURUSD", "side": "BUY", "qty": "0.10", "type": "MARKET"}


class WatchedBody:
    """A request body streamed in `chunks`; `read` says whether the app took any of it."""

    def __init__(self, *chunks: bytes, hold: asyncio.Event | None = None) -> None:
        self.chunks = chunks
        self.read = False
        self.hold = hold

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.read = True
        for chunk in self.chunks:
            yield chunk
        if self.hold is not None:
            await self.hold.wait()


@pytest.fixture
async def api(market: Path) -> AsyncIterator[Api]:
    settings = make_settings(market, api_auth_failure_burst=1000)  # one client asks much
    async with running(settings, scope=None) as client:
        yield client


def operations(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every operation of the OpenAPI document, path parameters filled."""
    found = []
    for path, item in app.openapi()["paths"].items():
        concrete = path.replace("{", "").replace("}", "")
        found.extend((method.upper(), concrete) for method in item)
    return found


async def test_every_keyed_route_refuses_a_keyless_request_without_reading_its_body(
    api: Api,
) -> None:
    """No route, present or added later through `guarded_router()`, reads before the key."""
    checked = 0
    for method, path in operations(api.app):
        if path in PUBLIC_PATHS:
            continue
        body = WatchedBody(b'{"symbol": ')
        response = await api.http.request(
            method, path, content=body, headers={"content-type": "application/json"}
        )
        assert refusal(response) == (401, "API_KEY_MISSING"), (method, path)
        assert not body.read, (method, path)
        checked += 1
    assert checked >= 27  # every keyed operation the API has today


async def test_a_body_over_the_limit_refused_413_once_counted_not_buffered(api: Api) -> None:
    key = new_key(api, Scope.TRADE)
    body = WatchedBody(*(b" " * 16_384 for _ in range(64)))  # 1 MiB, chunked: no length

    response = await api.http.post(
        "/v1/orders", content=body, headers={**headers(key), "content-type": "application/json"}
    )

    assert refusal(response) == (413, "BODY_TOO_LARGE")


async def test_a_declared_length_over_the_limit_refused_before_a_byte_is_read(
    api: Api,
) -> None:
    key = new_key(api, Scope.TRADE)
    body = WatchedBody(b"x" * 70_000)

    response = await api.http.post(
        "/v1/orders",
        content=body,
        headers={**headers(key), "content-type": "application/json", "content-length": "70000"},
    )

    assert refusal(response) == (413, "BODY_TOO_LARGE")
    assert not body.read


async def test_a_route_group_limit_applies_to_its_routes_only(market: Path) -> None:
    settings = make_settings(market, api_body_limits={"/v1/admin": 1024})
    async with running(settings) as api:
        padded = {"state": "HALTED", "reason": "x" * 150, "pad": [0] * 600}
        admin = await api.http.post("/v1/admin/state", json=padded)
        order = await api.http.post("/v1/orders", json={**ORDER, "pad": [0] * 600})

    assert refusal(admin) == (413, "BODY_TOO_LARGE")
    assert order.status_code != 413


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b'{"symbol": "EURUSD", "symbol": "BTCUSDT", "side": "BUY"}', "JSON_DUPLICATE_KEY"),
        (b"[" * 40_000 + b"]" * 20_000, "JSON_TOO_DEEP"),
        (b'{"symbol": "EUR\\u0000USD"}', "CONTROL_CHARACTER"),
        (b'{"symbol": "\xc3\x28"}', "BODY_NOT_UTF8"),
        (b'{"symbol": ', "JSON_INVALID"),
    ],
)
async def test_a_body_that_cannot_be_read_refused_422_with_its_reason(
    api: Api, content: bytes, code: str
) -> None:
    key = new_key(api, Scope.TRADE)

    response = await api.http.post(
        "/v1/orders", content=content, headers={**headers(key), "content-type": "application/json"}
    )

    assert refusal(response) == (422, code)
    assert response.headers["x-trace-id"]


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("/v1/orders?symbol=EUR%00USD", "CONTROL_CHARACTER"),
        ("/v1/orders/abc%0Adef", "CONTROL_CHARACTER"),
        ("/v1/orders?symbol=%FF", "NOT_UTF8"),
        ("/v1/orders/%C3%28", "NOT_UTF8"),
    ],
)
async def test_a_path_or_query_with_a_control_character_or_bad_utf8_refused(
    api: Api, url: str, code: str
) -> None:
    key = new_key(api, Scope.READ)

    response = await api.http.get(url, headers=headers(key))

    assert refusal(response) == (422, code)


async def test_framework_answers_take_the_one_error_shape_and_echo_the_trace_id(
    api: Api,
) -> None:
    unknown = await api.http.get("/v1/nothing-here", headers={"X-Trace-Id": "t-404"})
    wrong_method = await api.http.delete("/health", headers={"X-Trace-Id": "t-405"})

    assert refusal(unknown) == (404, "ROUTE_NOT_FOUND")
    assert unknown.headers["x-trace-id"] == "t-404"
    assert refusal(wrong_method) == (405, "METHOD_NOT_ALLOWED")
    assert wrong_method.headers["x-trace-id"] == "t-405"
    assert "GET" in wrong_method.headers["allow"]


async def test_an_escaped_exception_is_500_internal_error_with_the_trace_id(market: Path) -> None:
    app = create_app(make_settings(market))

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://ordergate.test") as client,
    ):
        key = app.state.application.keys.create(Scope.READ, "t", actor="tests").plaintext
        response = await client.get("/boom", headers={"X-API-Key": key, "X-Trace-Id": "t-500"})

    assert refusal(response) == (500, "INTERNAL_ERROR")
    assert response.headers["x-trace-id"] == "t-500"
    assert "a bug" not in response.text


async def test_failed_key_attempts_from_one_address_then_429_unless_a_key_in_use(
    market: Path,
) -> None:
    settings = make_settings(market, api_auth_failure_burst=3, api_auth_failure_rate=0.001)
    async with running(settings, scope=None) as api:
        # The key cache on a clock the test holds still: "a moment ago" on a slow machine.
        access = api.app.state.edge.access
        access.verifier = KeyVerifier(api.application.keys, clock=FakeClock())
        in_use, unused = new_key(api, Scope.READ), new_key(api, Scope.READ)
        assert (await api.http.get("/v1/account", headers=headers(in_use))).status_code == 200
        misses = [
            await api.http.get("/v1/account", headers={"X-API-Key": "og_nope_nope"})
            for _ in range(3)
        ]
        blocked_bad = await api.http.get("/v1/account", headers={"X-API-Key": "og_nope_nope"})
        blocked_unused = await api.http.get("/v1/account", headers=headers(unused))
        still_trading = await api.http.get("/v1/account", headers=headers(in_use))
        health = await api.http.get("/health")

    assert [refusal(r) for r in misses] == [(401, "API_KEY_INVALID")] * 3
    assert refusal(blocked_bad) == (429, "AUTH_FAILURES")
    assert int(blocked_bad.headers["retry-after"]) >= 1
    # A valid key not verified in the last second is not looked up either: guessing one
    # right while blocked learns nothing.
    assert refusal(blocked_unused) == (429, "AUTH_FAILURES")
    assert still_trading.status_code == 200  # the key verified a moment ago (cached)
    assert health.status_code == 200  # public routes are not keyed, so never blocked


async def test_requests_in_flight_over_the_cap_503_server_busy(market: Path) -> None:
    async with running(make_settings(market, api_max_in_flight=1)) as api:
        hold = asyncio.Event()
        slow = WatchedBody(b'{"symbol": "EURUSD", ', hold=hold)
        first = asyncio.create_task(
            api.http.post("/v1/orders", content=slow, headers={"content-type": "application/json"})
        )
        await eventually(lambda: slow.read)
        busy = await api.http.get("/v1/account")
        health = await api.http.get("/health")
        hold.set()
        await first
        after = await api.http.get("/v1/account")

    assert refusal(busy) == (503, "SERVER_BUSY")
    assert busy.headers["retry-after"] == "1"
    assert health.status_code == 200
    assert after.status_code == 200


async def test_a_body_that_does_not_arrive_in_time_408_body_timeout(market: Path) -> None:
    async with running(make_settings(market, api_body_timeout_seconds=0.2)) as api:
        never = WatchedBody(b'{"symbol": ', hold=asyncio.Event())
        response = await api.http.post(
            "/v1/orders", content=never, headers={"content-type": "application/json"}
        )
        after = await api.http.get("/v1/account")

    assert refusal(response) == (408, "BODY_TIMEOUT")
    assert after.status_code == 200  # the place in flight was given back
