"""`OrderRegistry`: the orders of ordergate's that the NautilusTrader venue answers for.

An open order has notes (`translate.OrderNotes`: what NautilusTrader's order does not
say). A closed one keeps its notes and its last report, the latest `history` of them:
NautilusTrader's cache is purged of closed orders, and the venue still answers queries,
refusals of duplicates and late cancels for them, as the paper venue forgets only its
oldest closed orders.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Final

from ordergate.engine.venue_reports import VenueOrderReport
from ordergate.venues.nautilus.translate import OrderNotes

CLOSED_ORDER_HISTORY: Final = 10_000


class OrderRegistry:
    """Open orders' notes and closed orders' last reports, by client order id."""

    def __init__(self, history: int = CLOSED_ORDER_HISTORY) -> None:
        self._open: dict[str, OrderNotes] = {}
        self._closed: OrderedDict[str, tuple[VenueOrderReport | None, OrderNotes]] = OrderedDict()
        self._history = history
        self._arrivals = 0

    def next_arrival(self) -> int:
        """The arrival number of the next order (open orders are listed in this order)."""
        self._arrivals += 1
        return self._arrivals

    def knows(self, client_order_id: str) -> bool:
        return client_order_id in self._open or client_order_id in self._closed

    def is_empty(self) -> bool:
        return not self._open and not self._closed

    def add(self, client_order_id: str, notes: OrderNotes) -> None:
        self._open[client_order_id] = notes

    def discard(self, client_order_id: str) -> None:
        """Forget an order that never reached NautilusTrader."""
        self._open.pop(client_order_id, None)

    def open_notes(self, client_order_id: str) -> OrderNotes | None:
        return self._open.get(client_order_id)

    def notes(self, client_order_id: str) -> OrderNotes | None:
        """An order's notes, open or closed."""
        notes = self._open.get(client_order_id)
        if notes is None and client_order_id in self._closed:
            notes = self._closed[client_order_id][1]
        return notes

    def close(self, client_order_id: str, report: VenueOrderReport | None) -> None:
        """Move an open order to the closed ones with its last report (None: denied by
        NautilusTrader's risk engine, never at the exchange)."""
        self.remember(client_order_id, report, self._open.pop(client_order_id))

    def remember(
        self, client_order_id: str, report: VenueOrderReport | None, notes: OrderNotes
    ) -> None:
        """Keep a closed order (one that never reached NautilusTrader, too)."""
        self._closed[client_order_id] = (report, notes)
        if len(self._closed) > self._history:
            self._closed.popitem(last=False)

    def closed_report(self, client_order_id: str) -> VenueOrderReport | None:
        closed = self._closed.get(client_order_id)
        return None if closed is None else closed[0]
