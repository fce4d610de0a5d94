"""Trace ids on the REST API: `X-Trace-Id` in, the same id out, and on every order placed.

A caller may send `X-Trace-Id`: 1..64 printable ASCII characters without edge spaces (a
value a proxy, a log line and an order all keep intact). A request without the header
gets a fresh id (uuid4, hex). Either way the id is bound to the log context while the
request is handled, sent back in the `X-Trace-Id` response header (refusals included),
and becomes the `trace_id` of every order the request places (`TraceIdDep`), so the
order's events, its published messages and the log lines of its venue requests carry it.

A malformed header is refused with 422 `TRACE_ID_INVALID` before anything else runs, the
API key check included: it says nothing about keys, and nothing is placed without a
trace id that logs can be searched by. The refusal carries a fresh id (the one presented
cannot be echoed), as every answer carries one.

A pure ASGI middleware, not a `BaseHTTPMiddleware`: no task per request, and bodies
stream through untouched.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Final

import structlog
from fastapi import Depends, Header
from fastapi.responses import JSONResponse
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ordergate.api.errors import error_body, status_of
from ordergate.domain.errors import InvalidRequest

log = structlog.get_logger("ordergate.api")

TRACE_ID_HEADER: Final = "X-Trace-Id"
MAX_TRACE_ID_LENGTH: Final = 64
_HEADER_KEY: Final = TRACE_ID_HEADER.lower().encode("latin-1")
TRACE_ID_PATTERN: Final = f"^[!-~](?:[ -~]{{0,{MAX_TRACE_ID_LENGTH - 2}}}[!-~])?$"
"""The rule, as the OpenAPI document states it: printable ASCII, no edge spaces, 1..64."""
_TRACE_ID: Final = re.compile(TRACE_ID_PATTERN)


def trace_id_problem(value: str) -> str | None:
    """Why `value` cannot be a trace id (`TRACE_ID_PATTERN`), if it cannot."""
    if not 1 <= len(value) <= MAX_TRACE_ID_LENGTH:
        return f"{TRACE_ID_HEADER} must be 1..{MAX_TRACE_ID_LENGTH} characters"
    if not _TRACE_ID.fullmatch(value):
        return f"{TRACE_ID_HEADER} must be printable ASCII without leading or trailing spaces"
    return None


def new_trace_id() -> str:
    return uuid.uuid4().hex


class TraceIdMiddleware:
    """Take or make each HTTP request's trace id; bind it to the logs; echo it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        presented = next((v for k, v in scope["headers"] if k == _HEADER_KEY), None)
        if presented is None:
            trace_id = new_trace_id()
        else:
            trace_id = presented.decode("latin-1")
            problem = trace_id_problem(trace_id)
            if problem is not None:
                await _refuse(problem, scope, receive, send)
                return
        scope.setdefault("state", {})["trace_id"] = trace_id
        echoed = (_HEADER_KEY, trace_id.encode("ascii"))

        async def send_traced(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        tokens = structlog.contextvars.bind_contextvars(trace_id=trace_id)
        try:
            await self.app(scope, receive, send_traced)
        finally:
            structlog.contextvars.reset_contextvars(**tokens)


async def _refuse(problem: str, scope: Scope, receive: Receive, send: Send) -> None:
    refusal = InvalidRequest(problem, code="TRACE_ID_INVALID")
    log.info(
        "api request refused",
        reason_code=refusal.code,
        method=scope.get("method"),
        path=scope.get("path"),
    )
    response = JSONResponse(
        status_code=status_of(refusal),
        content=error_body(refusal.code, refusal.message),
        headers={TRACE_ID_HEADER: new_trace_id()},  # the one presented cannot be echoed
    )
    await response(scope, receive, send)


async def request_trace_id(
    connection: HTTPConnection,
    _header: Annotated[
        str | None,
        Header(
            alias=TRACE_ID_HEADER,
            pattern=TRACE_ID_PATTERN,
            description="The trace id of the orders this request places (1..64 printable "
            "ASCII characters); made up when absent. Echoed in the response.",
        ),
    ] = None,
) -> str | None:
    """The request's trace id (None only in an app without `TraceIdMiddleware`).

    `_header` is read by the middleware, not here: declaring it documents the header in
    the OpenAPI description of every route that places orders.
    """
    trace_id = getattr(connection.state, "trace_id", None)
    return trace_id if isinstance(trace_id, str) else None


TraceIdDep = Annotated[str | None, Depends(request_trace_id)]
