"""Every REST request of the adapter goes through here: budgeted, classified, retried.

State-changing requests are sent once; what their failure means is the engine's to
act on (its dispatcher retries what is retryable). Reads retry themselves with the
configured backoff, since they cannot change anything at the venue.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
import ccxt  # type: ignore[import-untyped]
import structlog

from ordergate.domain.errors import RetryableVenueError
from ordergate.engine.retry import RetryPolicy
from ordergate.venues.ccxt.budget import RequestBudget
from ordergate.venues.ccxt.errors import classify

log = structlog.get_logger("ordergate.venues.ccxt")

T = TypeVar("T")

# Failures a ccxt call can end in: ccxt's own, and transport errors that escape its
# wrapping (a connection reset while a body is read).
_CALL_FAILURES = (ccxt.BaseError, aiohttp.ClientError, TimeoutError, ConnectionError)


class Gateway:
    """The REST side of one ccxt exchange, behind ordergate's budget and error types."""

    def __init__(self, exchange: Any, budget: RequestBudget, retry: RetryPolicy) -> None:
        self.exchange = exchange
        self._budget = budget
        self._retry = retry
        self._rng = random.Random()

    async def read(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        """Perform a read, retrying what is retryable; raise ordergate's venue errors."""
        attempt = 0
        while True:
            attempt += 1
            await self._budget.acquire()
            try:
                return await call()
            except _CALL_FAILURES as exc:
                error = classify(exc, changes_state=False)
                if (
                    not isinstance(error, RetryableVenueError)
                    or attempt >= self._retry.max_attempts
                ):
                    raise error from exc
                log.info("venue read failed; retrying", what=what, attempt=attempt, error=str(exc))
            await asyncio.sleep(self._retry.delay(attempt, self._rng))

    async def write(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        """Send a state-changing request once; raise ordergate's venue errors."""
        await self._budget.acquire()
        try:
            return await call()
        except _CALL_FAILURES as exc:
            error = classify(exc, changes_state=True)
            log.info("venue request failed", what=what, error=str(exc), kind=type(error).__name__)
            raise error from exc
