"""The route guard: who is asking, whether there is room, and only then the body.

FastAPI reads and parses a route's body before it solves the route's dependencies, so a
key check written as a dependency runs after the body is in memory: an unauthenticated
client could make the process read, and learn how we validate, a body of any size. The
guard runs first instead: every router of the API is a `guarded_router()`, whose routes
(`GuardedRoute`, FastAPI's documented extension point) run the guard before FastAPI's own
handler reads anything; in this order:

1. a head over `api_max_header_bytes` is refused (431 `HEADERS_TOO_LARGE`: h11 bounds
   only a head that arrives in pieces), and a path or query string with a control
   character or invalid UTF-8 (422 `CONTROL_CHARACTER`, `NOT_UTF8`): they would reach
   the journal and PostgreSQL;
2. on the admin listener, a route that is neither a health probe nor an admin route is
   404 `NOT_ON_ADMIN_LISTENER`;
3. the API key (`ApiAccess.admit`): failed attempts per client address, the key, its
   rate, its scope; public routes (`PUBLIC_PATHS`) skip this;
4. a declared `Content-Length` over the route's limit: 413 `BODY_TOO_LARGE`, unread;
5. a place among the requests in flight of this listener, else 503 `SERVER_BUSY`;
6. the body, within its limit and `api_body_timeout_seconds` (408 `BODY_TIMEOUT`), and a
   JSON body vetted (`ordergate.api.edge.body.vet_json`);
7. the route, given the body already read.

A refusal before the body is read leaves it unread: the server pauses reading after
each request head, so the body stays in the kernel, and once the answer is out at most a
bounded remainder is read and discarded; past the bound the connection closes
(`ordergate.api.edge.protocol`). An unwanted body is never buffered.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote_to_bytes

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from starlette.types import Receive, Scope

from ordergate.api.auth import (
    API_KEY_HEADER_BYTES,
    PUBLIC_PATHS,
    ApiAccess,
    client_address,
    required_scope,
)
from ordergate.api.edge.body import (
    body_timed_out,
    declared_length,
    is_json,
    read_body,
    refuse_declared,
    replay,
    vet_json,
)
from ordergate.api.live import StreamSlots
from ordergate.auth.keys import Scope as KeyScope
from ordergate.config.settings import Settings
from ordergate.domain.errors import HeadersTooLarge, MalformedRequest, NotFound, ServerBusy

ADMIN_LISTENER: Final = "admin"
API_LISTENER: Final = "api"
LISTENER_STATE_KEY: Final = "listener"
"""The listener a request came in on, in its ASGI scope's `state` (set by the server)."""
BODY_RECEIVED: Final = "ordergate.body_received"
"""In the ASGI scope: the server has the request's whole body already (set by the protocol)."""

HEALTH_PATHS: Final = frozenset({"/health", "/live", "/ready", "/metrics"})
"""The probes (and the metrics) the admin listener answers beside the admin routes."""

_CONTROL_BYTES: Final = re.compile(rb"[\x00-\x1f\x7f]")


class InFlight:
    """Requests a listener is handling now, up to its cap."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.count = 0

    def enter(self) -> None:
        if self.count >= self.cap:
            raise ServerBusy(f"the API is handling {self.cap} requests; try again shortly")
        self.count += 1

    def leave(self) -> None:
        self.count -= 1


class Edge:
    """What every guard shares: the key check, the requests in flight per listener, the
    event streams open, and each route's policy (worked out on its first request, from
    the settings)."""

    def __init__(self, access: ApiAccess, settings: Settings) -> None:
        self.access = access
        self.settings = settings
        self.body_timeout = settings.api_body_timeout_seconds
        self.max_head_bytes = settings.api_max_header_bytes
        self.in_flight: Mapping[str, InFlight] = {
            API_LISTENER: InFlight(settings.api_max_in_flight),
            ADMIN_LISTENER: InFlight(settings.admin_max_connections),
        }
        self.streams = StreamSlots(settings.api_max_streams)
        self._policies: dict[tuple[str, frozenset[str]], RoutePolicy] = {}

    def policy(self, path: str, methods: frozenset[str], reads_body: bool) -> RoutePolicy:
        policy = self._policies.get((path, methods))
        if policy is None:
            policy = self._policies[(path, methods)] = policy_of(
                path, methods, reads_body, self.settings
            )
        return policy


@dataclass(frozen=True, slots=True)
class RoutePolicy:
    """What the guard of one route needs to know, worked out from the settings on the
    route's first request (`Edge.policy`) and kept."""

    path: str
    public: bool
    reads_body: bool
    body_limit: int
    on_admin_listener: bool


