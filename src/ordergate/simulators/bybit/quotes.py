"""Per-symbol market statistics since the simulator started, for tickers and books.

The paper engine knows only the current best bid, ask and last price; a ticker also
shows an opening price, a high and a low, and an order book an update id. These come
from the market steps the simulator applied since it started (the simulator has no 24
hours of history, so its "24h" figures cover its own session).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ordergate.matching import SymbolUpdate


@dataclass(frozen=True, slots=True)
class SessionStats:
    """`updates` counts the market steps that moved the symbol (the book's update id)."""

    open: Decimal
    high: Decimal
    low: Decimal
    updates: int
    ts_ms: int


class QuoteBoard:
    """Session statistics of every symbol the market moved."""

    __slots__ = ("_stats",)

    def __init__(self) -> None:
        self._stats: dict[str, SessionStats] = {}

    def record(self, update: SymbolUpdate, ts_ms: int) -> None:
        high = max(point.ask for point in update.points)
        low = min(point.bid for point in update.points)
        current = self._stats.get(update.symbol)
        if current is None:
            self._stats[update.symbol] = SessionStats(update.last, high, low, 1, ts_ms)
            return
        self._stats[update.symbol] = SessionStats(
            current.open,
            max(current.high, high),
            min(current.low, low),
            current.updates + 1,
            ts_ms,
        )

    def stats(self, symbol: str) -> SessionStats | None:
        return self._stats.get(symbol)
