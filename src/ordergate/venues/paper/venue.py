"""`PaperVenue`: the deterministic paper venue behind the `Venue` port.

It is three ports at once: the `Venue` (orders, queries, an event stream), the
`MarketData` (`quote`) and the `Clock` (`now_ns`, market-data time), so ordergate in
paper mode reads time and prices from the same replay that fills its orders.

Requests are `async def` that finish without suspending; what they cause is queued in
production order and delivered by `events()` (one consumer; a deque and an
`asyncio.Event`, not a task per event). A submit always returns a receipt when the
client order id is new; its acceptance or rejection arrives on the stream, as on most
exchanges. The market moves only by `advance()`: one feed step per call, driven by
`run()` at a pace or called directly by tests and replays.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal
from typing import Final

from ordergate.domain.errors import InvalidRequest, RetryableVenueError
from ordergate.domain.instruments import Instrument
from ordergate.engine.venue_reports import (
    Quote,
    SubmitReceipt,
    VenueBalance,
    VenueEvent,
    VenueFill,
    VenueOrderRejected,
    VenueOrderReport,
    VenueOrderRequest,
    VenuePosition,
)
from ordergate.matching.core import CLOSED_ORDER_HISTORY, MatchingEngine
from ordergate.matching.feed import FeedStep, ReplayFeed
from ordergate.matching.market import PaperMarket
from ordergate.matching.restore import RestoredOrder
from ordergate.matching.rules import ExecutionRules

# Behind schedule by more than this, the pacing loop starts a new schedule instead of
# replaying the backlog in one burst.
_MAX_LAG_SECONDS = 1.0


# Executions per account the venue still lists (`get_fills`), as many as closed orders.
FILL_HISTORY: Final = CLOSED_ORDER_HISTORY


class PaperVenue:
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
        self._core = MatchingEngine(
            instruments, balances, session=session, rules=rules, start_ns=start
        )
        self._feed = feed
        self._name = name
        self._connected = False
        self._queue: deque[VenueEvent] = deque()
        # The latest executions since this venue started, per account (a restart forgets
        # them, as the rest of its memory; a venue's execution history ends somewhere).
        self._fills: dict[str, deque[VenueFill]] = {}
        self._ready = asyncio.Event()

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

    @property
    def name(self) -> str:
        return self._name

    @property
    def live(self) -> bool:
        return False

    @property
    def acceptance_window(self) -> float:
        return 0.0  # in process: a request is carried out, or not, before its call returns

    @property
    def instruments(self) -> Mapping[str, Instrument]:
        return self._core.instruments

    # --- Clock and MarketData ----------------------------------------------------------------

    def now_ns(self) -> int:
        """Market-data time; before the first step, the first step's time minus one interval."""
        return self._core.now_ns

    def quote(self, symbol: str) -> Quote | None:
        return self._core.quote(symbol)

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
        """Advance at `bars_per_second` steps per second until cancelled or out of data.

        Steps are scheduled by the event loop's monotonic time, so the pace does not
        drift; the times the venue reports are always market-data times.
        """
        if bars_per_second <= 0:
            raise InvalidRequest("bars_per_second must be positive")
        period = 1.0 / bars_per_second
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            delay = due - loop.time()
            # Sleeping even when late lets the event consumer run between steps.
            await asyncio.sleep(max(delay, 0.0))
            if not self.advance():
                return
            due += period
            now = loop.time()
            if now - due > _MAX_LAG_SECONDS:
                due = now

    def restore(
        self,
        open_orders: Sequence[VenueOrderReport | RestoredOrder],
        positions: Sequence[VenuePosition],
        balances: Sequence[VenueBalance],
    ) -> None:
        """Re-seed the venue after a restart with ordergate's view (see `MatchingEngine`)."""
        self._publish(self._core.restore(open_orders, positions, balances))

    # --- Venue -------------------------------------------------------------------------------

    async def connect(self) -> None:
        self._connected = True

    async def disconnect(self) -> None:
        self._connected = False

    async def submit_order(self, request: VenueOrderRequest) -> SubmitReceipt:
        self._require_connection()
        venue_order_id, events = self._core.submit(request, stream_ack=False)
        # The paper venue decides at once, so its answer is the acceptance itself: the
        # receipt says so, and the stream (numbered without gaps) carries only what follows.
        rejected = bool(events) and isinstance(events[0], VenueOrderRejected)
        self._publish(events)
        return SubmitReceipt(venue_order_id, accepted=not rejected)

    async def cancel_order(self, account: str, symbol: str, client_order_id: str) -> None:
        self._require_connection()
        self._publish(self._core.cancel(account, symbol, client_order_id))

    async def replace_order(
        self,
        account: str,
        symbol: str,
        client_order_id: str,
        qty: Decimal,
        price: Decimal | None,
        stop_price: Decimal | None,
    ) -> None:
        self._require_connection()
        self._publish(self._core.replace(account, symbol, client_order_id, qty, price, stop_price))

    async def get_order(
        self, account: str, symbol: str, client_order_id: str
    ) -> VenueOrderReport | None:
        self._require_connection()
        return self._core.order_report(account, symbol, client_order_id)

    async def get_open_orders(
        self, account: str, symbol: str | None = None
    ) -> list[VenueOrderReport]:
        self._require_connection()
        return self._core.open_orders(account, symbol)

    async def get_positions(self, account: str) -> list[VenuePosition]:
        self._require_connection()
        return self._core.positions(account)

    async def get_balances(self, account: str) -> list[VenueBalance]:
        self._require_connection()
        return self._core.balances(account)

    async def get_fills(self, account: str, since_ts: int = 0) -> list[VenueFill]:
        self._require_connection()
        return [f for f in self._fills.get(account, []) if f.ts >= since_ts]

    async def events(self) -> AsyncIterator[VenueEvent]:
        """Yield the venue's events in production order, waiting when there are none."""
        queue = self._queue
        while True:
            while queue:
                yield queue.popleft()
            self._ready.clear()
            await self._ready.wait()

    # --- helpers -----------------------------------------------------------------------------

    def _publish(self, events: list[VenueEvent]) -> None:
        if events:
            self._queue.extend(events)
            self._ready.set()
            for event in events:
                if isinstance(event, VenueFill):
                    fills = self._fills.get(event.account)
                    if fills is None:
                        fills = self._fills[event.account] = deque(maxlen=FILL_HISTORY)
                    fills.append(event)

    def _require_connection(self) -> None:
        if not self._connected:
            raise RetryableVenueError(f"venue {self._name} is not connected")
