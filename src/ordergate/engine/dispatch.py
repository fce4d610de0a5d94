"""Sends the engine's requests to the venue, after they are journaled, and reports back.

`may_send`, when given, is asked right before every attempt: a node whose partition
lease has lapsed sends nothing more (the request is withheld and `on_withheld` called).
An attempt can still wait a long time inside the venue adapter (its request budget, the
exchange's throttle), so an adapter given the same check asks it again as the request
leaves, and raises `JournalFenced` when it says no: withheld the same way.

Requests run on a fixed number of lanes; an order always uses the same lane, so its
submit, cancel and replace reach the venue in the order they were decided, and no task is
created per request. Outcomes (answers, refusals, ambiguity) are handed back to the
engine's inbox as plain data; the dispatcher never touches an order.

Lanes are tasks of their own, so nothing a caller bound to the log context reaches them:
for an order with a trace id (`trace_of`), the id is bound around each of its requests,
so every line logged during the call (the adapter's included, and follow-ups it starts
from there) carries it, and one "venue request" line records the outcome. An order
without one gets no such line (failures are logged all the same), which keeps a bulk
caller's hot path free of logging.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from typing import Final

import msgspec
import structlog

from ordergate.domain.errors import (
    AmbiguousVenueError,
    JournalFenced,
    RejectedByVenue,
    RetryableVenueError,
)
from ordergate.engine.ids import order_number_of
from ordergate.engine.observer import EngineObserver
from ordergate.engine.ports import Venue
from ordergate.engine.retry import RetryPolicy
from ordergate.engine.venue_reports import VenueOrderReport, VenueOrderRequest

log = structlog.get_logger("ordergate.dispatch")


class SubmitRequest(msgspec.Struct, frozen=True, gc=False):
    order_id: str
    request: VenueOrderRequest


class CancelRequest(msgspec.Struct, frozen=True, gc=False):
    order_id: str
    account: str
    symbol: str
    client_order_id: str


class ReplaceRequest(msgspec.Struct, frozen=True, gc=False):
    order_id: str
    account: str
    symbol: str
    client_order_id: str
    qty: Decimal
    price: Decimal | None
    stop_price: Decimal | None


class QueryRequest(msgspec.Struct, frozen=True, gc=False):
    order_id: str
    account: str
    symbol: str
    client_order_id: str


VenueRequest = SubmitRequest | CancelRequest | ReplaceRequest | QueryRequest


class SubmitAnswered(msgspec.Struct, frozen=True, gc=False):
    order_id: str
    venue_order_id: str | None
    accepted: bool


class RequestRefused(msgspec.Struct, frozen=True, gc=False):
    order_id: str
    request: str
    reason_code: str
    reason: str


class RequestAmbiguous(msgspec.Struct, frozen=True, gc=False):
    order_id: str
    request: str
    reason: str


class QueryAnswered(msgspec.Struct, frozen=True, gc=False):
    order_id: str
    report: VenueOrderReport | None


class QueryFailed(msgspec.Struct, frozen=True, gc=False):
    order_id: str
    reason: str


VenueOutcome = SubmitAnswered | RequestRefused | RequestAmbiguous | QueryAnswered | QueryFailed


class _Withheld:
    """A request not sent: this node no longer owns the partition."""


_WITHHELD: Final = _Withheld()

_KIND = {SubmitRequest: "submit", CancelRequest: "cancel", ReplaceRequest: "replace"}
_LOGGED_KIND = {**_KIND, QueryRequest: "query"}
# What became of a request, by the type of its outcome (None: a cancel or replace the
# venue took; its effect streams in). A word per type keeps metric labels bounded.
_OUTCOME: Final[dict[type, str]] = {
    SubmitAnswered: "answered",
    RequestRefused: "refused",
    RequestAmbiguous: "ambiguous",
    QueryAnswered: "answered",
    QueryFailed: "failed",
    _Withheld: "withheld",
    type(None): "sent",
}


class VenueDispatcher:
    def __init__(
        self,
        venue: Venue,
        deliver: Callable[[VenueOutcome], None],
        *,
        lanes: int = 1,
        retry: RetryPolicy | None = None,
        may_send: Callable[[], bool] | None = None,
        on_withheld: Callable[[], None] | None = None,
        trace_of: Callable[[str], str | None] | None = None,
        observer: EngineObserver | None = None,
    ) -> None:
        """`trace_of`: the trace id of an order, by order id (None: it has none).
        `observer`: told how each request ended and how long it took."""
        if lanes < 1:
            raise ValueError("lanes must be >= 1")
        self._venue = venue
        self._may_send = may_send
        self._on_withheld = on_withheld
        self._trace_of = trace_of
        self._observer = observer
        self._deliver = deliver
        self._retry = retry or RetryPolicy()
        self._rng = random.Random()
        self._queues: list[deque[VenueRequest]] = [deque() for _ in range(lanes)]
        self._ready = [asyncio.Event() for _ in range(lanes)]
        self._tasks: list[asyncio.Task[None]] = []
        self._in_flight = 0

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run_lane(i), name=f"venue-lane-{i}")
            for i in range(len(self._queues))
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def send(self, request: VenueRequest) -> None:
        lane = order_number_of(request.order_id) % len(self._queues)
        self._queues[lane].append(request)
        self._ready[lane].set()

    @property
    def backlog(self) -> int:
        """Requests queued or being performed."""
        return sum(len(q) for q in self._queues) + self._in_flight

    async def _run_lane(self, lane: int) -> None:
        queue = self._queues[lane]
        ready = self._ready[lane]
        while True:
            if not queue:
                ready.clear()
                await ready.wait()
                continue
            request = queue.popleft()
            self._in_flight += 1
            try:
                outcome = await self._perform(request)
            finally:
                self._in_flight -= 1
            if outcome is not None:
                self._deliver(outcome)

    async def _perform(self, request: VenueRequest) -> VenueOutcome | None:
        trace_id = None if self._trace_of is None else self._trace_of(request.order_id)
        observer = self._observer
        started = time.perf_counter() if observer is not None or trace_id is not None else 0.0
        if trace_id is None:
            result, error_class = await self._attempt(request)
        else:
            tokens = structlog.contextvars.bind_contextvars(trace_id=trace_id)
            try:
                result, error_class = await self._attempt(request)
                log.info(
                    "venue request",
                    request=_LOGGED_KIND[type(request)],
                    order_id=request.order_id,
                    **_outcome_fields(result),
                    ms=round((time.perf_counter() - started) * 1000, 3),
                )
            finally:
                structlog.contextvars.reset_contextvars(**tokens)
        if observer is not None:
            observer.venue_request(
                _LOGGED_KIND[type(request)],
                _OUTCOME[type(result)],
                error_class,
                time.perf_counter() - started,
            )
        return None if isinstance(result, _Withheld) else result

    async def _attempt(
        self, request: VenueRequest
    ) -> tuple[VenueOutcome | _Withheld | None, str | None]:
        """Send `request`, again while the venue says that certainly did nothing; return
        the outcome and the class of the error it ended in (None: none)."""
        attempt = 0
        while True:
            attempt += 1
            if self._may_send is not None and not self._may_send():
                return self._withhold(request), None
            try:
                return await self._call(request), None
            except JournalFenced:
                return self._withhold(request), None  # the adapter's own check, as it would send
            except RetryableVenueError as exc:
                if attempt >= self._retry.max_attempts:
                    return self._gave_up(request, exc), "retryable"
                await asyncio.sleep(self._retry.delay(attempt, self._rng))
            except RejectedByVenue as exc:
                if isinstance(request, QueryRequest):
                    return QueryFailed(request.order_id, f"{exc.code}: {exc.message}"), "rejected"
                refused = RequestRefused(
                    request.order_id, _KIND[type(request)], exc.code, exc.message
                )
                return refused, "rejected"
            except AmbiguousVenueError as exc:
                if isinstance(request, QueryRequest):
                    return QueryFailed(request.order_id, f"{exc.code}: {exc.message}"), "ambiguous"
                ambiguous = RequestAmbiguous(request.order_id, _KIND[type(request)], exc.message)
                return ambiguous, "ambiguous"
            except Exception as exc:
                # An adapter that raises something unclassified broke its contract; the
                # request may have left, so treat it as ambiguous rather than as refused.
                log.error(
                    "venue adapter raised an unclassified error",
                    order_id=request.order_id,
                    error=repr(exc),
                )
                if isinstance(request, QueryRequest):
                    return QueryFailed(request.order_id, repr(exc)), "unclassified"
                unclassified = RequestAmbiguous(request.order_id, _KIND[type(request)], repr(exc))
                return unclassified, "unclassified"

    def _withhold(self, request: VenueRequest) -> _Withheld:
        # This node no longer owns the partition: whoever does now will ask the venue
        # about this order before it acts. Nothing more leaves from here.
        log.error("venue request withheld: ownership lost", order_id=request.order_id)
        if self._on_withheld is not None:
            self._on_withheld()
        return _WITHHELD

    async def _call(self, request: VenueRequest) -> VenueOutcome | None:
        venue = self._venue
        if isinstance(request, SubmitRequest):
            receipt = await venue.submit_order(request.request)
            return SubmitAnswered(request.order_id, receipt.venue_order_id, receipt.accepted)
        if isinstance(request, CancelRequest):
            await venue.cancel_order(request.account, request.symbol, request.client_order_id)
            return None
        if isinstance(request, ReplaceRequest):
            await venue.replace_order(
                request.account,
                request.symbol,
                request.client_order_id,
                request.qty,
                request.price,
                request.stop_price,
            )
            return None
        report = await venue.get_order(request.account, request.symbol, request.client_order_id)
        return QueryAnswered(request.order_id, report)

    def _gave_up(self, request: VenueRequest, exc: RetryableVenueError) -> VenueOutcome:
        if isinstance(request, QueryRequest):
            return QueryFailed(request.order_id, f"{exc.code}: {exc.message}")
        return RequestRefused(
            request.order_id,
            _KIND[type(request)],
            "VENUE_UNAVAILABLE",
            f"gave up after {self._retry.max_attempts} attempts: {exc.message}",
        )


def _outcome_fields(outcome: VenueOutcome | _Withheld | None) -> dict[str, str]:
    """What became of a request, for its log line: a word, and a refusal's code."""
    if isinstance(outcome, SubmitAnswered):
        return {"outcome": "accepted" if outcome.accepted else "submitted"}
    if isinstance(outcome, RequestRefused):
        return {"outcome": "refused", "reason_code": outcome.reason_code}
    if isinstance(outcome, RequestAmbiguous):
        return {"outcome": "ambiguous"}
    if isinstance(outcome, QueryAnswered):
        return {"outcome": "not found" if outcome.report is None else "found"}
    if isinstance(outcome, QueryFailed):
        return {"outcome": "failed"}
    if isinstance(outcome, _Withheld):
        return {"outcome": "withheld"}
    return {"outcome": "sent"}  # a cancel or replace the venue took: its effect streams in
