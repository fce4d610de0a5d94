"""One mapping from ordergate's error hierarchy to HTTP, with a machine-readable code."""

from __future__ import annotations

import math

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from ordergate.domain.errors import (
    Conflict,
    EngineStopped,
    InvalidRequest,
    JournalError,
    NotFound,
    OrderGateError,
    PartitionNotOwned,
    RateLimited,
    VenueError,
)

_STATUS: tuple[tuple[type[OrderGateError], int], ...] = (
    (InvalidRequest, 422),
    (NotFound, 404),
    (Conflict, 409),
    (EngineStopped, 503),
    (PartitionNotOwned, 503),
    (VenueError, 503),
    (RateLimited, 429),
    (JournalError, 503),
)


def status_of(exc: OrderGateError) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def install_error_handlers(app: FastAPI) -> None:
    async def ordergate_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, OrderGateError)
        headers = {}
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        return JSONResponse(
            status_code=status_of(exc),
            content={"reason_code": exc.code, "detail": exc.message},
            headers=headers,
        )

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse(
            status_code=422,
            content={"reason_code": "VALIDATION_ERROR", "detail": jsonable_encoder(exc.errors())},
        )

    app.add_exception_handler(OrderGateError, ordergate_error)
    app.add_exception_handler(RequestValidationError, validation_error)
