"""Bybit's per-endpoint rate limit, over a rolling one-second window.

Bybit limits each account per endpoint per second and reports the budget on every
private answer in `X-Bapi-Limit` (the limit), `X-Bapi-Limit-Status` (what is left) and
`X-Bapi-Limit-Reset-Timestamp` (ms: when a refused caller may try again, else now). A
request over the limit is answered `10006` and not executed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

WINDOW_MS: Final = 1000


@dataclass(frozen=True, slots=True)
class LimitStatus:
    limit: int
    remaining: int
    reset_ms: int
    allowed: bool

    def headers(self) -> dict[str, str]:
        return {
            "X-Bapi-Limit": str(self.limit),
            "X-Bapi-Limit-Status": str(self.remaining),
            "X-Bapi-Limit-Reset-Timestamp": str(self.reset_ms),
        }


class RateLimiter:
    """Counts requests per endpoint; endpoints without a limit are not counted."""

    def __init__(self, limits: Mapping[str, int], now_ms: Callable[[], int]) -> None:
        self._limits = dict(limits)
        self._now_ms = now_ms
        self._seen: dict[str, deque[int]] = {}

    def admit(self, endpoint: str) -> LimitStatus | None:
        """Count one request; None if the endpoint is not limited."""
        limit = self._limits.get(endpoint)
        if limit is None:
            return None
        now = self._now_ms()
        seen = self._seen.setdefault(endpoint, deque())
        while seen and seen[0] <= now - WINDOW_MS:
            seen.popleft()
        if len(seen) >= limit:
            return LimitStatus(limit, 0, seen[0] + WINDOW_MS, allowed=False)
        seen.append(now)
        return LimitStatus(limit, limit - len(seen), now, allowed=True)

    def exhausted(self, endpoint: str) -> LimitStatus:
        """The status a refused request reports (a RATE_LIMIT fault answers with it)."""
        limit = self._limits.get(endpoint, 1)
        return LimitStatus(limit, 0, self._now_ms() + WINDOW_MS, allowed=False)
