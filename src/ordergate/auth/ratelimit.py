"""A request rate per API key: the domain's token bucket, on monotonic wall time."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from decimal import Decimal

from ordergate.domain.errors import InvalidRequest, RateLimited
from ordergate.domain.limits import Rate
from ordergate.domain.throttle import TokenBucket

NS_PER_SECOND = 1_000_000_000


class RateLimiter:
    """One bucket per key id, full when first used. `clock` answers seconds (monotonic)."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        try:
            self._rate = Rate(Decimal(str(rate)), burst)
        except InvalidRequest as exc:
            raise ValueError(f"a rate limit needs rate > 0 and burst >= 1: {exc}") from exc
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def admit(self, key_id: str) -> None:
        """Count one request of `key_id`; `RateLimited` (`RATE_LIMITED`) if it is over."""
        now_ns = int(self._clock() * NS_PER_SECOND)
        bucket = self._buckets.get(key_id)
        if bucket is None:
            bucket = self._buckets[key_id] = TokenBucket(self._rate, now_ns)
        if not bucket.take(now_ns):
            wait = float(bucket.seconds_until_available(now_ns))
            raise RateLimited(
                f"too many requests with this API key; retry in {math.ceil(wait)} s",
                wait,
                code="RATE_LIMITED",
            )
