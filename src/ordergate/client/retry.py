"""When a call is sent again, and how its final answer is read: what both clients share.

Two cases are retried, within `RetryPolicy.max_attempts` attempts in all:

- **The server said "not now"**: 429 or 503 *with* `Retry-After` (`RATE_LIMITED`,
  `AUTH_FAILURES`, `SERVER_BUSY`). Those refusals come before the request is acted on,
  so any call may be sent again, after the seconds the server asked for. A wait longer
  than `max_retry_after` is not waited out: the error is raised with its `retry_after`
  for the caller to decide. A 503 without `Retry-After` (a venue error, a stopped
  engine) is an answer, not a "not now", and is raised at once.
- **No answer at all** (refused, reset, timed out): only a call that is safe to deliver
  twice is sent again, after a short exponential backoff: a read, or a `place`, whose
  idempotency key makes the second delivery answer with the first one's order. Any
  other call raises `ServerUnreachable`, because it may have been done.
"""

from __future__ import annotations

import email.utils
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

import httpx

from ordergate.client.calls import Call
from ordergate.client.errors import error_from_answer
from ordergate.client.wire import unreadable
from ordergate.domain.errors import OrderGateError, ServerUnreachable

T = TypeVar("T")

DEFAULT_TIMEOUT = 10.0
"""Seconds per request: above the server's own wait for the venue (2 s by default)."""
RETRY_STATUSES = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard a client tries before it raises.

    `max_attempts` counts the first attempt (1: never retry); `max_retry_after` is the
    longest `Retry-After` waited out, in seconds; after a lost connection the n-th retry
    waits `backoff * 2**(n-1)`, at most `max_backoff` seconds.
    """

    max_attempts: int = 4
    max_retry_after: float = 30.0
    backoff: float = 0.1
    max_backoff: float = 2.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(self.max_retry_after, self.backoff, self.max_backoff) < 0:
            raise ValueError("waits must not be negative")


def retry_after(headers: httpx.Headers) -> float | None:
    """`Retry-After` in seconds (delta-seconds or an HTTP date), None if absent or unreadable."""
    value = headers.get("retry-after")
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class Attempts(Generic[T]):
    """The attempts of one call: after each, wait this long and send again, or stop."""

    def __init__(self, policy: RetryPolicy, call: Call[T]) -> None:
        self._policy = policy
        self._call = call
        self.made = 0

    def after_answer(self, response: httpx.Response) -> float | None:
        """Seconds to wait before sending again, or None: `response` is the answer."""
        self.made += 1
        if response.status_code not in RETRY_STATUSES or self.made >= self._policy.max_attempts:
            return None
        wait = retry_after(response.headers)
        if wait is None or wait > self._policy.max_retry_after:
            return None
        return wait

    def after_failure(self, exc: httpx.TransportError) -> float:
        """Seconds to wait before sending again; raises `ServerUnreachable` instead when
        the call may not be delivered twice or the attempts are spent."""
        self.made += 1
        call = self._call
        if not call.resendable or self.made >= self._policy.max_attempts:
            doubt = "" if call.resendable else "; it may have been done: read before resending"
            raise ServerUnreachable(
                f"{call.method} {call.path}: no answer after {self.made} attempt(s) "
                f"({type(exc).__name__}: {exc}){doubt}"
            ) from exc
        return min(self._policy.max_backoff, self._policy.backoff * 2.0 ** (self.made - 1))


def outcome(call: Call[T], response: httpx.Response) -> T:
    """The call's result from its final answer, or the mapped error raised."""
    status = response.status_code
    if 200 <= status < 300:
        try:
            data = json.loads(response.content)
        except ValueError:
            raise unreadable(f"{call.method} {call.path} answered {status} without JSON") from None
        return call.read(data)
    error: OrderGateError = error_from_answer(
        status, response.content, response.headers, retry_after(response.headers)
    )
    if call.on_error is not None:
        return call.on_error(error)
    raise error


def request_for(http: httpx.Client | httpx.AsyncClient, call: Call[T]) -> httpx.Request:
    """The request, built once per call: every attempt sends the same bytes."""
    headers = {} if call.trace_id is None else {"X-Trace-Id": call.trace_id}
    return http.build_request(
        call.method, call.path, params=call.params, json=call.body, headers=headers
    )
