"""Stepping a held paper market: what lets `ordergate run` drive the paper venue bar by
bar, deterministically, as the tests drive it.

With `paper_bars_per_second = 0` nothing moves the paper venue's replay; the runner then
moves it itself, one feed step (one bar of the data) per turn, and waits until the
engine has taken in everything the venue said before the strategy looks. Shadow mode
wraps the paper venue in a shadow book that only its own feed reads, so it is not
stepped here: a shadow run on paper needs a moving market.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

from ordergate.app.application import Application


@runtime_checkable
class SteppedMarket(Protocol):
    """A venue whose market moves one replayed step per call (paper, NautilusTrader's
    simulated exchange)."""

    def advance(self) -> bool: ...


def market_stepper(app: Application) -> Callable[[], Awaitable[bool]] | None:
    """A step of the held replayed market (True: a step was made; False: the data has
    ended), or None when nothing here drives the market: a live venue, a paced replay,
    a shadow book, or a cluster node."""
    partition = app.partition
    if partition is None or app.settings.paper_bars_per_second > 0:
        return None
    venue = partition.wiring.venue
    if not isinstance(venue, SteppedMarket):
        return None
    engine = partition.engine

    async def step() -> bool:
        if not venue.advance():
            return False
        await engine.settle()
        return True

    return step
