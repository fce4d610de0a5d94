"""How requests that certainly did nothing are sent again: backoff with full jitter.

One policy for the dispatcher's order requests and an adapter's own reads, configured
like seed 002's `..._RETRY_MAX_ATTEMPTS`, `_BASE_DELAY`, `_MAX_DELAY`, `_MULTIPLIER`.
"""

from __future__ import annotations

import random

import msgspec


class RetryPolicy(msgspec.Struct, frozen=True, gc=False):
    """Exponential backoff with full jitter for errors that certainly did nothing."""

    max_attempts: int = 3
    base_delay: float = 0.2
    max_delay: float = 5.0
    multiplier: float = 2.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        ceiling = min(self.max_delay, self.base_delay * self.multiplier ** (attempt - 1))
        return rng.uniform(0, ceiling)
