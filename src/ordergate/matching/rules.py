"""Fill price rules of the paper venue: pure functions of an order's terms and one point.

A point is reached either by a *gap* (the first point of a symbol's step, jumping from
the previous step's close, and every quote) or by *continuous* movement along a bar
(the later points of O → H/L → L/H → C). The difference decides stop prices:

- a resting limit is touched when the ask falls to it (buy) or the bid rises to it
  (sell), and fills at its limit, also when a gap jumps past it: a resting order is in
  the book, and the market cannot trade through it without trading with it at its
  price (the better price of an opening auction is not modelled; docs/decisions/0034).
- a stop triggers when the ask rises to it (buy) or the bid falls to it (sell). Reached
  continuously, it triggers at the stop price; by a gap, at the point's price, which is
  then worse. A stop-market fills there plus slippage.
- a market order, or a limit marketable on arrival, takes the current ask (buy) or bid
  (sell); market orders and stops add `slippage_ticks` adverse ticks, limits never do
  (a limit is a promise about the worst price).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.values import ZERO, Side
from ordergate.matching.marketdata import PricePoint


@dataclass(frozen=True, slots=True)
class ExecutionRules:
    """How the paper venue fills one instrument, beyond the instrument's own grid.

    `slippage_ticks`: adverse ticks added to market and stop fills. `max_passive_qty_per_step`:
    at most this much of one resting order fills as maker per step (None: no cap); the
    rest stays working.
    """

    slippage_ticks: int = 0
    max_passive_qty_per_step: Decimal | None = None

    def __post_init__(self) -> None:
        if self.slippage_ticks < 0:
            raise InvalidRequest("slippage_ticks must not be negative")
        cap = self.max_passive_qty_per_step
        if cap is not None and cap <= ZERO:
            raise InvalidRequest("max_passive_qty_per_step must be positive")


def taker_price(side: Side, point: PricePoint) -> Decimal:
    """The price a marketable order on `side` takes at `point`."""
    return point.ask if side is Side.BUY else point.bid


def with_slippage(side: Side, price: Decimal, slippage: Decimal, tick_size: Decimal) -> Decimal:
    """Move `price` by `slippage` against `side`, never below one tick."""
    if side is Side.BUY:
        return price + slippage
    return max(price - slippage, tick_size)


def is_marketable(side: Side, limit: Decimal, point: PricePoint) -> bool:
    """Whether a limit on `side` crosses the book at `point` (also: is touched there)."""
    return point.ask <= limit if side is Side.BUY else point.bid >= limit


def is_triggered(side: Side, stop: Decimal, point: PricePoint) -> bool:
    """Whether a stop on `side` triggers at `point`."""
    return point.ask >= stop if side is Side.BUY else point.bid <= stop


def trigger_price(side: Side, stop: Decimal, point: PricePoint, gap: bool) -> Decimal:
    """Where a triggered stop becomes a market order: at the stop, or worse through a gap."""
    if not gap:
        return stop
    return max(stop, point.ask) if side is Side.BUY else min(stop, point.bid)
