"""Market control: manual quotes, or bundled bars replayed as stock prices.

- manual: `manual_touch` checks one quote a test sets; each is one market step.
- replay: `ReplayDriver` replays the demo market's minute bars (`load_demo_market`:
  EURUSD, GBPUSD, BTCUSDT, aligned and looped) at `bars_per_second`, and `StockShaper`
  turns each series' moves into its stock's (see `stocks`): every point a bar walks
  through (open, high, low, close) becomes one step of the stock, quoted one cent wide
  around the shaped price. Bars from 2012-2024 trade "now": the broker stamps steps with
  its clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import ROUND_FLOOR, Decimal
from typing import Final

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.values import ONE
from ordergate.matching import PricePoint, ReplayFeed, SymbolUpdate, load_demo_market
from ordergate.matching.pacing import paced
from ordergate.simulators.robinhood.matching import Touch
from ordergate.simulators.robinhood.stocks import TICK, StockSpec

_TWO: Final = Decimal(2)

Step = Callable[[str, Touch], None]


def manual_touch(bid: Decimal, ask: Decimal, last: Decimal | None) -> Touch:
    """A quote a test sets; `last` defaults to the bid."""
    return Touch(bid, ask, bid if last is None else last)


class StockShaper:
    """Turns a bundled series' points into its stocks' touches."""

    def __init__(self, stocks: Iterable[StockSpec]) -> None:
        self._by_source: dict[str, list[StockSpec]] = {}
        for spec in stocks:
            self._by_source.setdefault(spec.source, []).append(spec)
        self._anchors: dict[str, Decimal] = {}

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_source))

    def touches(self, update: SymbolUpdate) -> list[tuple[str, Touch]]:
        """(stock, touch) for every point of `update`, in order; none for a series no
        stock borrows. The first point seen of a series is its anchor: the stock's
        level."""
        specs = self._by_source.get(update.symbol, [])
        shaped: list[tuple[str, Touch]] = []
        for point in update.points:
            mid = _mid(point)
            anchor = self._anchors.setdefault(update.symbol, mid)
            shaped.extend((spec.symbol, shape(spec, mid / anchor)) for spec in specs)
        return shaped


def shape(spec: StockSpec, ratio: Decimal) -> Touch:
    """The stock's touch when its source stands at `ratio` times its anchor."""
    price = spec.level * (ONE + spec.amplify * (ratio - ONE))
    bid = max(price.quantize(TICK, rounding=ROUND_FLOOR), TICK)
    return Touch(bid, bid + TICK, bid)


def demo_replay_feed(sources: Iterable[str]) -> ReplayFeed:
    """The demo market's bars of `sources`, aligned to one start and looped."""
    return load_demo_market(align_start=True, loop=True, symbols=tuple(sources)).feed


class ReplayDriver:
    """Moves the stocks one replayed bar at a time, at a steady pace."""

    def __init__(self, stocks: Mapping[str, StockSpec], step: Step, bars_per_second: float) -> None:
        if bars_per_second <= 0:
            raise InvalidRequest("bars_per_second must be positive")
        self._shaper = StockShaper(stocks.values())
        self._feed = demo_replay_feed(self._shaper.sources)
        self._step = step
        self._bars_per_second = bars_per_second

    async def run(self) -> None:
        """Replay until cancelled (the feed loops, so it never runs out)."""
        await paced(self.advance, self._bars_per_second)

    def advance(self) -> bool:
        """Replay one bar of every series; False when the data are exhausted."""
        step = self._feed.next_step()
        if step is None:
            return False
        for update in step.updates:
            for symbol, touch in self._shaper.touches(update):
                self._step(symbol, touch)
        return True


def _mid(point: PricePoint) -> Decimal:
    return (point.bid + point.ask) / _TWO
