"""What the writer publishes after each commit, as journaled: the orders, the margin open
orders reserve, and the gates. Queries and command answers read it, never the live state
a batch may be deciding ahead of the journal (write-ahead).

The orders are not a view per order: that was a second copy of every order held (240
bytes each, beside the order itself). Between batches the live state *is* the journaled
state, so an order's view is built from it when asked. Only the orders that a batch not
yet journaled has changed hold their view as of the last commit (`None` for an order
journaled nowhere yet), from the first change until the commit that catches up with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ordergate.domain.events import (
    ORDER_EVENT_TYPES,
    Event,
    FinishedOrdersRetired,
    RetiredOrderRecalled,
)
from ordergate.engine.results import Gates
from ordergate.engine.state import HeldTarget, OmsState
from ordergate.engine.views import OrderView, ReadModelChanges


@dataclass(frozen=True, slots=True)
class BatchEnd:
    """What a closed batch leaves its orders as (`ends`: None for one it retired), and
    the views its answers may name (`views`: a retired order's as it was retired)."""

    ends: dict[str, OrderView | None]
    views: dict[str, OrderView]


class PublishedOrders:
    """Order views as last journaled: `get` and `[]` by order id."""

    __slots__ = ("_held", "_latest", "_state", "_touched", "_touched_in_open")

    def __init__(self, state: OmsState) -> None:
        self._state = state
        # Orders changed by a batch not journaled yet: their view as of the last commit.
        self._held: dict[str, OrderView | None] = {}
        # Which batch last changed each held order: 0 the open one, 1 the one appending.
        self._touched: dict[str, int] = {}
        self._touched_in_open: list[str] = []
        # The views of the last commit's batch: its answers, built right after, find theirs.
        self._latest: dict[str, OrderView] = {}

    def get(self, order_id: str) -> OrderView | None:
        held = self._held
        if order_id in held:
            return held[order_id]
        view = self._latest.get(order_id)
        if view is not None:
            return view
        order = self._state.orders.get(order_id)
        return None if order is None else OrderView.of(order)

    def __getitem__(self, order_id: str) -> OrderView:
        view = self.get(order_id)
        if view is None:
            raise KeyError(order_id)
        return view

    def before(self, event: Event) -> None:
        """Hold, before the open batch changes them, the journaled views of the orders
        `event` will change (create, retire, recall)."""
        if type(event) in ORDER_EVENT_TYPES:
            self._hold(event.order_id)  # type: ignore[union-attr]
        elif isinstance(event, FinishedOrdersRetired):
            for order_id in event.order_ids:
                self._hold(order_id)
        elif isinstance(event, RetiredOrderRecalled):
            self._hold(event.order.order_id)

    def _hold(self, order_id: str) -> None:
        touched = self._touched.get(order_id)
        if touched == 0:
            return
        if touched is None:
            self._held[order_id] = self.get(order_id)  # live is journaled: nothing pending
        self._touched[order_id] = 0
        self._touched_in_open.append(order_id)

    def close(self, changes: ReadModelChanges) -> BatchEnd:
        """The open batch is closed (and goes to append): what its orders are at its end,
        to publish when it is journaled."""
        views = {view.order_id: view for view in changes.orders}
        ends: dict[str, OrderView | None] = dict(views)
        orders, held = self._state.orders, self._held
        for order_id in self._touched_in_open:
            if order_id not in orders:
                ends[order_id] = None  # retired by the batch
                last = views.get(order_id) or held.get(order_id)
                if last is not None:
                    views[order_id] = last  # as it was retired: its answers may name it
            elif order_id not in ends:
                ends[order_id] = OrderView.of(orders[order_id])  # refused: unchanged
            self._touched[order_id] = 1
        self._touched_in_open = []
        return BatchEnd(ends, views)

    def committed(self, end: BatchEnd) -> None:
        """The appending batch is journaled: its orders' ends are what is journaled now.
        An order the open batch has changed since holds that end; the others need nothing.
        The batch's answers, built next, find every order it named, a retired one too."""
        held, touched = self._held, self._touched
        for order_id, view in end.ends.items():
            if touched.get(order_id) == 1:
                del held[order_id]
                del touched[order_id]
            else:
                held[order_id] = view
        self._latest = end.views

    @property
    def held_count(self) -> int:
        """Orders holding a view of their own now (bounded by two batches' worth)."""
        return len(self._held)


@dataclass(slots=True)
class Published:
    """The orders, the reserved margin, the gates and the targets, as journaled."""

    orders: PublishedOrders
    reserved: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    gates: Gates = field(default_factory=Gates)
    targets: dict[tuple[str, str, str], HeldTarget] = field(default_factory=dict)
