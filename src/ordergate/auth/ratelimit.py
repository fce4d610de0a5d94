"""Request rates on monotonic wall time, with the domain's token bucket: per API key, and
failed key attempts per client address."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from decimal import Decimal

from ordergate.domain.errors import InvalidRequest, RateLimited
from ordergate.domain.limits import Rate
from ordergate.domain.throttle import TokenBucket

NS_PER_SECOND = 1_000_000_000


def wall_rate(rate: float, burst: int, what: str) -> Rate:
    """The domain's `Rate` from settings' float and int; `ValueError` if it limits nothing."""
    try:
        return Rate(Decimal(str(rate)), burst)
    except InvalidRequest as exc:
        raise ValueError(f"a {what} needs rate > 0 and burst >= 1: {exc}") from exc


class RateLimiter:
    """One bucket per key id, full when first used. `clock` answers seconds (monotonic)."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = wall_rate(rate, burst, "rate limit")
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


class FailedAttempts:
    """Failed key attempts per client address: one token bucket each, full when first used.

    A failure (no key, a malformed, unknown or revoked key) takes a token; an address with
    none left is refused before its key is even looked at (`check`), whatever key it
    sends, until its rate gives one back: that is what stops guessing, and a flood of
    keyless requests, from costing more than a table lookup. The table holds at most
    `max_addresses`; the least recently failing address is forgotten first (forgetting
    one only gives it a full bucket again).
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_addresses: int = 65_536,
    ) -> None:
        self._rate = wall_rate(rate, burst, "failure limit")
        self._clock = clock
        self._max_addresses = max_addresses
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def check(self, address: str) -> None:
        """`RateLimited` (`AUTH_FAILURES`) if `address` has no failed attempt left."""
        bucket = self._buckets.get(address)
        if bucket is None:
            return
        now_ns = int(self._clock() * NS_PER_SECOND)
        if not bucket.available(now_ns):
            wait = float(bucket.seconds_until_available(now_ns))
            raise RateLimited(
                f"too many failed API key attempts from this address; retry in {math.ceil(wait)} s",
                wait,
                code="AUTH_FAILURES",
            )

    def record(self, address: str) -> None:
        """Count one failed attempt of `address`."""
        now_ns = int(self._clock() * NS_PER_SECOND)
        bucket = self._buckets.pop(address, None)
        if bucket is None:
            bucket = TokenBucket(self._rate, now_ns)
            if len(self._buckets) >= self._max_addresses:
                self._buckets.popitem(last=False)
        bucket.take(now_ns)
        self._buckets[address] = bucket

    def __len__(self) -> int:
        return len(self._buckets)
