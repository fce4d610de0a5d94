"""The REST half of the simulator: every `/v5` route goes through one pipeline.

For each request, in Bybit's order: the whole request is read; injected latency; an
injected refusal (HTTP 5xx or `10006`), which executes nothing; for a private route the
signature, key and recv window (`10001`-`10004`) and the rate limit (`10006`); then the
route itself. Its result (or a `BybitError`) becomes Bybit's envelope; an unexpected
exception becomes `10016` and is logged, so a bug answers a request instead of
crashing the server. Last, an injected lost response may drop the connection or
withhold the answer, and a corrupting fault may answer something unreadable in its place
(not JSON, cut short, oversized: see `corrupt`): the request has been executed all the
same.

Latency models a request that reached the exchange and is slow to be worked, so a
client that gives up (times out, disconnects) in the meantime does not take it back:
the body is read before the delay (once the client is gone it can no longer be read),
and the delay and what follows run as their own task, shielded from the handler's
cancellation. aiohttp 3.14 does not cancel a handler whose client disconnects
(`handler_cancellation` is off by default, and the simulator leaves it off), but its
shutdown cancels handlers still running; the shield keeps the execution independent of
either. `close`, when the server has stopped, cancels what is still delayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import parse_qsl

import structlog
from aiohttp import web

from ordergate.simulators.bybit.corrupt import corrupted
from ordergate.simulators.bybit.errors import BybitError, RetCode
from ordergate.simulators.bybit.faults import FaultKind, FaultPlan
from ordergate.simulators.bybit.formats import envelope
from ordergate.simulators.bybit.params import Params
from ordergate.simulators.bybit.ratelimit import LimitStatus, RateLimiter
from ordergate.simulators.bybit.signing import check_rest_request

log = structlog.get_logger("ordergate.simulators.bybit")

NS_PER_MS: Final = 1_000_000
REQUESTS_KEPT: Final = 10_000
# Who sent a request, when the client says so: ordergate's nodes name themselves here, so
# a test can tell which node sent what.
CLIENT_HEADER: Final = "X-Ordergate-Node"
Handler = Callable[[Params], object]
Outcome = tuple[dict[str, object], LimitStatus | None] | web.Response


@dataclass(frozen=True, slots=True)
class RequestSeen:
    """One REST request as it arrived: when (ms), what, and who (`X-Ordergate-Node`)."""

    ms: int
    method: str
    path: str
    client: str | None


@dataclass(frozen=True, slots=True)
class _Received:
    """A request as read off the wire: all that working it needs."""

    headers: Mapping[str, str]
    raw_query: str
    raw_body: str


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint: `handler` reads the parameters and returns Bybit's `result`."""

    method: Literal["GET", "POST"]
    path: str
    private: bool
    handler: Handler


