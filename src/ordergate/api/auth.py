"""API keys on the REST API: who may call which route, and how often.

Every route of the app requires an `X-API-Key` header, except the `PUBLIC_PATHS`
(`/health`, `/live`, `/ready`, and the OpenAPI document and pages). The key is checked by
the route guard (`ordergate.api.edge.guard`), which sits in front of every route of the
app before its body is read: a request that is not allowed never has its body read or
parsed. `authorize`, a dependency of the app itself, hands routes the key the guard
admitted, documents the header in OpenAPI, and checks the key itself on a route that has
no guard (one not made by `guarded_router()`), so no route is ever open. To make a new
route public, add its path to `PUBLIC_PATHS`.

The scope a request needs comes from `required_scope(method, route path)`: the first
matching row of `SCOPE_RULES`, else `admin` for any path with an `admin` segment, else
`read` for GET/HEAD/OPTIONS and `trade` for every other method. Scopes nest:
admin ⊇ trade ⊇ read. Each key has its own token bucket (`ORDERGATE_API_RATE_PER_SECOND`,
`ORDERGATE_API_RATE_BURST`), and each client address a bucket of failed attempts
(`ORDERGATE_API_AUTH_FAILURE_RATE`, `_BURST`): an address that has used it up is refused
429 `AUTH_FAILURES` without its key being looked up, unless the key is one verified in
the last second (a bot sharing the address with whoever is guessing keeps trading).

Refusals: 401 `API_KEY_MISSING`, 401 `API_KEY_INVALID` (malformed, unknown or revoked
alike), 403 `API_KEY_SCOPE`, 429 `RATE_LIMITED` or `AUTH_FAILURES` with `Retry-After`,
and 503 `KEY_STORE_UNAVAILABLE` when a key must be looked up and the store cannot answer.
Neither the header nor the key is ever logged; a refusal logs its code, the route and,
once the key is known, its id.

Checking a key does not hold up the event loop, which the engine shares: a key verified
in the last second is answered from a cache, a local store (SQLite, memory) is read inline
in microseconds, and a lookup that crosses the network (PostgreSQL) runs on a worker
thread (`KeyVerifier.averify`).

A route that wants to know its caller (say, to record who halted trading) takes
`CallerDep`: the verified `ApiKey`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Final

import structlog
from fastapi import Depends, FastAPI, Request, Security
from fastapi.params import Depends as DependsParam
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from starlette.requests import HTTPConnection
from starlette.types import Scope as StarletteScope

from ordergate.api.errors import error_body
from ordergate.auth.keys import ApiKey, Scope, configured_key, utc_now
from ordergate.auth.ports import KeyStore
from ordergate.auth.ratelimit import FailedAttempts, RateLimiter
from ordergate.auth.verifier import KeyVerifier
from ordergate.config.settings import Settings
from ordergate.domain.errors import (
    AccessDenied,
    InsufficientScope,
    InvalidApiKey,
    JournalError,
    MissingApiKey,
    RateLimited,
)

log = structlog.get_logger("ordergate.api.auth")

API_KEY_HEADER: Final = "X-API-Key"
API_KEY_HEADER_BYTES: Final = API_KEY_HEADER.lower().encode("latin-1")
PUBLIC_PATHS: Final = frozenset(
    {
        "/health",
        "/live",
        "/ready",
        "/metrics",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/openapi.json",
    }
    | {"/", "/blotter/{asset}"}  # the web blotter's page and files: no data, it asks for a key
)
READ_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class ScopeRule:
    """Requests with `method` ("*": any) on `prefix` or below it need `scope`."""

    method: str
    prefix: str
    scope: Scope

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and (
            path == self.prefix or path.startswith(self.prefix + "/")
        )


# The exceptions to "GET needs read, anything else needs trade"; first match wins.
SCOPE_RULES: Final[tuple[ScopeRule, ...]] = (
    ScopeRule("*", "/v1/admin", Scope.ADMIN),
    ScopeRule("POST", "/v1/orders/preview", Scope.READ),  # prices an order, places nothing
    ScopeRule("POST", "/v1/reconcile", Scope.ADMIN),
    ScopeRule("POST", "/api/v1/sync", Scope.ADMIN),
)


def required_scope(method: str, path: str) -> Scope:
    """The scope a request needs, by its method and route path."""
    method = method.upper()
    for rule in SCOPE_RULES:
        if rule.matches(method, path):
            return rule.scope
    if "admin" in path.split("/"):
        return Scope.ADMIN
    return Scope.READ if method in READ_METHODS else Scope.TRADE


class ApiAccess:
    """Verify a key, count it against its rate, check its scope; count failed attempts
    per client address."""

    def __init__(
        self, verifier: KeyVerifier, limiter: RateLimiter, failures: FailedAttempts
    ) -> None:
        self.verifier = verifier
        self.limiter = limiter
        self.failures = failures

    @classmethod
    def of(cls, keys: KeyStore, settings: Settings) -> ApiAccess:
        configured = None
        if settings.api_key is not None:
            configured = configured_key(
                settings.api_key.get_secret_value(),
                Scope(settings.api_key_scope),
                "ORDERGATE_API_KEY",
                utc_now(),
            )
        return cls(
            KeyVerifier(keys, configured=configured),
            RateLimiter(settings.api_rate_per_second, settings.api_rate_burst),
            FailedAttempts(settings.api_auth_failure_rate, settings.api_auth_failure_burst),
        )

    async def admit(self, presented: str | None, method: str, path: str, address: str) -> ApiKey:
        """The caller's key, or `AccessDenied` (logged with its code, never the key).

        Only a cache miss on a remote (PostgreSQL) store leaves the event loop: it is
        looked up on a worker thread (`KeyVerifier.averify`). A store that cannot answer
        gives `KEY_STORE_UNAVAILABLE` (503); what went wrong, and where the database is,
        goes to the log, not to a caller who has not been identified.
        """
        try:
            self.failures.check(address)
        except RateLimited:
            # An address out of attempts: only a key it has been using goes on working (one
            # verified in the last second, from the cache); nothing else is looked up, so
            # guessing learns nothing, and a bot behind the same address keeps trading.
            cached = self.verifier.verify_cached(presented)
            if cached is None:
                raise
            key = cached
        else:
            key = await self._verify(presented, method, path, address)
        return self._within_rate_and_scope(key, method, path)

    async def _verify(self, presented: str | None, method: str, path: str, address: str) -> ApiKey:
        try:
            return await self.verifier.averify(presented)
        except AccessDenied as exc:
            self.failures.record(address)
            log.info("api request refused", reason_code=exc.code, method=method, path=path)
            raise
        except JournalError as exc:
            log.warning(
                "api key store unavailable",
                reason_code=exc.code,
                error=exc.message,
                method=method,
                path=path,
            )
            raise JournalError(
                "API keys cannot be checked right now; try again later",
                code="KEY_STORE_UNAVAILABLE",
            ) from exc

    def _within_rate_and_scope(self, key: ApiKey, method: str, path: str) -> ApiKey:
        try:
            self.limiter.admit(key.key_id)
        except RateLimited as exc:
            log.debug("api request refused", reason_code=exc.code, key_id=key.key_id, path=path)
            raise
        needed = required_scope(method, path)
        if not key.scope.covers(needed):
            refusal = InsufficientScope(needed.value)
            log.info(
                "api request refused",
                reason_code=refusal.code,
                key_id=key.key_id,
                scope=key.scope.value,
                needed=needed.value,
                method=method,
                path=path,
            )
            raise refusal
        return key


api_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    scheme_name="ApiKey",
    description="An ordergate API key, `og_<key_id>_<secret>` (`ordergate keys create`).",
    auto_error=False,
)


def client_address(scope: StarletteScope) -> str:
    """The client's address, as failed key attempts are counted by."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def route_path(connection: HTTPConnection) -> str:
    """The matched route's path template (`/v1/orders/{order_id}`), else the URL path."""
    route = connection.scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else connection.url.path


