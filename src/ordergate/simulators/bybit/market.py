"""Market control: manual quotes, or the bundled BTCUSDT bars replayed at a pace.

- manual: `quote_update` makes one symbol's best bid and ask one market step (a gap,
  in the paper engine's terms: resting orders it touches fill at the better of their
  limit and the new price).
- replay: `ReplayDriver` feeds the paper demo's BTCUSDT 1-minute bars, looped, a bar
  every 1/`bars_per_second` seconds; each bar walks open, high, low, close. Other
  symbols have no data and move only by manual quotes, which replay mode still takes
  (a replayed symbol's next bar overrides one).

The exchange stamps every step with the wall clock, so bars from 2022 trade "now".
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.values import ZERO
from ordergate.matching import PricePoint, ReplayFeed, SymbolUpdate, load_demo_market
from ordergate.matching.pacing import paced
from ordergate.simulators.bybit.exchange import BybitExchange

REPLAYED_SYMBOL: Final = "BTCUSDT"
_TWO: Final = Decimal(2)


def quote_update(symbol: str, bid: Decimal, ask: Decimal, last: Decimal | None) -> SymbolUpdate:
    """One manual quote as a market update; `last` defaults to the mid price."""
    if bid <= ZERO or ask <= ZERO:
        raise InvalidRequest(f"{symbol}: bid and ask must be positive")
    if bid > ask:
        raise InvalidRequest(f"{symbol}: bid {bid} is above ask {ask}")
    mid = (bid + ask) / _TWO
    return SymbolUpdate(symbol, 0, (PricePoint(bid, ask),), mid if last is None else last)


def demo_replay_feed() -> ReplayFeed:
    """The paper demo's BTCUSDT bars, looped."""
    return load_demo_market(loop=True, symbols=(REPLAYED_SYMBOL,)).feed


class ReplayDriver:
    """Moves the exchange's market one replayed bar at a time, at a steady pace."""

    def __init__(self, exchange: BybitExchange, feed: ReplayFeed, bars_per_second: float) -> None:
        if bars_per_second <= 0:
            raise InvalidRequest("bars_per_second must be positive")
        self._exchange = exchange
        self._feed = feed
        self._bars_per_second = bars_per_second

    async def run(self) -> None:
        """Replay until cancelled (the feed loops, so it never runs out)."""
        await paced(self._step, self._bars_per_second)

    def _step(self) -> bool:
        step = self._feed.next_step()
        if step is None:
            return False
        self._exchange.move_market(step.updates)
        return True
