"""ordergate's own request budget per venue: a token bucket every REST request waits on.

ccxt's rate limiter spaces requests by the exchange's published weights; this budget
is the operator's ceiling on top of it (an account shared with other tools, a venue
that bans before its published limit). A request waits for a token rather than failing:
refusing would only turn into a retry.
"""

from __future__ import annotations

import asyncio
import time

from ordergate.domain.limits import Rate
from ordergate.domain.throttle import TokenBucket


class RequestBudget:
    """Waits until the venue's bucket has a token for one more request."""

    def __init__(self, rate: Rate) -> None:
        self._bucket = TokenBucket(rate, time.monotonic_ns())
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        # One waiter at a time takes the next token, so requests leave in arrival order.
        async with self._lock:
            while not self._bucket.take(time.monotonic_ns()):
                wait = self._bucket.seconds_until_available(time.monotonic_ns())
                await asyncio.sleep(float(wait))