async def authorize(
    connection: HTTPConnection, presented: Annotated[str | None, Security(api_key_header)]
) -> ApiKey | None:
    """The app-wide dependency: the caller's key (None on a public path).

    On a route made by `guarded_router()` the guard has checked the key already, before
    the body was read, and this hands routes what it admitted. A route made some other
    way (a router a plugin includes) is still never open: its key is checked here, as
    every route's was before the guard, only after FastAPI has read its body.
    """
    state = connection.state
    if getattr(state, "guarded", False):
        admitted: ApiKey | None = getattr(state, "api_key", None)
        return admitted
    path = route_path(connection)
    if path in PUBLIC_PATHS:
        return None
    edge = connection.app.state.edge
    key: ApiKey = await edge.access.admit(
        presented, connection.scope.get("method", "GET"), path, client_address(connection.scope)
    )
    state.api_key = key
    return key


API_KEY_DEPENDENCIES: Final[list[DependsParam]] = [Security(authorize)]


async def caller(connection: HTTPConnection) -> ApiKey:
    """The key `authorize` verified for this request."""
    key: ApiKey | None = getattr(connection.state, "api_key", None)
    if key is None:
        raise MissingApiKey
    return key


CallerDep = Annotated[ApiKey, Depends(caller)]

_STATUS: Final[tuple[tuple[type[AccessDenied], int], ...]] = (
    (MissingApiKey, 401),
    (InvalidApiKey, 401),
    (InsufficientScope, 403),
)


def _refusal(exc: AccessDenied) -> JSONResponse:
    status = next((s for cls, s in _STATUS if isinstance(exc, cls)), 403)
    headers = {"WWW-Authenticate": "APIKey"} if status == 401 else {}
    return JSONResponse(
        status_code=status,
        content=error_body(exc.code, exc.message),
        headers=headers,
    )


def install_api_keys(app: FastAPI) -> None:
    """Answer key refusals (401/403) and mark the public routes keyless in OpenAPI.

    A key over its rate raises the domain's `RateLimited`, which `ordergate.api.errors`
    answers (429 with `Retry-After`) like every other `OrderGateError`.

    The app must have been created with `dependencies=API_KEY_DEPENDENCIES`.
    """

    async def access_denied(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AccessDenied)
        return _refusal(exc)

    app.add_exception_handler(AccessDenied, access_denied)
    app.openapi = _public_routes_keyless(app.openapi)  # type: ignore[method-assign]


def _public_routes_keyless(
    openapi: Callable[[], dict[str, Any]],
) -> Callable[[], dict[str, Any]]:
    def document() -> dict[str, Any]:
        schema = openapi()
        for path in PUBLIC_PATHS:
            for operation in schema.get("paths", {}).get(path, {}).values():
                operation["security"] = []
        return schema

    return document
