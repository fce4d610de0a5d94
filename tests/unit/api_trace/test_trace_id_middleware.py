"""`X-Trace-Id` on the way in and out: taken or made, bound to the logs, refused if malformed.

The middleware runs in front of a real (tiny) Starlette app that reports what it saw.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ordergate.api.trace_ids import MAX_TRACE_ID_LENGTH, TraceIdMiddleware, trace_id_problem

log = structlog.get_logger("tests.trace_ids")


def captured_logs() -> Any:
    """Capture log lines with the log context merged in, as `configure_logging` does."""
    return structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars])


class Probe:
    """The app behind the middleware: counts requests, answers with what it saw."""

    def __init__(self) -> None:
        self.calls = 0
        self.app = Starlette(routes=[Route("/probe", self.probe, methods=["GET", "POST"])])

    async def probe(self, request: Request) -> JSONResponse:
        self.calls += 1
        log.info("probe handled")
        return JSONResponse(
            {
                "state": getattr(request.state, "trace_id", None),
                "bound": structlog.contextvars.get_contextvars().get("trace_id"),
            }
        )


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
async def http(probe: Probe) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=TraceIdMiddleware(probe.app))
    async with httpx.AsyncClient(transport=transport, base_url="http://ordergate.test") as client:
        yield client


async def test_trace_id_given_is_bound_kept_for_routes_and_echoed(http: httpx.AsyncClient) -> None:
    with captured_logs() as logs:
        response = await http.get("/probe", headers={"X-Trace-Id": "bot-7:run/42 a"})

    assert response.status_code == 200
    assert response.headers["X-Trace-Id"] == "bot-7:run/42 a"
    assert response.json() == {"state": "bot-7:run/42 a", "bound": "bot-7:run/42 a"}
    [handled] = [e for e in logs if e["event"] == "probe handled"]
    assert handled["trace_id"] == "bot-7:run/42 a"


async def test_trace_id_absent_a_fresh_hex_id_is_made_per_request(
    http: httpx.AsyncClient,
) -> None:
    first = await http.get("/probe")
    second = await http.get("/probe")

    ids = [first.headers["X-Trace-Id"], second.headers["X-Trace-Id"]]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids), ids
    assert ids[0] != ids[1]
    assert first.json() == {"state": ids[0], "bound": ids[0]}


async def test_trace_id_of_the_longest_length_is_taken(http: httpx.AsyncClient) -> None:
    longest = "t" * MAX_TRACE_ID_LENGTH

    response = await http.post("/probe", headers={"X-Trace-Id": longest})

    assert response.status_code == 200
    assert response.json()["state"] == longest


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"t" * (MAX_TRACE_ID_LENGTH + 1),
        b"caf\xc3\xa9",  # UTF-8 bytes: not ASCII
        b"tab\there",
        b"bell\x07",
        b"del\x7f",
        b" leading",
        b"trailing ",
    ],
    ids=["empty", "too-long", "non-ascii", "tab", "control", "delete", "leading", "trailing"],
)
async def test_trace_id_malformed_is_refused_422_before_the_app_runs(
    http: httpx.AsyncClient, probe: Probe, value: bytes
) -> None:
    with captured_logs() as logs:
        response = await http.post("/probe", headers=[(b"X-Trace-Id", value)])

    assert response.status_code == 422
    body = response.json()
    assert body["reason_code"] == "TRACE_ID_INVALID"
    assert "X-Trace-Id" in body["detail"]
    # A fresh id, as on every answer: the one presented cannot be echoed.
    assert response.headers["X-Trace-Id"].encode() != value
    assert len(response.headers["X-Trace-Id"]) == 32
    assert probe.calls == 0
    [refused] = [e for e in logs if e["event"] == "api request refused"]
    assert refused["reason_code"] == "TRACE_ID_INVALID"
    assert refused["path"] == "/probe"


async def test_trace_id_binding_ends_with_the_request(http: httpx.AsyncClient) -> None:
    # httpx's ASGI transport runs the app in this very task, as a server's request task
    # would: whatever the request bound must be gone (or restored) once it is answered.
    with structlog.contextvars.bound_contextvars(trace_id="outer"):
        await http.get("/probe", headers={"X-Trace-Id": "inner"})
        assert structlog.contextvars.get_contextvars()["trace_id"] == "outer"
    await http.get("/probe", headers={"X-Trace-Id": "inner"})
    assert "trace_id" not in structlog.contextvars.get_contextvars()


async def test_trace_id_other_scopes_pass_through_untouched() -> None:
    seen: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(dict(scope))

    async def receive() -> dict[str, Any]:
        return {"type": "lifespan.startup"}

    async def send(message: Any) -> None:
        return None

    scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    await TraceIdMiddleware(app)(scope, receive, send)

    assert seen == [{"type": "lifespan", "asgi": {"version": "3.0"}}]


@pytest.mark.parametrize("value", ["a", "0123456789abcdef", "x-1 y", "~!@#$%^&*()"])
def test_trace_id_problem_accepts_printable_ascii(value: str) -> None:
    assert trace_id_problem(value) is None
