"""Rate and duplicate bookkeeping for the pre-trade guards.

Token buckets (submits, cancels, replaces; per instrument and per account) and the
recent placements that order-spam suppression compares against. This protects the venue
and the account; it is not trading state, so it is not journaled, and a restart starts
it afresh. Time is the engine's clock, so paper and replay throttle in market time.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from ordergate.domain.limits import LimitsBook, Rate, RiskLimits
from ordergate.domain.throttle import TokenBucket
from ordergate.domain.values import Side

NS_PER_MS = 1_000_000


class Action(StrEnum):
    SUBMIT = "submit"
    CANCEL = "cancel"
    REPLACE = "replace"


def _rates(action: Action, limits: RiskLimits) -> tuple[Rate | None, Rate | None]:
    """(per-instrument rate, per-account rate) of an action at one level."""
    if action is Action.SUBMIT:
        return limits.instrument_submit_rate, limits.account_submit_rate
    if action is Action.CANCEL:
        return limits.instrument_cancel_rate, limits.account_cancel_rate
    return limits.instrument_replace_rate, limits.account_replace_rate


SpamKey = tuple[str, str | None, str, Side, Decimal]


class Guards:
    def __init__(self) -> None:
        self._buckets: dict[tuple[Action, str, str | None, Rate], TokenBucket] = {}
        self._recent: dict[SpamKey, int] = {}

    def _buckets_for(
        self,
        action: Action,
        account: str,
        symbol: str,
        strategy: str | None,
        book: LimitsBook,
        now_ns: int,
    ) -> list[tuple[str, TokenBucket]]:
        # An instrument's bucket takes its rate from everything that applies to the order;
        # the account's bucket is shared by every instrument and strategy of the account, so
        # its rate comes from the global and account levels only: an instrument or strategy
        # override cannot split it into several buckets with their own allowances.
        per_instrument, _ = _rates(action, book.resolve(account, symbol, strategy))
        _, per_account = _rates(action, book.resolve(account, None, None))
        found = []
        for scope, rate, where in (
            (symbol, per_instrument, f"{action}s of {account}/{symbol}"),
            (None, per_account, f"{action}s of account {account}"),
        ):
            if rate is None:
                continue
            key = (action, account, scope, rate)
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(rate, now_ns)
            found.append((f"{where} over {rate.per_second}/s (burst {rate.burst})", bucket))
        return found

    def throttled(
        self,
        action: Action,
        account: str,
        symbol: str,
        strategy: str | None,
        book: LimitsBook,
        now_ns: int,
    ) -> tuple[str, Decimal] | None:
        """The first exhausted bucket (what it limits, seconds to wait), without spending."""
        for what, bucket in self._buckets_for(action, account, symbol, strategy, book, now_ns):
            if not bucket.available(now_ns):
                return what, bucket.seconds_until_available(now_ns)
        return None

    def spend(
        self,
        action: Action,
        account: str,
        symbol: str,
        strategy: str | None,
        book: LimitsBook,
        now_ns: int,
    ) -> None:
        for _, bucket in self._buckets_for(action, account, symbol, strategy, book, now_ns):
            bucket.take(now_ns)

    def seen_recently(self, key: SpamKey, window_ms: int | None, now_ns: int) -> bool:
        if window_ms is None:
            return False
        last = self._recent.get(key)
        return last is not None and now_ns - last < window_ms * NS_PER_MS

    def remember(self, key: SpamKey, now_ns: int) -> None:
        self._recent[key] = now_ns
        if len(self._recent) > 100_000:  # keep the table small; old entries are harmless
            oldest = sorted(self._recent.items(), key=lambda item: item[1])[:50_000]
            for stale, _ in oldest:
                del self._recent[stale]
