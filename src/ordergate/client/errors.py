"""A refusal from the server as the exception `Oms` would raise for it.

The server answers every error as `{"reason_code", "detail"}` with a status chosen by the
exception's class (`api/errors.py`). The client reads it back in two steps:

1. A `reason_code` that is the `code` of a class of the hierarchy names that class. The
   table is built from `ordergate.domain.errors` itself, so a class added there is known
   here with no edit.
2. Any other code is one a raise site chose (`ORDER_NOT_FOUND`, `RATE_LIMITED`, a
   `ReasonCode` such as `ORDER_ALREADY_TERMINAL`): the status names the class, the
   nearest one every error answered with that status descends from (409 → `Conflict`,
   422 → `InvalidRequest`, 503 → `VenueError`), except for the few codes the edge raises
   from a narrower class, listed in `_EDGE_CODES`.

The exception keeps the server's `reason_code` as its `code`, the `detail` as its
message, the answer's `X-Trace-Id` as `trace_id` and, for `RateLimited` and
`ServerBusy`, the `Retry-After` as `retry_after`. `tests/unit/client/test_client_errors.py`
proves every class and every literal code the server raises comes back as its class.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Mapping
from typing import Final

from ordergate.domain import errors
from ordergate.domain.errors import (
    AccessDenied,
    Conflict,
    HeadersTooLarge,
    InsufficientScope,
    InvalidRequest,
    InvalidTransition,
    JournalError,
    MalformedRequest,
    NotFound,
    OrderGateError,
    PayloadTooLarge,
    RateLimited,
    RequestTimedOut,
    ServerBusy,
    VenueError,
)


def _hierarchy() -> dict[str, type[OrderGateError]]:
    """Every class of the one hierarchy, by its code."""
    classes = [
        value
        for value in vars(errors).values()
        if inspect.isclass(value)
        and issubclass(value, OrderGateError)
        and value.__module__ == errors.__name__
    ]
    return {cls.code: cls for cls in classes}


BY_CODE: Final = _hierarchy()

# The class each status stands for when the code is not a class's own: the nearest common
# ancestor of the classes the server answers with that status. A 503 that is not
# `ENGINE_STOPPED`, `SERVER_BUSY`, `PARTITION_NOT_OWNED` or a journal's is a venue's error
# with its own code (`ORDER_NOT_REPLACEABLE`, `VENUE_PAYLOAD_UNREADABLE`, ...).
BY_STATUS: Final[Mapping[int, type[OrderGateError]]] = {
    400: MalformedRequest,  # MALFORMED_HTTP, from the protocol layer
    401: AccessDenied,
    403: AccessDenied,
    404: NotFound,
    405: InvalidRequest,
    408: RequestTimedOut,
    409: Conflict,
    413: PayloadTooLarge,
    422: InvalidRequest,
    429: RateLimited,
    431: HeadersTooLarge,
    503: VenueError,
}

# Codes the API's edge raises from a narrower class than its status stands for.
_EDGE_CODES: Final[Mapping[str, type[OrderGateError]]] = {
    **dict.fromkeys(
        (
            "JSON_INVALID",
            "JSON_TOO_DEEP",
            "JSON_STRING_TOO_LONG",
            "JSON_DUPLICATE_KEY",
            "BODY_NOT_UTF8",
            "CONTROL_CHARACTER",
            "NOT_UTF8",
        ),
        MalformedRequest,
    ),
    "KEY_STORE_UNAVAILABLE": JournalError,
    "KEY_STORE_TIMEOUT": JournalError,
    "KEY_SCHEMA_TOO_NEW": JournalError,
}

_SCOPE = re.compile(r"scope '(?P<needed>[^']*)'")
_TRANSITION = re.compile(r"order (?P<order>\S+): no transition from (?P<state>\S+) on (?P<on>\S+)")


def class_for(status: int, code: str) -> type[OrderGateError]:
    """The exception class for an error answer: by the code, else by the status."""
    by_code = BY_CODE.get(code) or _EDGE_CODES.get(code)
    if by_code is not None:
        return by_code
    return BY_STATUS.get(status, OrderGateError)


def error_from_answer(
    status: int, body: bytes, headers: Mapping[str, str], retry_after: float | None
) -> OrderGateError:
    """The exception for an answer with a 4xx or 5xx status."""
    code, detail = _reason(status, body)
    cls = class_for(status, code)
    # Not `cls(...)`: several classes take their own arguments (`InsufficientScope(needed)`)
    # or none; the base's constructor sets what every one of them has, and the extra
    # attributes are read back from the message the server wrote.
    exc = cls.__new__(cls)
    OrderGateError.__init__(exc, detail, code=code)
    if isinstance(exc, RateLimited | ServerBusy):
        exc.retry_after = 0.0 if retry_after is None else retry_after
    elif isinstance(exc, InsufficientScope):
        found = _SCOPE.search(detail)
        exc.needed = "" if found is None else found["needed"]
    elif isinstance(exc, InvalidTransition):
        moved = _TRANSITION.search(detail)
        exc.order_id, exc.state, exc.trigger = ("", "", "") if moved is None else moved.groups()
    exc.trace_id = headers.get("x-trace-id")
    return exc


def _reason(status: int, body: bytes) -> tuple[str, str]:
    """(reason_code, detail as text); a body not in ordergate's shape (a proxy's page)
    reads as `HTTP_<status>` with the body's start as the detail."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("reason_code"), str):
        detail = data.get("detail")
        if isinstance(detail, list):  # VALIDATION_ERROR: the problems, one per field
            detail = "; ".join(_problem(item) for item in detail)
        return data["reason_code"], detail if isinstance(detail, str) else json.dumps(detail)
    return f"HTTP_{status}", body[:500].decode(errors="replace")


def _problem(item: object) -> str:
    if not isinstance(item, dict):
        return str(item)
    where = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
    return f"{where}: {item.get('msg', item)}" if where else str(item.get("msg", item))
