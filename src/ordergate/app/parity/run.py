"""Run one order stream on the paper venue and on NautilusTrader over the same bars.

Both venues replay the same bar series, one feed step at a time, in lock step; before
each step every order whose `at` has been reached is submitted to both, in the file's
order, and every due cancel is sent to both. After each request and each step, what
each venue emitted is read (`drain_events`) and recorded against its order. The run
stops when the data end or when every order has been sent and has closed on both.

Nothing here judges a difference: `rules` does. This module records, per order and per
venue, what happened: the answer to the submit, every fill, how the order ended, the
position the order met, and the market it met.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final, Protocol

from ordergate.app.parity.orders import ParityOrder
from ordergate.domain.errors import RejectedByVenue
from ordergate.domain.instruments import Instrument
from ordergate.domain.values import ZERO, LiquiditySide, OrderStatus
from ordergate.engine.ports import Venue
from ordergate.engine.venue_reports import (
    VenueEvent,
    VenueFill,
    VenueOrderAccepted,
    VenueOrderCanceled,
    VenueOrderExpired,
    VenueOrderRejected,
    VenueOrderReplaced,
    VenueOrderRequest,
)
from ordergate.matching.feed import FeedStep, ReplayFeed
from ordergate.matching.marketdata import PricePoint, PriceSeries
from ordergate.matching.rules import ExecutionRules
from ordergate.venues.nautilus import NautilusVenue
from ordergate.venues.paper import PaperVenue

ACCOUNT: Final = "parity"
# A submit refused with an exception, not an event (a duplicate, say): its code.
_NOT_SENT = "NOT_SENT"


class SteppedVenue(Venue, Protocol):
    """A venue this module steps itself and reads between steps."""

    def apply_step(self, step: FeedStep) -> None: ...

    def drain_events(self) -> list[VenueEvent]: ...


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of an order on one venue."""

    ts: int
    qty: Decimal
    price: Decimal
    fee: Decimal
    liquidity: LiquiditySide


@dataclass(slots=True)
class Outcome:
    """What one venue did with one order."""

    sent: bool = False
    accepted: bool = False
    status: OrderStatus | None = None  # None: not sent (the data ended first)
    reason_code: str | None = None  # why it was rejected, canceled or expired
    fills: list[Fill] = field(default_factory=list)
    position_sent: Decimal = ZERO  # the account's position when the order was sent
    # ... when the venue first acted on it (its first fill, or how it ended): what a
    # reduce-only order was held to. None while it rests untouched.
    position_met: Decimal | None = None
    cancel_refused: str | None = None  # the code of a refused cancel request
    shrunk_to: Decimal | None = None  # the venue cut a reduce-only order to the position

    @property
    def filled_qty(self) -> Decimal:
        return sum((fill.qty for fill in self.fills), ZERO)


@dataclass(frozen=True, slots=True)
class Compared:
    """One order and what each venue did with it."""

    order: ParityOrder
    paper: Outcome
    nautilus: Outcome


@dataclass(frozen=True, slots=True)
class Market:
    """The price path both venues matched: each step's points, by step time."""

    series: PriceSeries
    tick_size: Decimal
    quote_size: Decimal

    def points_at(self, ts: int) -> tuple[PricePoint, ...]:
        """The points of the step at `ts` (none if no step has that time)."""
        times = self.series.event_times
        index = bisect.bisect_left(times, ts)
        if index == len(times) or times[index] != ts:
            return ()
        return self.series.points(index)

    def previous_point(self, ts: int) -> PricePoint | None:
        """The last point of the step before `ts`: where a step at `ts` jumped from."""
        index = bisect.bisect_left(self.series.event_times, ts)
        if index == 0:
            return None
        return self.series.points(index - 1)[-1]


@dataclass(frozen=True, slots=True)
class ParityRun:
    """Every order compared, the market they met, and each venue's position at the end
    (as the venue reports it)."""

    instrument: Instrument
    market: Market
    orders: tuple[Compared, ...]
    steps: int
    paper_position: Decimal
    nautilus_position: Decimal


async def run_parity(
    instrument: Instrument,
    series: PriceSeries,
    orders: Sequence[ParityOrder],
    *,
    balance: Decimal,
    quote_size: Decimal,
    rules: ExecutionRules | None = None,
) -> ParityRun:
    """Run `orders` on both venues over `series` (see the module). `rules` are the paper
    venue's execution rules for the instrument (a market file's slippage and passive
    cap): NautilusTrader has none, so what they change shows as unexplained."""
    symbol = instrument.symbol
    cash = {ACCOUNT: {instrument.quote_currency: balance}}
    feed = ReplayFeed({symbol: series})
    paper = PaperVenue(
        [instrument],
        ReplayFeed({symbol: series}),
        cash,
        session="parity",
        rules=None if rules is None else {symbol: rules},
    )
    nautilus = NautilusVenue(
        [instrument], ReplayFeed({symbol: series}), cash, session="parity", quote_size=quote_size
    )
    try:
        venues: dict[str, SteppedVenue] = {"paper": paper, "nautilus": nautilus}
        for venue in venues.values():
            await venue.connect()
        compared = {order.id: Compared(order, Outcome(), Outcome()) for order in orders}
        runner = _Runner(instrument, venues, compared)
        steps = await runner.run(feed, orders)
        positions = [await _position(venue, symbol) for venue in venues.values()]
    finally:
        nautilus.close()
    market = Market(series, instrument.tick_size, quote_size)
    return ParityRun(instrument, market, tuple(compared.values()), steps, *positions)


