"""`PaperVenue`: the deterministic paper venue behind the `Venue` port.

It is three ports at once: the `Venue` (orders, queries, an event stream), the
`MarketData` (`quote`) and the `Clock` (`now_ns`, market-data time), so ordergate in
paper mode reads time and prices from the same replay that fills its orders.

Its requests are those of every book in this process (`venues.in_process`). The market
moves only by `advance()`: one feed step per call, driven by `run()` at a pace or called
directly by tests and replays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from ordergate.domain.instruments import Instrument
from ordergate.engine.venue_reports import VenueBalance, VenueOrderReport, VenuePosition
from ordergate.matching.core import MatchingEngine
from ordergate.matching.feed import FeedStep, ReplayFeed
from ordergate.matching.market import PaperMarket
from ordergate.matching.pacing import paced
from ordergate.matching.restore import RestoredOrder
from ordergate.matching.rules import ExecutionRules
from ordergate.venues.in_process import InProcessVenue


class PaperVenue(InProcessVenue):
    """A simulated exchange over replayed market data: a `Venue`, `MarketData` and `Clock`."""

    def __init__(
        self,
        instruments: Sequence[Instrument],
        feed: ReplayFeed,
        balances: Mapping[str, Mapping[str, Decimal]],
        *,
        session: str,
        rules: Mapping[str, ExecutionRules] | None = None,
        name: str = "paper",
    ) -> None:
        """Create the venue; `session` (ordergate passes its journal's head sequence)
        keeps order and trade ids unique across restarts."""
        first = feed.first_ts
        start = 0 if first is None else first - feed.interval_ns
        core = MatchingEngine(instruments, balances, session=session, rules=rules, start_ns=start)
        super().__init__(core, name)
        self._feed = feed

    @classmethod
    def from_market(
        cls,
        market: PaperMarket,
        balances: Mapping[str, Mapping[str, Decimal]],
        *,
        session: str,
        name: str = "paper",
    ) -> PaperVenue:
        """Build a venue over a loaded market (see `load_market`, `load_demo_market`)."""
        return cls(
            market.instruments,
            market.feed,
            balances,
            session=session,
            rules=market.rules,
            name=name,
        )

    # --- Clock ------------------------------------------------------------------------------

    def now_ns(self) -> int:
        """Market-data time; before the first step, the first step's time minus one interval."""
        return self._core.now_ns

    # --- the market --------------------------------------------------------------------------

    def advance(self) -> bool:
        """Match the next feed step; return False (changing nothing) at the end of data."""
        step = self._feed.next_step()
        if step is None:
            return False
        self.apply_step(step)
        return True

    def apply_step(self, step: FeedStep) -> None:
        """Match one market step that comes from outside the replay (live quotes, a test's
        scenario); its time must not be earlier than the venue's."""
        self._publish(self._core.apply_step(step))

    def seek(self, ts: int) -> None:
        """Skip, without matching, every step at or before `ts` (after a restart).

        The skipped steps still set the current prices, and the clock reads at least `ts`.
        """
        self._core.skip_to(ts, self._feed.seek(ts))

    async def run(self, bars_per_second: float) -> None:
        """Advance at `bars_per_second` steps per second until cancelled or out of data
        (`matching.pacing`); the times the venue reports are always market-data times."""
        await paced(self.advance, bars_per_second)

    def restore(
        self,
        open_orders: Sequence[VenueOrderReport | RestoredOrder],
        positions: Sequence[VenuePosition],
        balances: Sequence[VenueBalance],
    ) -> None:
        """Re-seed the venue after a restart with ordergate's view (see `MatchingEngine`)."""
        self._publish(self._core.restore(open_orders, positions, balances))
