"""The HTTP side of the simulator: every route goes through one pipeline.

For each request: the body is read (a form, or JSON when the Content-Type says so:
robin_stocks sends both) and the request is logged; an injected server error or
throttle answers instead of running it; a route that is not public needs a valid
`Authorization: Bearer` token (401 otherwise, and an injected token expiry revokes the
token it carried); then the route runs. Its answer, or the `RobinhoodError` it raised,
is sent as JSON; an unexpected exception is logged and answers 500, so a bug answers a
request instead of crashing the server. Last, an injected lost response on a POST that
succeeded drops the connection, or holds the answer for its delay (released early when
the server stops): the request has run all the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, NamedTuple

import structlog
from aiohttp import web

from ordergate.simulators.robinhood.auth import Authenticator
from ordergate.simulators.robinhood.errors import RobinhoodError, detail, throttled
from ordergate.simulators.robinhood.faults import FaultKind, FaultPlan

log = structlog.get_logger("ordergate.simulators.robinhood")

REQUESTS_KEPT: Final = 10_000


class SeenRequest(NamedTuple):
    """One request as it arrived: method, path, and its form or JSON body (a POST) or
    its query (a GET)."""

    method: str
    path: str
    params: dict[str, object]


@dataclass(frozen=True, slots=True)
class Call:
    """What a route handler reads of a request."""

    path: str
    match: Mapping[str, str]
    query: Mapping[str, str]
    body: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class Answer:
    body: object
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[[Call], Answer]


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint; `public` ones (login, the verification workflow) need no token."""

    method: Literal["GET", "POST"]
    pattern: str
    handler: Handler
    public: bool = False


class RestApi:
    """Serves the routes with Robinhood's authentication and the faults in force."""

    def __init__(self, routes: Sequence[Route], *, auth: Authenticator, faults: FaultPlan) -> None:
        self._routes = routes
        self._auth = auth
        self._faults = faults
        self._stopping = asyncio.Event()
        self._seen: deque[SeenRequest] = deque(maxlen=REQUESTS_KEPT)

    def install(self, app: web.Application) -> None:
        self._stopping.clear()
        for route in self._routes:
            app.router.add_route(route.method, route.pattern, self._endpoint(route))

    def release_held(self) -> None:
        """Let every held answer go now: the server stops."""
        self._stopping.set()

    @property
    def requests(self) -> list[SeenRequest]:
        """The latest requests, oldest first (a bounded log)."""
        return list(self._seen)

    def _endpoint(self, route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def endpoint(request: web.Request) -> web.StreamResponse:
            return await self._serve(route, request)

        return endpoint

    async def _serve(self, route: Route, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        try:
            body = await _read_body(request) if route.method == "POST" else {}
        except RobinhoodError as error:
            return _respond(error.status, error.body, error.headers)
        self._seen.append(
            SeenRequest(
                route.method, request.path, dict(body) if route.method == "POST" else dict(query)
            )
        )
        path, pattern = request.path, route.pattern
        failure = self._faults.take(FaultKind.SERVER_ERROR, path, pattern)
        if failure is not None:
            return web.Response(
                status=failure.status,
                text=f"<html><body><h1>{failure.status} Server Error</h1></body></html>",
                content_type="text/html",
            )
        throttle = self._faults.take(FaultKind.RATE_LIMIT, path, pattern)
        if throttle is not None:
            refusal = throttled(throttle.retry_after)
            return _respond(refusal.status, refusal.body, refusal.headers)
        answer = self._run(route, Call(path, request.match_info, query, body), request)
        if route.method == "POST" and answer.status < 400:
            lost = self._faults.take(FaultKind.LOST_RESPONSE, path, pattern)
            if lost is not None and lost.delay is None:
                if request.transport is not None:
                    request.transport.close()
            elif lost is not None and lost.delay is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), lost.delay)
        return _respond(answer.status, answer.body, answer.headers)

    def _run(self, route: Route, call: Call, request: web.Request) -> Answer:
        try:
            if not route.public:
                token = self._auth.check(request.headers.get("Authorization"))
                if self._faults.take(FaultKind.TOKEN_EXPIRED, call.path, route.pattern):
                    self._auth.revoke(token)
                    self._auth.check(request.headers.get("Authorization"))  # now a 401
            return route.handler(call)
        except RobinhoodError as error:
            return Answer(error.body, error.status, error.headers)
        except Exception:
            log.exception("simulator_route_failed", path=call.path)
            return Answer({"detail": "A server error occurred."}, 500)


async def _read_body(request: web.Request) -> dict[str, object]:
    """A POST's fields: JSON when the Content-Type says so, else a form."""
    if not request.can_read_body:
        return {}
    if request.content_type == "application/json":
        try:
            decoded = json.loads(await request.text())
        except json.JSONDecodeError as exc:
            raise detail(400, f"JSON parse error - {exc.msg}") from exc
        if not isinstance(decoded, dict):
            raise detail(400, "JSON parse error - expected an object")
        return decoded
    form = await request.post()
    return {name: value for name, value in form.items() if isinstance(value, str)}


def _respond(status: int, body: object, headers: Mapping[str, str]) -> web.Response:
    return web.json_response(body, status=status, headers=dict(headers))