async def _position(venue: SteppedVenue, symbol: str) -> Decimal:
    for position in await venue.get_positions(ACCOUNT):
        if position.symbol == symbol:
            return position.qty
    return ZERO


class _Runner:
    def __init__(
        self,
        instrument: Instrument,
        venues: dict[str, SteppedVenue],
        compared: dict[str, Compared],
    ) -> None:
        self._instrument = instrument
        self._venues = venues
        self._compared = compared
        self._open: set[str] = set()
        # Each venue's position, from its fills (this run is the account's only trader).
        self._positions = dict.fromkeys(venues, ZERO)

    def _outcome(self, venue: str, client_order_id: str) -> Outcome:
        compared = self._compared[client_order_id]
        return compared.paper if venue == "paper" else compared.nautilus

    async def run(self, feed: ReplayFeed, orders: Sequence[ParityOrder]) -> int:
        submits = sorted(orders, key=lambda o: o.at)  # stable: the file's order at one time
        cancels = sorted(
            (o for o in orders if o.cancel_at is not None), key=lambda o: o.cancel_at or 0
        )
        next_submit = next_cancel = steps = 0
        while True:
            due = feed.peek_ts()  # None: the data ended, so everything left is due
            while next_submit < len(submits) and (due is None or submits[next_submit].at < due):
                await self._submit(submits[next_submit])
                next_submit += 1
            while next_cancel < len(cancels) and (
                due is None or (cancels[next_cancel].cancel_at or 0) < due
            ):
                await self._cancel(cancels[next_cancel])
                next_cancel += 1
            if due is None or (next_submit == len(submits) and not self._open):
                return steps
            step = feed.next_step()
            assert step is not None  # peek_ts said there is one
            steps += 1
            for name, venue in self._venues.items():
                venue.apply_step(step)
                self._record(name, venue.drain_events())

    async def _submit(self, order: ParityOrder) -> None:
        request = VenueOrderRequest(
            client_order_id=order.id,
            account=ACCOUNT,
            symbol=self._instrument.symbol,
            side=order.side,
            type=order.type,
            qty=order.qty,
            price=order.price,
            stop_price=order.stop_price,
            time_in_force=order.time_in_force,
            reduce_only=order.reduce_only,
        )
        self._open.add(order.id)
        for name, venue in self._venues.items():
            outcome = self._outcome(name, order.id)
            outcome.sent = True
            outcome.position_sent = self._positions[name]
            try:
                receipt = await venue.submit_order(request)
            except RejectedByVenue as exc:
                outcome.status, outcome.reason_code = OrderStatus.REJECTED, exc.code or _NOT_SENT
                outcome.position_met = outcome.position_sent
                self._record(name, venue.drain_events())
                continue
            if receipt.accepted:
                outcome.accepted = True
                outcome.status = OrderStatus.NEW
            self._record(name, venue.drain_events())
        self._settle(order.id)

    async def _cancel(self, order: ParityOrder) -> None:
        for name, venue in self._venues.items():
            outcome = self._outcome(name, order.id)
            if outcome.status is None or outcome.status.is_terminal:
                continue
            try:
                await venue.cancel_order(ACCOUNT, self._instrument.symbol, order.id)
            except RejectedByVenue as exc:
                outcome.cancel_refused = exc.code or _NOT_SENT
            self._record(name, venue.drain_events())
        self._settle(order.id)

    def _record(self, venue: str, events: list[VenueEvent]) -> None:
        touched = set()
        for event in events:
            coid = getattr(event, "client_order_id", None)
            if coid is None or coid not in self._compared:
                continue
            outcome = self._outcome(venue, coid)
            touched.add(coid)
            if outcome.position_met is None and not isinstance(event, VenueOrderAccepted):
                outcome.position_met = self._positions[venue]
            if isinstance(event, VenueFill):
                self._positions[venue] += event.side.sign * event.qty
                outcome.fills.append(
                    Fill(event.ts, event.qty, event.price, event.fee, event.liquidity)
                )
                qty = outcome.shrunk_to or self._compared[coid].order.qty
                outcome.status = (
                    OrderStatus.FILLED
                    if outcome.filled_qty >= qty
                    else OrderStatus.PARTIALLY_FILLED
                )
            elif isinstance(event, VenueOrderReplaced):
                outcome.shrunk_to = event.qty  # only a venue's own: this run replaces nothing
            elif isinstance(event, VenueOrderAccepted):
                outcome.accepted = True
                outcome.status = outcome.status or OrderStatus.NEW
            elif isinstance(event, VenueOrderRejected):
                outcome.status, outcome.reason_code = OrderStatus.REJECTED, event.reason_code
            elif isinstance(event, VenueOrderCanceled):
                outcome.status, outcome.reason_code = OrderStatus.CANCELED, event.reason_code
            elif isinstance(event, VenueOrderExpired):
                outcome.status, outcome.reason_code = OrderStatus.EXPIRED, event.reason_code
        for coid in touched:
            self._settle(coid)

    def _settle(self, client_order_id: str) -> None:
        """Forget an order as open once both venues have closed it."""
        compared = self._compared[client_order_id]
        if all(
            outcome.status is not None and outcome.status.is_terminal
            for outcome in (compared.paper, compared.nautilus)
        ):
            self._open.discard(client_order_id)
