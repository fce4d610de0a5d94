"""One error shape for every answer that is not a success: `{"reason_code", "detail"}`.

ordergate's own errors map from the one hierarchy to an HTTP status by class. The
framework's answers take the same shape: request validation (422 `VALIDATION_ERROR`,
`detail` the list of problems), an unknown path (404 `ROUTE_NOT_FOUND`), a method the
route does not take (405 `METHOD_NOT_ALLOWED`, with `Allow`), and anything that escapes
a route (500 `INTERNAL_ERROR`, the connection closed). Every one of them echoes the
request's `X-Trace-Id`: the 500 is answered outside the trace middleware, so it sets the
header itself.
"""

from __future__ import annotations

import math
from typing import Final

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ordergate.domain.errors import (
    Conflict,
    EngineStopped,
    HeadersTooLarge,
    InvalidRequest,
    JournalError,
    NotFound,
    OrderGateError,
    PartitionNotOwned,
    PayloadTooLarge,
    RateLimited,
    RequestTimedOut,
    ServerBusy,
    VenueError,
)

_STATUS: tuple[tuple[type[OrderGateError], int], ...] = (
    (PayloadTooLarge, 413),
    (HeadersTooLarge, 431),
    (RequestTimedOut, 408),
    (InvalidRequest, 422),
    (NotFound, 404),
    (Conflict, 409),
    (EngineStopped, 503),
    (PartitionNotOwned, 503),
    (ServerBusy, 503),
    (VenueError, 503),
    (RateLimited, 429),
    (JournalError, 503),
)

_HTTP_CODES: Final = {
    400: "BAD_REQUEST",
    404: "ROUTE_NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "BODY_TOO_LARGE",
}


def status_of(exc: OrderGateError) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def error_body(reason_code: str, detail: object) -> dict[str, object]:
    return {"reason_code": reason_code, "detail": detail}


def install_error_handlers(app: FastAPI) -> None:
    async def ordergate_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, OrderGateError)
        headers = {}
        if isinstance(exc, RateLimited | ServerBusy):
            headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        return JSONResponse(
            status_code=status_of(exc), content=error_body(exc.code, exc.message), headers=headers
        )

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse(
            status_code=422,
            content=error_body("VALIDATION_ERROR", jsonable_encoder(exc.errors())),
        )

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        code = _HTTP_CODES.get(exc.status_code, f"HTTP_{exc.status_code}")
        return JSONResponse(
            status_code=exc.status_code,
            content=error_body(code, exc.detail),
            headers=dict(exc.headers or {}),
        )

    async def internal_error(request: Request, _: Exception) -> JSONResponse:
        headers = {"Connection": "close"}
        trace_id = getattr(request.state, "trace_id", None)
        if isinstance(trace_id, str):
            headers["X-Trace-Id"] = trace_id
        return JSONResponse(
            status_code=500,
            content=error_body("INTERNAL_ERROR", "an internal error; it has been logged"),
            headers=headers,
        )

    app.add_exception_handler(OrderGateError, ordergate_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, internal_error)