class RestApi:
    """Serves the routes with Bybit's checks, envelope and the faults in force."""

    def __init__(
        self,
        routes: Sequence[Route],
        *,
        api_key: str,
        api_secret: str,
        faults: FaultPlan,
        limiter: RateLimiter,
        clock: Callable[[], int],
        withhold_seconds: float,
    ) -> None:
        self._routes = routes
        self._api_key = api_key
        self._api_secret = api_secret
        self._faults = faults
        self._limiter = limiter
        self._clock = clock
        self._withhold_seconds = withhold_seconds
        self._released = asyncio.Event()
        self._working: set[asyncio.Task[Outcome]] = set()
        self._seen: deque[RequestSeen] = deque(maxlen=REQUESTS_KEPT)

    def install(self, app: web.Application) -> None:
        for route in self._routes:
            app.router.add_route(route.method, route.path, self._endpoint(route))

    def release_withheld(self) -> None:
        """Let every withheld answer go (its connection is dropped): the server stops."""
        self._released.set()

    async def close(self) -> None:
        """Cancel the requests still delayed: the server has stopped."""
        for task in self._working:
            task.cancel()
        await asyncio.gather(*self._working, return_exceptions=True)

    def _endpoint(self, route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def endpoint(request: web.Request) -> web.StreamResponse:
            return await self._serve(route, request)

        return endpoint

    @property
    def requests(self) -> list[RequestSeen]:
        """The latest REST requests, oldest first (a bounded log)."""
        return list(self._seen)

    async def _serve(self, route: Route, request: web.Request) -> web.StreamResponse:
        self._seen.append(
            RequestSeen(
                self._now_ms(), route.method, route.path, request.headers.get(CLIENT_HEADER)
            )
        )
        received = _Received(
            request.headers,
            request.rel_url.raw_query_string,
            await request.text() if route.method == "POST" else "",
        )
        delay = self._faults.latency(route.path)
        work = asyncio.create_task(self._work(route, received, delay))
        self._working.add(work)
        work.add_done_callback(self._working.discard)
        outcome = await asyncio.shield(work)
        if isinstance(outcome, web.Response):
            return outcome
        body, limit = outcome
        lost = self._faults.lost_response(route.path)
        if lost is not None:
            if not lost.drop_connection:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._released.wait(), self._withhold_seconds)
            if request.transport is not None:
                request.transport.close()
        corruption = self._faults.corrupt_answer(route.path)
        if corruption is not None:
            content_type = "text/html" if corruption.kind is FaultKind.NOT_JSON else None
            return web.Response(
                text=corrupted(json.dumps(body), corruption),
                content_type=content_type or "application/json",
                headers={} if limit is None else limit.headers(),
            )
        return self._answer(body, limit)

    async def _work(self, route: Route, received: _Received, delay: float) -> Outcome:
        """Wait out the latency, then refuse or execute: a refusal's answer, or the
        envelope and the rate-limit status to answer an execution with."""
        if delay > 0:
            await asyncio.sleep(delay)
        refusal = self._faults.refusal(route.path)
        if refusal is not None and refusal.kind is FaultKind.HTTP_ERROR:
            return web.Response(status=refusal.status, text=f"simulated HTTP {refusal.status}")
        if refusal is not None:
            return self._answer(_rate_limited(self._now_ms()), self._limiter.exhausted(route.path))
        return self._execute(route, received)

    def _execute(
        self, route: Route, received: _Received
    ) -> tuple[dict[str, object], LimitStatus | None]:
        raw_query, raw_body = received.raw_query, received.raw_body
        limit: LimitStatus | None = None
        try:
            if route.private:
                check_rest_request(
                    received.headers,
                    raw_body if route.method == "POST" else raw_query,
                    api_key=self._api_key,
                    api_secret=self._api_secret,
                    now_ms=self._now_ms(),
                )
                limit = self._limiter.admit(route.path)
                if limit is not None and not limit.allowed:
                    return _rate_limited(self._now_ms()), limit
            params = Params(_read_params(raw_query, raw_body, route.method))
            result = route.handler(params)
            return envelope(result, self._now_ms()), limit
        except BybitError as error:
            return envelope({}, self._now_ms(), error.code, error.message), limit
        except Exception:
            log.exception("simulator_route_failed", path=route.path)
            message = "Internal System Error."
            return envelope({}, self._now_ms(), RetCode.SERVER_ERROR, message), limit

    def _answer(self, body: dict[str, object], limit: LimitStatus | None) -> web.Response:
        headers = {} if limit is None else limit.headers()
        return web.json_response(body, headers=headers)

    def _now_ms(self) -> int:
        return self._clock() // NS_PER_MS


def _read_params(raw_query: str, raw_body: str, method: str) -> Mapping[str, object]:
    if method == "GET":
        return dict(parse_qsl(raw_query, keep_blank_values=True))
    if not raw_body.strip():
        return {}
    try:
        decoded = json.loads(raw_body)
    except json.JSONDecodeError as exc:
        raise BybitError(RetCode.PARAMS_ERROR, "params error: the body is not JSON") from exc
    if not isinstance(decoded, dict):
        raise BybitError(RetCode.PARAMS_ERROR, "params error: the body is not a JSON object")
    return decoded


def _rate_limited(now_ms: int) -> dict[str, object]:
    return envelope(
        {}, now_ms, RetCode.RATE_LIMITED, "Too many visits. Exceeded the API Rate Limit."
    )
