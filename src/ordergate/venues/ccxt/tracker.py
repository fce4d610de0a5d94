"""The adapter's last-known state of each order, and the events it has said so far.

The venue says what an order is now (an order update, a query's answer, a poll); the
engine wants what happened, each thing once. The tracker turns the first into the
second and remembers enough to never say a transition twice, whatever arrives
duplicated, reordered or late:

- An order is acknowledged once: before its first fill or status event, whichever
  comes first (a fill can arrive before the order update that acknowledges it).
- A final status (filled, canceled, expired, rejected) is said once; anything about
  the order's status after it is stale and dropped. Fills are still passed on: a fill
  may arrive after the cancel that ended the order.
- An update older than the newest one applied (by the venue's update time) is dropped;
  a change of terms is said only from a newer update, or when it is the replace this
  adapter asked for.
- Executions pass once per trade id.

It also keeps what the venue reported as filled per order, so an order whose cumulative
fill runs ahead of the executions seen can have the missing ones fetched (see `stream`).
It is a translator: it never touches ordergate's orders, only remembers what it said.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal

from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import ZERO, OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.venue_reports import (
    VenueEvent,
    VenueFill,
    VenueOrderAccepted,
    VenueOrderCanceled,
    VenueOrderExpired,
    VenueOrderRejected,
    VenueOrderReplaced,
    VenueOrderReport,
    VenueOrderRequest,
)

Terms = tuple[Decimal, Decimal | None, Decimal | None]

# Settled orders kept for de-duplication beyond which the oldest are forgotten (the
# engine de-duplicates fills by trade id too, so forgetting only costs a dropped event).
MAX_SETTLED = 10_000

_CANCELED_UNFILLED = {
    TimeInForce.IOC: ReasonCode.IOC_UNFILLED,
    TimeInForce.FOK: ReasonCode.FOK_UNFILLED,
}


@dataclass(slots=True)
class TrackedOrder:
    client_order_id: str
    symbol: str
    side: Side | None = None
    type: OrderType | None = None
    time_in_force: TimeInForce | None = None
    terms: Terms | None = None
    venue_order_id: str | None = None
    acknowledged: bool = False
    final: bool = False
    last_update_ts: int = -1
    reported_filled: Decimal = ZERO
    streamed_filled: Decimal = ZERO
    trade_ids: set[str] = field(default_factory=set)
    cancel_requested: bool = False
    requested_terms: Terms | None = None

    @property
    def missing_fills(self) -> bool:
        """The venue reported more filled than the executions passed on."""
        return self.reported_filled > self.streamed_filled


class OrderTracker:
    def __init__(self) -> None:
        self._orders: OrderedDict[str, TrackedOrder] = OrderedDict()
        self._by_venue_id: dict[str, str] = {}

    def get(self, client_order_id: str) -> TrackedOrder | None:
        return self._orders.get(client_order_id)

    def client_order_id_of(self, venue_order_id: str) -> str | None:
        return self._by_venue_id.get(venue_order_id)

    def working(self) -> list[TrackedOrder]:
        """Orders not known to be final."""
        return [o for o in self._orders.values() if not o.final]

    # --- what the adapter asked for --------------------------------------------------------

    def submitted(self, request: VenueOrderRequest) -> None:
        order = self._order(request.client_order_id, request.symbol)
        order.side = request.side
        order.type = request.type
        order.time_in_force = request.time_in_force
        order.terms = (request.qty, request.price, request.stop_price)

    def refused(self, client_order_id: str) -> None:
        """The venue refused the submit for good: there is no order to track."""
        order = self._orders.get(client_order_id)
        if order is not None and not order.acknowledged and not order.trade_ids:
            del self._orders[client_order_id]

    def cancel_requested(self, client_order_id: str, symbol: str) -> None:
        self._order(client_order_id, symbol).cancel_requested = True

    def replace_requested(self, client_order_id: str, symbol: str, terms: Terms | None) -> None:
        """Remember the terms a replace asked for (None: the replace was refused)."""
        self._order(client_order_id, symbol).requested_terms = terms

    def identified(self, client_order_id: str, symbol: str, venue_order_id: str | None) -> None:
        if venue_order_id is not None:
            self._order(client_order_id, symbol).venue_order_id = venue_order_id
            self._by_venue_id[venue_order_id] = client_order_id

    # --- what the venue said ---------------------------------------------------------------

    def on_report(self, report: VenueOrderReport) -> list[VenueEvent]:
        """Events for what an order update or query answer says that was not said yet."""
        order = self._order(report.client_order_id, report.symbol)
        self.identified(report.client_order_id, report.symbol, report.venue_order_id)
        order.side = order.side or report.side
        order.type = order.type or report.type
        if report.filled_qty > order.reported_filled:
            order.reported_filled = report.filled_qty
        if order.final or report.ts < order.last_update_ts:
            return []  # said already, or older than what was applied
        newer = report.ts > order.last_update_ts
        order.last_update_ts = report.ts
        coid, ts = report.client_order_id, report.ts
        events: list[VenueEvent] = []
        if report.status is OrderStatus.REJECTED and not order.acknowledged:
            order.final = True
            reason = "rejected by the venue"
            return [VenueOrderRejected(coid, ReasonCode.VENUE_REJECTED, reason, None, ts)]
        events += self._acknowledge(order, report.venue_order_id, ts)
        status = report.status
        if status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED):
            events += self._terms_changed(order, report, newer)
        elif status is OrderStatus.FILLED:
            order.final = True  # its fills say it
        elif status is OrderStatus.EXPIRED:
            order.final = True
            events.append(VenueOrderExpired(coid, None, None, ts, report.filled_qty))
        else:  # CANCELED, or REJECTED after it worked: it stopped working
            order.final = True
            events.append(self._canceled(order, report))
        return events

    def on_fill(self, fill: VenueFill, venue_order_id: str | None) -> list[VenueEvent]:
        """The fill, once per trade id, after the order's acknowledgement."""
        order = self._order(fill.client_order_id, fill.symbol)
        if fill.trade_id in order.trade_ids:
            return []
        self.identified(fill.client_order_id, fill.symbol, venue_order_id)
        order.side = order.side or fill.side
        order.trade_ids.add(fill.trade_id)
        order.streamed_filled += fill.qty
        events = [] if order.final else self._acknowledge(order, venue_order_id, fill.ts)
        events.append(fill)
        return events

    # --- helpers ---------------------------------------------------------------------------

    def _order(self, client_order_id: str, symbol: str) -> TrackedOrder:
        order = self._orders.get(client_order_id)
        if order is None:
            order = self._orders[client_order_id] = TrackedOrder(client_order_id, symbol)
            self._forget_oldest_settled()
        return order

    def _forget_oldest_settled(self) -> None:
        settled = [c for c, o in self._orders.items() if o.final and not o.missing_fills]
        for client_order_id in settled[: max(0, len(settled) - MAX_SETTLED)]:
            order = self._orders.pop(client_order_id)
            if order.venue_order_id is not None:
                self._by_venue_id.pop(order.venue_order_id, None)

    def _acknowledge(
        self, order: TrackedOrder, venue_order_id: str | None, ts: int
    ) -> list[VenueEvent]:
        if order.acknowledged:
            return []
        order.acknowledged = True
        return [VenueOrderAccepted(order.client_order_id, venue_order_id, None, ts)]

    def _terms_changed(
        self, order: TrackedOrder, report: VenueOrderReport, newer: bool
    ) -> list[VenueEvent]:
        terms = (report.qty, report.price, report.stop_price)
        asked = order.requested_terms is not None and terms == order.requested_terms
        if order.terms is None or terms == order.terms or not (newer or asked):
            order.terms = order.terms or terms
            return []
        order.terms = terms
        order.requested_terms = None
        return [
            VenueOrderReplaced(
                report.client_order_id, report.qty, report.price, report.stop_price, None, report.ts
            )
        ]

    def _canceled(self, order: TrackedOrder, report: VenueOrderReport) -> VenueEvent:
        code: str | None = None
        reason: str | None = None
        if report.status is OrderStatus.REJECTED:
            code, reason = ReasonCode.VENUE_REJECTED, "rejected by the venue after it worked"
        elif not order.cancel_requested and order.time_in_force in _CANCELED_UNFILLED:
            code = _CANCELED_UNFILLED[order.time_in_force]
        return VenueOrderCanceled(
            report.client_order_id, code, reason, None, report.ts, report.filled_qty
        )
