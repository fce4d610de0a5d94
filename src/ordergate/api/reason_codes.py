"""Every `reason_code` an error answer of the REST API can carry, in one registry.

The OpenAPI document enumerates these in `ErrorOut.reason_code`, so a generated client
knows them all. They come from three places, and the registry is their union:

- the default `code` of each class of the error hierarchy (`ordergate.domain.errors`);
- `ReasonCode` (`ordergate.domain.reasons`): a risk gate or check that refuses a command
  on an existing order answers its code (409), and a venue refusal carries one;
- the codes given where an error is raised (`code="BAD_CURSOR"`), and the framework's
  own answers (`ordergate.api.errors`): `RAISED_CODES` below.

`tests/unit/api_contract/test_reason_codes.py` reads every `code=` of the package's source
and fails when one that can reach an HTTP answer is missing here, so the enum cannot
drift from the code. Codes are part of the contract: add new ones, never rename one.
"""

from __future__ import annotations

import inspect
from typing import Final

from ordergate.api.errors import HTTP_CODES, HTTP_ERROR, INTERNAL_ERROR, VALIDATION_ERROR
from ordergate.domain import errors
from ordergate.domain.reasons import ReasonCode

RAISED_CODES: Final = frozenset(
    {
        # the edge (ordergate.api.edge): the request's bytes, before any route
        "BODY_NOT_UTF8",
        "CLIENT_GONE",
        "CONTROL_CHARACTER",
        "JSON_DUPLICATE_KEY",
        "JSON_INVALID",
        "JSON_STRING_TOO_LONG",
        "JSON_TOO_DEEP",
        "NOT_ON_ADMIN_LISTENER",
        "NOT_UTF8",
        "TRACE_ID_INVALID",
        # API keys (ordergate.api.auth, ordergate.auth, the key stores)
        "AUTH_FAILURES",
        "RATE_LIMITED",
        "KEY_STORE_UNAVAILABLE",
        "KEY_STORE_TIMEOUT",
        "KEY_SCHEMA_TOO_NEW",
        "API_KEY_ALREADY_REVOKED",
        # routes and queries
        "ACCOUNT_NOT_FOUND",
        "BAD_CURSOR",
        "BAD_STATUS",
        "ORDER_NOT_FOUND",
        "POSITION_NOT_FOUND",
        "STREAM_NOT_SERVED",
        # the control plane
        "ARM_CONFIRMATION",
        "ARM_WRONG_VENUE",
        # venues: codes a venue error carries besides its class's
        "VENUE_PAYLOAD_UNREADABLE",
        "VENUE_VALUE_UNMAPPED",
        "DUPLICATE_CLIENT_ORDER_ID",
        "ORDER_CLOSED",
    }
)


def _class_codes() -> frozenset[str]:
    return frozenset(
        cls.code
        for cls in vars(errors).values()
        if inspect.isclass(cls) and issubclass(cls, errors.OrderGateError)
    )


REASON_CODES: Final[tuple[str, ...]] = tuple(
    sorted(
        _class_codes()
        | {code.value for code in ReasonCode}
        | RAISED_CODES
        | set(HTTP_CODES.values())
        | {HTTP_ERROR, VALIDATION_ERROR, INTERNAL_ERROR}
    )
)
"""Every reason code, sorted: the enum of `ErrorOut.reason_code`."""
