"""The replay feed: several symbols' price series merged into one sequence of steps.

A step is one event time. Every symbol with an event at that time updates in the same
step, in symbol order, so the order of updates never depends on dict or set order.

- `align_start` shifts each series so that its first event lands on one common start
  time (by default the latest first event of all series): the demo data come from
  different years, and unaligned they would replay one after another.
- `loop` replays the data again when they end, every timestamp shifted by the span of
  the data (first event to last event, plus one interval), so time never goes back.
- `seek(ts)` skips, without matching, every step at or before `ts`: after a restart,
  market-data time resumes after the journal's last timestamp.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from ordergate.matching.marketdata import PricePoint, PriceSeries


@dataclass(frozen=True, slots=True)
class SymbolUpdate:
    """What one symbol's market did at `ts`: the path of points, and the last price after."""

    symbol: str
    ts: int
    points: tuple[PricePoint, ...]
    last: Decimal


@dataclass(frozen=True, slots=True)
class FeedStep:
    """One event time and the updates of every symbol with data at it, in symbol order."""

    ts: int
    updates: tuple[SymbolUpdate, ...]


class _Track:
    """One symbol's series, its alignment shift and its replay position."""

    __slots__ = ("cursor", "series", "shift", "symbol", "times")

    def __init__(self, symbol: str, series: PriceSeries, shift: int) -> None:
        self.symbol = symbol
        self.series = series
        self.shift = shift
        self.times = series.event_times
        self.cursor = 0

    @property
    def first_ts(self) -> int:
        return self.times[0] + self.shift

    @property
    def last_ts(self) -> int:
        return self.times[-1] + self.shift

    def update(self, index: int, offset: int) -> SymbolUpdate:
        ts = self.times[index] + self.shift + offset
        return SymbolUpdate(
            self.symbol, ts, self.series.points(index), self.series.last_price(index)
        )


class ReplayFeed:
    """Replays price series as time-ordered steps; deterministic for the same input."""

    def __init__(
        self,
        series: Mapping[str, PriceSeries],
        *,
        align_start: bool = False,
        start_ns: int | None = None,
        loop: bool = False,
    ) -> None:
        """Merge `series` (by symbol). With `align_start`, `start_ns` is the common start
        time of the first events (default: the latest first event of all series)."""
        symbols = sorted(series)
        firsts = {
            symbol: series[symbol].event_times[0]
            for symbol in symbols
            if series[symbol].event_times
        }
        start = start_ns if start_ns is not None else max(firsts.values(), default=0)
        self._tracks = tuple(
            _Track(symbol, series[symbol], (start - firsts[symbol]) if align_start else 0)
            for symbol in symbols
            if symbol in firsts
        )
        self._loop = loop
        self._round = 0
        if self._tracks:
            self._interval_ns = min(track.series.interval_ns for track in self._tracks)
            self._first_ts: int | None = min(track.first_ts for track in self._tracks)
            last = max(track.last_ts for track in self._tracks)
            self._span_ns = last - self._first_ts + self._interval_ns
        else:
            self._interval_ns = 0
            self._first_ts = None
            self._span_ns = 0

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(track.symbol for track in self._tracks)

    @property
    def interval_ns(self) -> int:
        """The shortest interval of all series (0 without data)."""
        return self._interval_ns

    @property
    def first_ts(self) -> int | None:
        """The time of the first step of the first replay, or None without data."""
        return self._first_ts

    @property
    def span_ns(self) -> int:
        """How far each loop shifts time: first to last event plus one interval."""
        return self._span_ns

    @property
    def loop(self) -> bool:
        return self._loop

    def peek_ts(self) -> int | None:
        """The time of the next step, or None when the data are exhausted."""
        offset = self._round * self._span_ns
        pending = [
            track.times[track.cursor] + track.shift
            for track in self._tracks
            if track.cursor < len(track.times)
        ]
        if pending:
            return min(pending) + offset
        if self._loop and self._tracks:
            return min(track.first_ts for track in self._tracks) + offset + self._span_ns
        return None

    def next_step(self) -> FeedStep | None:
        """Consume and return the next step, or None when the data are exhausted."""
        ts = self.peek_ts()
        if ts is None:
            return None
        if all(track.cursor >= len(track.times) for track in self._tracks):
            self._round += 1
            for track in self._tracks:
                track.cursor = 0
        offset = self._round * self._span_ns
        updates = []
        for track in self._tracks:
            cursor = track.cursor
            if cursor < len(track.times) and track.times[cursor] + track.shift + offset == ts:
                updates.append(track.update(cursor, offset))
                track.cursor = cursor + 1
        return FeedStep(ts, tuple(updates))

    def seek(self, ts: int) -> tuple[SymbolUpdate, ...]:
        """Skip every step at or before `ts` without returning it.

        Return the latest skipped update of each symbol (in symbol order), so the caller
        can know current prices without matching anything against them. Seeking to a
        time already passed skips nothing.
        """
        if self._first_ts is None:
            return ()
        next_ts = self.peek_ts()
        if next_ts is None or next_ts > ts:
            return ()
        rounds = (ts - self._first_ts) // self._span_ns if self._loop else 0
        offset = rounds * self._span_ns
        self._round = rounds
        latest: list[SymbolUpdate] = []
        for track in self._tracks:
            track.cursor = bisect.bisect_right(track.times, ts - track.shift - offset)
            if track.cursor > 0:
                latest.append(track.update(track.cursor - 1, offset))
            elif rounds > 0:
                latest.append(track.update(len(track.times) - 1, offset - self._span_ns))
        return tuple(latest)
