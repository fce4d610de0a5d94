"""One error shape for every answer that is not a success: `{"reason_code", "detail"}`.

ordergate's own errors map from the one hierarchy to an HTTP status by class. The
framework's answers take the same shape: request validation (422 `VALIDATION_ERROR`,
`detail` the list of problems), an unknown path (404 `ROUTE_NOT_FOUND`), a method the
route does not take (405 `METHOD_NOT_ALLOWED`, with `Allow`), and anything that escapes
a route (500 `INTERNAL_ERROR`, the connection closed); any other status the framework
raises is `HTTP_ERROR`. Every one of them echoes the
request's `X-Trace-Id`: the 500 is answered outside the trace middleware, so it sets the
header itself.

An idempotency key used before for a different request is 409, not 422 like the rest of
`InvalidRequest`: the request is valid, the key's history conflicts with it. 422 means a
rule the OpenAPI document states was broken (docs/decisions/0021-openapi-tells-the-truth.md).
"""

from __future__ import annotations

import math
from typing import Final

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.routing import compile_path

from ordergate.domain.errors import (
    Conflict,
    EngineStopped,
    HeadersTooLarge,
    IdempotencyConflict,
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
    (IdempotencyConflict, 409),
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

HTTP_CODES: Final = {
    400: "BAD_REQUEST",
    404: "ROUTE_NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "BODY_TOO_LARGE",
}
"""The reason codes of the framework's own `HTTPException`s, by status."""
HTTP_ERROR: Final = "HTTP_ERROR"
VALIDATION_ERROR: Final = "VALIDATION_ERROR"
INTERNAL_ERROR: Final = "INTERNAL_ERROR"


def status_of(exc: OrderGateError) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def allowed_methods(app: FastAPI, path: str) -> set[str]:
    """Every method the routes of `app` take at `path`, as OpenAPI reads paths: the routes
    of a concrete path (`/v1/orders/preview`) before templated ones (`/v1/orders/{id}`).

    Starlette's 405 names the methods of the first route it matched; `/v1/orders` has one
    route for GET and another for POST, and `Allow` must name both.
    """
    by_parameters: dict[int, set[str]] = {}
    for route in iter_route_contexts(app.routes):
        if route.path is not None and compile_path(route.path)[0].match(path):
            methods = by_parameters.setdefault(route.path.count("{"), set())
            methods |= set(route.methods or ())
    return by_parameters[min(by_parameters)] if by_parameters else set()


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
            content=error_body(VALIDATION_ERROR, jsonable_encoder(exc.errors())),
        )

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        code = HTTP_CODES.get(exc.status_code, HTTP_ERROR)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(sorted(allowed_methods(request.app, request.url.path)))
        return JSONResponse(
            status_code=exc.status_code, content=error_body(code, exc.detail), headers=headers
        )

    async def internal_error(request: Request, _: Exception) -> JSONResponse:
        headers = {"Connection": "close"}
        trace_id = getattr(request.state, "trace_id", None)
        if isinstance(trace_id, str):
            headers["X-Trace-Id"] = trace_id
        return JSONResponse(
            status_code=500,
            content=error_body(INTERNAL_ERROR, "an internal error; it has been logged"),
            headers=headers,
        )

    app.add_exception_handler(OrderGateError, ordergate_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, internal_error)
