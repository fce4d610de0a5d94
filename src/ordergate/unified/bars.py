"""Bars built from quotes, per interval of market time.

The runner samples each symbol's quote after every market step (a held paper market) or
every poll (any other); `BarBuilder` folds the samples into one bar per symbol per
interval of the engine's time (market-data time on paper, the wall clock live). A bar
closes when a sample of a later interval arrives, so every bar handed on is whole. A
symbol with no new quote in an interval has no bar for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ordergate.domain.errors import InvalidRequest
from ordergate.unified.numbers import ExactNumber
from ordergate.unified.vocabulary import UnifiedQuote

NANOS_PER_SECOND = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Bar:
    """One symbol's prices (`last`) over one interval starting at `start_ns`."""

    symbol: str
    start_ns: int
    open: ExactNumber
    high: ExactNumber
    low: ExactNumber
    close: ExactNumber
    quotes: int  # samples folded in


class BarBuilder:
    """Fold quote samples into bars of `interval_seconds` of market time."""

    def __init__(self, interval_seconds: float) -> None:
        if not interval_seconds > 0:
            raise InvalidRequest(f"a bar interval must be positive, got {interval_seconds}")
        self._interval_ns = round(interval_seconds * NANOS_PER_SECOND)
        self._bucket: int | None = None
        self._open: dict[str, Bar] = {}

    def advance(self, now_ns: int) -> dict[str, Bar]:
        """Move to the interval of `now_ns`; answer the bars of the interval it closes
        (empty if it is still the same interval, or none had a quote)."""
        bucket = now_ns // self._interval_ns
        if self._bucket is None or bucket <= self._bucket:
            self._bucket = bucket if self._bucket is None else self._bucket
            return {}
        closed, self._open, self._bucket = self._open, {}, bucket
        return dict(sorted(closed.items()))

    def add(self, quote: UnifiedQuote) -> None:
        """Fold `quote` (its `last`) into the current interval's bar of its symbol."""
        if self._bucket is None:
            raise InvalidRequest("advance() to an interval before adding quotes")
        price = quote.last
        bar = self._open.get(quote.symbol)
        if bar is None:
            start = self._bucket * self._interval_ns
            self._open[quote.symbol] = Bar(quote.symbol, start, price, price, price, price, 1)
            return
        self._open[quote.symbol] = Bar(
            bar.symbol,
            bar.start_ns,
            bar.open,
            max(bar.high, price),
            min(bar.low, price),
            price,
            bar.quotes + 1,
        )