def body_limit_of(path: str, settings: Settings) -> int:
    """The route's body limit: the longest `api_body_limits` prefix of `path`, else the
    default `api_max_body_bytes`."""
    best: tuple[int, int] | None = None
    for prefix, limit in settings.api_body_limits.items():
        covers = path == prefix or path.startswith(prefix.rstrip("/") + "/")
        if covers and (best is None or len(prefix) > best[0]):
            best = (len(prefix), limit)
    return settings.api_max_body_bytes if best is None else best[1]


def policy_of(
    path: str, methods: frozenset[str], reads_body: bool, settings: Settings
) -> RoutePolicy:
    public = path in PUBLIC_PATHS
    admin_only = {required_scope(method, path) for method in methods} == {KeyScope.ADMIN}
    return RoutePolicy(
        path=path,
        public=public,
        reads_body=reads_body,
        body_limit=body_limit_of(path, settings),
        on_admin_listener=(public and path in HEALTH_PATHS) or (not public and admin_only),
    )


class GuardedRoute(APIRoute):
    """A route whose handler runs the guard (see the module's docstring) first."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        path, methods, reads_body = (
            self.path,
            frozenset(self.methods or ()),
            self.body_field is not None,
        )

        async def guarded(request: Request) -> Response:
            edge: Edge = request.app.state.edge
            policy = edge.policy(path, methods, reads_body)
            in_flight = await admit(request.scope, policy, edge)
            if in_flight is None:
                return await handle(request)
            try:
                if policy.reads_body:
                    request = await read_within_limits(request, policy, edge.body_timeout)
                return await handle(request)
            finally:
                in_flight.leave()

        return guarded


def guarded_router(**options: Any) -> APIRouter:
    """An `APIRouter` whose routes are guarded: every router of the API is made here."""
    return APIRouter(route_class=GuardedRoute, **options)


async def admit(scope: Scope, policy: RoutePolicy, edge: Edge) -> InFlight | None:
    """Steps 1 to 5: the place in flight taken (None on a public route), or an error."""
    check_head_size(scope, edge.max_head_bytes)
    check_characters(scope)
    state = scope.setdefault("state", {})
    state["guarded"] = True
    listener = state.get(LISTENER_STATE_KEY, API_LISTENER)
    if listener == ADMIN_LISTENER and not policy.on_admin_listener:
        raise NotFound(
            f"{policy.path} is not served on the admin listener; use the API port",
            code="NOT_ON_ADMIN_LISTENER",
        )
    if policy.public:
        return None
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    presented = next((v for k, v in headers if k == API_KEY_HEADER_BYTES), None)
    state["api_key"] = await edge.access.admit(
        None if presented is None else presented.decode("latin-1"),
        scope["method"],
        policy.path,
        client_address(scope),
    )
    if policy.reads_body:
        refuse_declared(declared_length(headers), policy.body_limit)
    in_flight = edge.in_flight[listener]
    in_flight.enter()
    return in_flight


async def read_within_limits(request: Request, policy: RoutePolicy, timeout: float) -> Request:
    """Step 6: the request FastAPI is given, its body read within its limit and deadline,
    and vetted if it is JSON (FastAPI takes the vetted value rather than parse it again).

    When the server has already received the whole body (`BODY_RECEIVED`, set by the
    protocol), reading it cannot wait, and no deadline is armed for it.
    """
    if request.scope.get(BODY_RECEIVED):
        body = await read_body(request.receive, policy.body_limit)
    else:
        try:
            async with asyncio.timeout(timeout):
                body = await read_body(request.receive, policy.body_limit)
        except TimeoutError:
            raise body_timed_out(timeout) from None
    receive = replay(body, request.receive)
    if body and is_json(request.scope["headers"]):
        return VettedRequest(request.scope, receive, vet_json(body))
    return Request(request.scope, receive)


class VettedRequest(Request):
    """A request whose JSON body has been decoded by `vet_json` already."""

    def __init__(self, scope: Scope, receive: Receive, document: Any) -> None:
        super().__init__(scope, receive)
        self._document = document

    async def json(self) -> Any:
        return self._document


def check_head_size(scope: Scope, limit: int) -> None:
    """`HeadersTooLarge` if the request line and headers add up to more than `limit`."""
    size = len(scope.get("raw_path") or b"") + len(scope.get("query_string", b""))
    size += sum(len(name) + len(value) + 4 for name, value in scope["headers"])
    if size > limit:
        raise HeadersTooLarge(f"the request's line and headers are over {limit} bytes")


def check_characters(scope: Scope) -> None:
    """`MalformedRequest` if the path or query string, decoded, holds a control character
    or is not UTF-8."""
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    for part, text in (("path", raw_path), ("query string", scope.get("query_string", b""))):
        decoded = unquote_to_bytes(text) if b"%" in text else text
        if _CONTROL_BYTES.search(decoded):
            raise MalformedRequest(
                f"the {part} holds a control character", code="CONTROL_CHARACTER"
            )
        try:
            decoded.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedRequest(f"the {part} is not UTF-8", code="NOT_UTF8") from None
