"""The OpenAPI document tells what each operation can answer, in the one error shape.

Two sources, merged per operation when the document is generated:

1. What the edge answers before any route runs, worked out for every operation from the
   same functions the guard itself uses (`policy_of`, which reads `PUBLIC_PATHS`, and
   `required_scope`), so a route added later, by any router, is described without anyone
   remembering to: 422 for a bad trace id or a control character in the path or query
   (and a request that fails validation), 431 for an oversized head, 404 on the admin
   listener for a route it does not serve; with a key, 401, 429 (with `Retry-After`) and
   503 (no room in flight, the key store down), and 403 where the route needs more than
   `read`; with a body, 413, 408 and the JSON refusals (422).
2. What only the route knows (no such order, a state that forbids the command, the
   engine stopped): each route names its own `Refusal`s with `responses=declares(...)`.

Every answer of 400 or more whose content the route did not describe is `ErrorOut`,
whose `reason_code` enumerates `ordergate.api.reason_codes.REASON_CODES`; FastAPI's
`HTTPValidationError`, which ordergate never answers, is removed. Every answer carries
`X-Trace-Id`. `tests/unit/api_contract` walks the document and holds it to this.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from fastapi import FastAPI

from ordergate.api.auth import required_scope
from ordergate.api.edge.guard import policy_of
from ordergate.api.errors import VALIDATION_ERROR
from ordergate.api.schemas import ErrorOut
from ordergate.api.trace_ids import TRACE_ID_HEADER, TRACE_ID_PATTERN
from ordergate.auth.keys import Scope
from ordergate.config.settings import Settings

ERROR_SCHEMA: Final = "ErrorOut"
ERROR_REF: Final = f"#/components/schemas/{ERROR_SCHEMA}"
_UNUSED_FRAMEWORK_SCHEMAS: Final = ("HTTPValidationError", "ValidationError")
_METHODS: Final = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


@dataclass(frozen=True, slots=True)
class Refusal:
    """An error answer an operation can give: its status, why, and its reason codes."""

    status: int
    why: str
    codes: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()

    def describe(self) -> str:
        codes = ", ".join(f"`{code}`" for code in self.codes)
        return f"{self.why} ({codes})" if codes else self.why


def declares(*refusals: Refusal) -> dict[int | str, dict[str, Any]]:
    """A route's own refusals, as FastAPI's `responses=`; the content is `ErrorOut`."""
    grouped: dict[int, list[Refusal]] = {}
    for refusal in refusals:
        grouped.setdefault(refusal.status, []).append(refusal)
    return {
        status: {"description": "; ".join(r.describe() for r in group)}
        for status, group in sorted(grouped.items())
    }


# --- what routes declare ---------------------------------------------------------------

ORDER_NOT_FOUND: Final = Refusal(404, "no such order", ("ORDER_NOT_FOUND",))
ACCOUNT_NOT_FOUND: Final = Refusal(404, "no such account", ("ACCOUNT_NOT_FOUND",))
POSITION_NOT_FOUND: Final = Refusal(
    404, "the account never held the asset", ("POSITION_NOT_FOUND",)
)
ORDER_STATE: Final = Refusal(
    409,
    "not allowed in the order's state, or refused by a gate or a risk check (the code is "
    "the gate's or the check's)",
    (
        "ORDER_ALREADY_TERMINAL",
        "ORDER_STATE_UNKNOWN",
        "ORDER_NOT_REPLACEABLE",
        "REPLACE_BELOW_FILLED",
        "INVALID_TRANSITION",
    ),
)
POSITION_STATE: Final = Refusal(
    409,
    "no position to close, one already closing, or refused by a gate",
    ("NO_POSITION", "POSITION_ALREADY_CLOSING"),
)
KEY_REUSED: Final = Refusal(
    409,
    "the idempotency key was used before for a different request",
    ("IDEMPOTENCY_KEY_REUSED",),
)
WRONG_VENUE: Final = Refusal(409, "this ordergate trades on another venue", ("ARM_WRONG_VENUE",))
ARM_CONFIRMATION: Final = Refusal(
    422,
    "the confirmation does not repeat the account and venue exactly",
    ("ARM_CONFIRMATION",),
)
ENGINE_DOWN: Final = Refusal(
    503,
    "the engine is not running, another node runs the account's partition, or the "
    "journal or the venue failed",
    ("ENGINE_STOPPED", "PARTITION_NOT_OWNED", "JOURNAL_ERROR", "VENUE_ERROR"),
)
QUERY_REFUSED: Final = Refusal(
    422, "a cursor or a status list this server cannot read", ("BAD_CURSOR", "BAD_STATUS")
)


# --- what the edge answers, for every operation -----------------------------------------


def edge_refusals(method: str, path: str, *, reads_body: bool, settings: Settings) -> list[Refusal]:
    """What the guard and the middleware can answer on this operation, decided by the
    rules they apply (see `ordergate.api.edge.guard`)."""
    policy = policy_of(path, frozenset({method.upper()}), reads_body, settings)
    refusals = [
        Refusal(
            422,
            "a malformed trace id, or a control character or invalid UTF-8 in the path or "
            f"query; a request that fails validation (`{VALIDATION_ERROR}`: `detail` lists "
            "the problems)",
            ("TRACE_ID_INVALID", "CONTROL_CHARACTER", "NOT_UTF8", VALIDATION_ERROR),
        ),
        Refusal(431, "the request line and headers are too large", ("HEADERS_TOO_LARGE",)),
    ]
    if not policy.on_admin_listener:
        refusals.append(
            Refusal(
                404,
                "asked on the admin listener, which does not serve it",
                ("NOT_ON_ADMIN_LISTENER",),
            )
        )
    if policy.public:
        return refusals
    refusals += [
        Refusal(
            401,
            "no API key, or one that is not valid",
            ("API_KEY_MISSING", "API_KEY_INVALID"),
            ("WWW-Authenticate",),
        ),
        Refusal(
            429,
            "the key is over its rate, or this address over its failed attempts",
            ("RATE_LIMITED", "AUTH_FAILURES"),
            ("Retry-After",),
        ),
        Refusal(
            503,
            "no room for another request now, or the key store cannot answer",
            ("SERVER_BUSY", "KEY_STORE_UNAVAILABLE"),
        ),
    ]
    needed = required_scope(method, path)
    if needed is not Scope.READ:
        refusals.append(
            Refusal(403, f"the key's scope is below `{needed.value}`", ("API_KEY_SCOPE",))
        )
    if reads_body:
        refusals += [
            Refusal(
                413,
                f"the body is over the route's limit ({policy.body_limit} bytes)",
                ("BODY_TOO_LARGE",),
            ),
            Refusal(408, "the body did not arrive in time", ("BODY_TIMEOUT", "CLIENT_GONE")),
            Refusal(
                422,
                "the body is not JSON the API reads: not UTF-8, not JSON, a key twice, "
                "nested too deep, a string too long or holding a control character",
                (
                    "BODY_NOT_UTF8",
                    "JSON_INVALID",
                    "JSON_DUPLICATE_KEY",
                    "JSON_TOO_DEEP",
                    "JSON_STRING_TOO_LONG",
                    "CONTROL_CHARACTER",
                ),
            ),
        ]
    return refusals


_HEADERS: Final[dict[str, dict[str, Any]]] = {
    "WWW-Authenticate": {
        "description": "`APIKey`: send a key in `X-API-Key`",
        "required": True,
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "seconds to wait before trying again",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    TRACE_ID_HEADER: {
        "description": "the request's trace id (the caller's, or one made up for it)",
        "required": True,
        "schema": {"type": "string", "pattern": TRACE_ID_PATTERN},
    },
}


def install_openapi(app: FastAPI, settings: Settings) -> None:
    """Complete the app's OpenAPI document as the module's docstring says."""
    app.openapi = _completed(app.openapi, settings)  # type: ignore[method-assign]


def _completed(
    openapi: Callable[[], dict[str, Any]], settings: Settings
) -> Callable[[], dict[str, Any]]:
    completed: list[dict[str, Any]] = []  # the document last completed (FastAPI caches it)

    def document() -> dict[str, Any]:
        schema = openapi()
        if completed and completed[0] is schema:
            return schema
        complete(schema, settings)
        completed[:] = [schema]
        return schema

    return document


def complete(schema: dict[str, Any], settings: Settings) -> None:
    """Add the edge's refusals, the error schema and the headers to every operation."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error_schema.pop("$defs", {}))
    components[ERROR_SCHEMA] = error_schema
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            refusals = edge_refusals(
                method, path, reads_body="requestBody" in operation, settings=settings
            )
            responses = operation.setdefault("responses", {})
            _add_refusals(responses, refusals)
            operation["responses"] = dict(sorted(responses.items()))
    for name in _UNUSED_FRAMEWORK_SCHEMAS:
        components.pop(name, None)


