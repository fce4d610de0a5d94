"""Orders at the paper venue, and the index of one symbol's resting orders by price.

The index answers one question per step cheaply: which resting orders could act
somewhere within the step's price range? Each order sits in one of five lists, each
sorted by price, lowest first, so that the orders a range reaches are a prefix or a
suffix:

- buy limits (touched when the lowest ask falls to them: a suffix);
- sell limits (touched when the highest bid rises to them: a prefix);
- buy stops, by stop price (triggered when the highest ask rises to them: a prefix);
- sell stops, by stop price (triggered when the lowest bid falls to them: a suffix);
- market orders that arrived before the symbol had a price (all act at the next point).

Keys hold the order's own price objects, never a negated copy: a resting order costs
no Decimal of its own in the index.

Ties are broken by `priority` (arrival order), so the result never depends on dict or
set order; candidates come back in priority order.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from decimal import Decimal

from ordergate.domain.values import ZERO, OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.venue_reports import VenueOrderReport

_Key = tuple[Decimal, int]
# Sort before and after every priority: (bound, _BEFORE_ALL) precedes every key priced at
# `bound`, (bound, _AFTER_ALL) follows them.
_BEFORE_ALL = -1
_AFTER_ALL = 2**63


@dataclass(slots=True, eq=False)
class PaperOrder:
    """One order as the paper venue knows it; mutated only by the matching core."""

    priority: int
    venue_order_id: str
    client_order_id: str
    account: str
    symbol: str
    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    time_in_force: TimeInForce
    reduce_only: bool
    accepted_day: int
    ts: int
    status: OrderStatus = OrderStatus.ACCEPTED
    filled_qty: Decimal = ZERO
    filled_notional: Decimal = ZERO
    triggered: bool = False
    # Passive fills of the current step, for the per-step liquidity cap.
    cap_step_ts: int = -1
    cap_used: Decimal = ZERO
    # What this order's margin is counted at in its account's reserved total: the qty,
    # filled qty and price it was valued with (the order's own numbers, so an open order
    # holds no margin Decimal of its own; `WorkingOrders.counted_margin` values them).
    counted_qty: Decimal = ZERO
    counted_filled: Decimal = ZERO
    counted_price: Decimal | None = None

    @property
    def leaves_qty(self) -> Decimal:
        return self.qty - self.filled_qty

    @property
    def is_open(self) -> bool:
        return self.status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)

    @property
    def is_stop_pending(self) -> bool:
        """A stop or stop-limit that has not triggered yet."""
        return self.type.needs_stop_price and not self.triggered

    @property
    def reserve_price(self) -> Decimal | None:
        """The price its margin reservation is valued at (None for an unpriced market)."""
        return self.price if self.price is not None else self.stop_price

    def report(self) -> VenueOrderReport:
        avg = self.filled_notional / self.filled_qty if self.filled_qty > ZERO else None
        return VenueOrderReport(
            client_order_id=self.client_order_id,
            venue_order_id=self.venue_order_id,
            account=self.account,
            symbol=self.symbol,
            side=self.side,
            type=self.type,
            qty=self.qty,
            price=self.price,
            stop_price=self.stop_price,
            status=self.status,
            filled_qty=self.filled_qty,
            avg_fill_price=avg,
            ts=self.ts,
        )


class RestingOrders:
    """The open orders of one symbol that wait for the market, indexed by price."""

    __slots__ = (
        "_buy_limits",
        "_buy_stops",
        "_orders",
        "_placed",
        "_sell_limits",
        "_sell_stops",
        "_unpriced",
    )

    def __init__(self) -> None:
        self._buy_limits: list[_Key] = []
        self._sell_limits: list[_Key] = []
        self._buy_stops: list[_Key] = []
        self._sell_stops: list[_Key] = []
        self._unpriced: list[_Key] = []
        self._orders: dict[int, PaperOrder] = {}
        self._placed: dict[int, tuple[list[_Key], _Key]] = {}

    def __len__(self) -> int:
        return len(self._orders)

    def __contains__(self, order: PaperOrder) -> bool:
        return order.priority in self._orders

    def add(self, order: PaperOrder) -> None:
        """Index an order where its current terms make it wait (re-index if present)."""
        self.remove(order)
        index, key = self._slot(order)
        bisect.insort(index, key)
        self._orders[order.priority] = order
        self._placed[order.priority] = (index, key)

    def remove(self, order: PaperOrder) -> None:
        placed = self._placed.pop(order.priority, None)
        if placed is None:
            return
        index, key = placed
        del index[bisect.bisect_left(index, key)]
        del self._orders[order.priority]

    def candidates(
        self, min_bid: Decimal, max_bid: Decimal, min_ask: Decimal, max_ask: Decimal
    ) -> list[PaperOrder]:
        """Orders that may act within a step whose prices span these bounds, by priority."""
        if not self._orders:
            return []
        keys = [
            *self._unpriced,
            *_at_least(self._buy_limits, min_ask),
            *_at_most(self._sell_limits, max_bid),
            *_at_most(self._buy_stops, max_ask),
            *_at_least(self._sell_stops, min_bid),
        ]
        priorities = sorted(key[1] for key in keys)
        return [self._orders[priority] for priority in priorities]

    def _slot(self, order: PaperOrder) -> tuple[list[_Key], _Key]:
        buy = order.side is Side.BUY
        if order.is_stop_pending and order.stop_price is not None:
            if buy:
                return self._buy_stops, (order.stop_price, order.priority)
            return self._sell_stops, (order.stop_price, order.priority)
        if order.price is None:
            return self._unpriced, (ZERO, order.priority)
        if buy:
            return self._buy_limits, (order.price, order.priority)
        return self._sell_limits, (order.price, order.priority)


def _at_most(index: list[_Key], bound: Decimal) -> list[_Key]:
    """The keys priced at most `bound`."""
    if not index or index[0][0] > bound:
        return []
    return index[: bisect.bisect_right(index, (bound, _AFTER_ALL))]


def _at_least(index: list[_Key], bound: Decimal) -> list[_Key]:
    """The keys priced at least `bound`."""
    if not index or index[-1][0] < bound:
        return []
    return index[bisect.bisect_left(index, (bound, _BEFORE_ALL)) :]
