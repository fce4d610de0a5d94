"""Token buckets for request rates: pure, with time passed in (engine clock, ns)."""

from __future__ import annotations

from decimal import Decimal

from ordergate.domain.limits import Rate

NS_PER_SECOND = Decimal(1_000_000_000)


class TokenBucket:
    """`rate.burst` tokens at most, refilled at `rate.per_second`; one request, one token."""

    __slots__ = ("_rate", "_tokens", "_updated_ns")

    def __init__(self, rate: Rate, now_ns: int) -> None:
        self._rate = rate
        self._tokens = Decimal(rate.burst)
        self._updated_ns = now_ns

    def _refill(self, now_ns: int) -> None:
        if now_ns > self._updated_ns:
            earned = self._rate.per_second * (now_ns - self._updated_ns) / NS_PER_SECOND
            self._tokens = min(Decimal(self._rate.burst), self._tokens + earned)
            self._updated_ns = now_ns

    def available(self, now_ns: int) -> bool:
        self._refill(now_ns)
        return self._tokens >= 1

    def take(self, now_ns: int) -> bool:
        """Spend one token if there is one; say whether there was."""
        if not self.available(now_ns):
            return False
        self._tokens -= 1
        return True

    def seconds_until_available(self, now_ns: int) -> Decimal:
        self._refill(now_ns)
        missing = 1 - self._tokens
        return max(Decimal(0), missing / self._rate.per_second)