def _add_refusals(responses: dict[str, Any], refusals: Sequence[Refusal]) -> None:
    edge: dict[str, list[Refusal]] = {}
    for refusal in refusals:
        edge.setdefault(str(refusal.status), []).append(refusal)
    for status, group in edge.items():
        response = responses.get(status)
        described = "; ".join(r.describe() for r in group)
        if response is None or _is_framework_validation(response):
            responses[status] = {"description": described}
        else:
            response["description"] = f"{response.get('description', '')}; {described}"
        headers = responses[status].setdefault("headers", {})
        for name in _names(group):
            headers[name] = _HEADERS[name]
    for status, response in responses.items():
        if status.isdigit() and int(status) >= 400 and not _has_own_content(response):
            response["content"] = {"application/json": {"schema": {"$ref": ERROR_REF}}}
        response.setdefault("headers", {})[TRACE_ID_HEADER] = _HEADERS[TRACE_ID_HEADER]


def _names(refusals: Iterable[Refusal]) -> list[str]:
    return sorted({name for refusal in refusals for name in refusal.headers})


def _is_framework_validation(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref", "").endswith("/HTTPValidationError"))


def _has_own_content(response: dict[str, Any]) -> bool:
    """Whether the route described this answer's body itself (`/health`'s 503)."""
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    return bool(schema) and schema.get("$ref") != ERROR_REF
