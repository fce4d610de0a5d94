"""Every error the server can answer comes back as the class `Oms` raises for it."""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path

import pytest

import ordergate
from ordergate.api.errors import status_of
from ordergate.client.errors import BY_CODE, class_for, error_from_answer
from ordergate.domain import errors
from ordergate.domain.errors import (
    Conflict,
    InsufficientScope,
    InvalidRequest,
    InvalidTransition,
    NotFound,
    OrderGateError,
    RateLimited,
    ServerBusy,
    VenueError,
)

PACKAGE = Path(ordergate.__file__).parent
HIERARCHY = [
    value
    for value in vars(errors).values()
    if inspect.isclass(value) and issubclass(value, OrderGateError)
]


def bare(cls: type[OrderGateError]) -> OrderGateError:
    """An instance for `status_of`, which looks at the class only."""
    return cls.__new__(cls)


def answer(status: int, code: str, detail: object = "why", **headers: str) -> OrderGateError:
    body = json.dumps({"reason_code": code, "detail": detail}).encode()
    lowered = {k.lower().replace("_", "-"): v for k, v in headers.items()}
    return error_from_answer(status, body, lowered, None)


def raised_codes() -> list[tuple[str, type[OrderGateError], str]]:
    """(where, class, code) of every `SomeError(..., code=<literal or ReasonCode.X>)` in
    the package: the codes raise sites choose beyond their class's own."""
    by_name = {cls.__name__: cls for cls in HIERARCHY}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            cls = by_name.get(node.func.id)
            for keyword in node.keywords if cls is not None else ():
                value = keyword.value
                if keyword.arg != "code":
                    continue
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    code = value.value
                elif (
                    isinstance(value, ast.Attribute)
                    and isinstance(value.value, ast.Name)
                    and value.value.id == "ReasonCode"
                ):
                    code = value.attr
                else:
                    continue  # computed at run time: covered by the status's class
                assert cls is not None
                found.append((f"{path.relative_to(PACKAGE)}:{node.lineno}", cls, code))
    return found


def test_client_errors_every_class_code_is_unique() -> None:
    codes = [cls.code for cls in HIERARCHY]
    assert len(codes) == len(set(codes))
    assert set(BY_CODE.values()) == set(HIERARCHY)


@pytest.mark.parametrize("cls", HIERARCHY, ids=lambda cls: cls.__name__)
def test_client_errors_class_code_maps_to_its_class(cls: type[OrderGateError]) -> None:
    decoded = answer(status_of(bare(cls)), cls.code)
    assert type(decoded) is cls
    assert decoded.code == cls.code


def test_client_errors_scan_finds_the_raise_sites() -> None:
    """The next test would pass vacuously on an empty scan: show it sees."""
    found = {(cls, code) for _, cls, code in raised_codes()}
    assert (NotFound, "ORDER_NOT_FOUND") in found
    assert (Conflict, "ORDER_ALREADY_TERMINAL") in found
    assert (errors.MalformedRequest, "JSON_INVALID") in found
    assert (RateLimited, "RATE_LIMITED") in found


@pytest.mark.parametrize(
    ("where", "cls", "code"), raised_codes(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_client_errors_raised_code_maps_to_its_class(
    where: str, cls: type[OrderGateError], code: str
) -> None:
    """A venue's refusal answers 503 with the venue's code: it comes back a `VenueError`,
    the most the answer says. Every other raise site's class comes back exactly."""
    decoded = class_for(status_of(bare(cls)), code)
    if issubclass(cls, VenueError) and code not in BY_CODE:
        assert decoded is VenueError, where
    else:
        assert decoded is cls, where


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (422, "VALIDATION_ERROR", InvalidRequest),
        (404, "ROUTE_NOT_FOUND", NotFound),
        (409, "REPLACE_BELOW_FILLED", Conflict),
        (503, "ORDER_NOT_REPLACEABLE", VenueError),
        (400, "MALFORMED_HTTP", errors.MalformedRequest),
        (500, "INTERNAL_ERROR", OrderGateError),
        (502, "SOMETHING_ELSE", OrderGateError),
    ],
)
def test_client_errors_other_code_maps_by_status(
    status: int, code: str, expected: type[OrderGateError]
) -> None:
    decoded = answer(status, code)
    assert type(decoded) is expected
    assert decoded.code == code


def test_client_errors_answer_keeps_trace_id_and_detail() -> None:
    decoded = answer(409, "ORDER_ALREADY_TERMINAL", "order 0-1 is FILLED", x_trace_id="t-42")
    assert decoded.trace_id == "t-42"
    assert decoded.message == "order 0-1 is FILLED"


def test_client_errors_rate_limited_keeps_retry_after() -> None:
    body = json.dumps({"reason_code": "RATE_LIMITED", "detail": "slow down"}).encode()
    decoded = error_from_answer(429, body, {}, 3.0)
    assert isinstance(decoded, RateLimited)
    assert decoded.retry_after == 3.0
    busy = error_from_answer(503, b'{"reason_code": "SERVER_BUSY", "detail": "x"}', {}, None)
    assert isinstance(busy, ServerBusy)
    assert busy.retry_after == 0.0


def test_client_errors_own_attributes_read_back_from_the_detail() -> None:
    scope = answer(403, "API_KEY_SCOPE", "this request needs an API key with scope 'admin'")
    assert isinstance(scope, InsufficientScope)
    assert scope.needed == "admin"
    moved = answer(409, "INVALID_TRANSITION", "order 0-7: no transition from FILLED on cancel")
    assert isinstance(moved, InvalidTransition)
    assert (moved.order_id, moved.state, moved.trigger) == ("0-7", "FILLED", "cancel")


def test_client_errors_validation_problems_become_one_readable_message() -> None:
    problems = [
        {"loc": ["body", "qty"], "msg": "Input should be greater than 0", "type": "greater_than"}
    ]
    decoded = answer(422, "VALIDATION_ERROR", problems)
    assert type(decoded) is InvalidRequest
    assert decoded.message == "qty: Input should be greater than 0"


def test_client_errors_body_not_ours_reads_as_its_status() -> None:
    decoded = error_from_answer(502, b"<html>Bad Gateway</html>", {}, None)
    assert type(decoded) is OrderGateError
    assert decoded.code == "HTTP_502"
    assert "Bad Gateway" in decoded.message
