"""Clocks: the wall clock for live trading, a settable one for tests and replays."""

from __future__ import annotations

import time


class WallClock:
    def now_ns(self) -> int:
        return time.time_ns()


class ManualClock:
    """Time that moves only when told to."""

    def __init__(self, start_ns: int = 0) -> None:
        self._now = start_ns

    def now_ns(self) -> int:
        return self._now

    def set(self, ns: int) -> None:
        if ns < self._now:
            raise ValueError("time must not go backwards")
        self._now = ns

    def advance(self, ns: int) -> None:
        self.set(self._now + ns)
