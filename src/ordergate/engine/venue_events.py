"""What the venue says, turned into domain events: streamed events, request outcomes,
answers to queries, and recovery after a restart.

A venue event is applied only if the order state table has a row for it; one that does
not fit (a duplicate ack, a stale cancel) is dropped and counted, never forced. Fills are
de-duplicated by trade id before anything else.

This runs on the writer, where no caller's log context reaches: a line about an order
names its trace id itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog

from ordergate.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
    OrderReplaceRejected,
    OrderStatusUnknown,
    OrderSubmitted,
)
from ordergate.domain.orders import Order, can_request_cancel
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import ZERO, DirtyCause, OrderStatus, is_reasonable
from ordergate.engine.amendments import request_cancel
from ordergate.engine.brackets import after_change
from ordergate.engine.context import DecisionContext
from ordergate.engine.control import mark_all_accounts_dirty, mark_dirty
from ordergate.engine.dispatch import (
    CancelRequest,
    QueryAnswered,
    QueryFailed,
    QueryRequest,
    ReplaceRequest,
    RequestAmbiguous,
    RequestRefused,
    SubmitAnswered,
    VenueOutcome,
)
from ordergate.engine.venue_reports import (
    VenueCancelRejected,
    VenueEvent,
    VenueFill,
    VenueOrderAccepted,
    VenueOrderCanceled,
    VenueOrderExpired,
    VenueOrderRejected,
    VenueOrderReplaced,
    VenueOrderReport,
    VenueReconnected,
    VenueReplaceRejected,
)

log = structlog.get_logger("ordergate.venue_events")


def query_of(order: Order) -> QueryRequest:
    return QueryRequest(order.order_id, order.account, order.symbol, order.client_order_id)


class VenueEventTranslator:
    """Turns venue events and request outcomes into domain events, within a batch."""

    def __init__(self, ctx: DecisionContext, query_retry_delay: float) -> None:
        self._ctx = ctx
        self._query_retry_delay = query_retry_delay
        # ns after an ambiguous submit during which the venue may yet place the order
        # (the venue's `acceptance_window`, set once it is connected).
        self.acceptance_window_ns = 0
        self.unmatched = 0
        self.dropped = 0
        # The venue's last sequence number seen (in memory: a restart or a reconnect
        # starts afresh, and both mark every account dirty anyway).
        self.last_venue_seq: int | None = None
        # Asked about an item naming an order not held: True if it will come back once a
        # retired order is recalled (the writer's), False to count it unmatched now.
        self.defer_unknown: Callable[[str, object], bool] = lambda _coid, _item: False
        self._handlers: dict[type, Callable[[Any], None]] = {
            VenueReconnected: self._reconnected,
            VenueOrderAccepted: self._accepted,
            VenueOrderRejected: self._rejected,
            VenueFill: self.apply_fill,
            VenueOrderCanceled: self._canceled,
            VenueOrderExpired: self._expired,
            VenueOrderReplaced: self._replaced,
            VenueCancelRejected: self._cancel_rejected,
            VenueReplaceRejected: self._replace_rejected,
            SubmitAnswered: self._submit_answered,
            RequestRefused: self._request_refused,
            RequestAmbiguous: self._request_ambiguous,
            QueryAnswered: self._query_answered,
            QueryFailed: self._query_failed,
        }

    def handle(self, item: VenueEvent | VenueOutcome, *, resumed: bool = False) -> None:
        """Turn one item into events. `resumed`: it was held (`defer_unknown`) and its
        sequence number was checked when it arrived."""
        seq = getattr(item, "venue_seq", None)
        if seq is not None and not resumed:
            self._check_sequence(seq)
        self._handlers[type(item)](item)

    def _check_sequence(self, seq: int) -> None:
        """A skipped sequence number means an event was lost: every position is in doubt."""
        last = self.last_venue_seq
        if last is not None and seq > last + 1:
            detail = f"venue sequence jumped from {last} to {seq}"
            log.warning("venue sequence gap", last=last, seq=seq)
            mark_all_accounts_dirty(self._ctx, DirtyCause.SEQUENCE_GAP, detail)
        if last is None or seq > last:
            self.last_venue_seq = seq

    def _reconnected(self, event: VenueReconnected) -> None:
        self.last_venue_seq = None  # a new connection may number afresh
        detail = f"venue reconnected: {event.detail}"
        mark_all_accounts_dirty(self._ctx, DirtyCause.VENUE_RECONNECT, detail)

    def _apply(self, order: Order, event: OrderEvent, source: object) -> None:
        if not order.can_apply(event):
            self.dropped += 1
            log.warning(
                "venue event does not fit the order's state; dropped",
                order_id=order.order_id,
                trace_id=order.trace_id,
                status=order.status,
                venue_event=type(source).__name__,
            )
            return
        self._ctx.emit(event)
        after_change(self._ctx, order)

    def _matched(self, client_order_id: str, source: object) -> Order | None:
        """The order the venue item names; None if it names none held, in which case
        the item may be deferred until a retired order is recalled (`defer_unknown`)."""
        order = self._ctx.state.by_client_id.get(client_order_id)
        if order is None:
            if self.defer_unknown(client_order_id, source):
                return None
            self.unmatched += 1
            log.warning(
                "venue event for an order ordergate does not know",
                client_order_id=client_order_id,
                venue_event=type(source).__name__,
            )
            if isinstance(source, VenueFill) and source.account in self._ctx.state.accounts:
                # The position moved without ordergate: in doubt until reconciliation
                # adopts the fill from the venue's executions.
                detail = f"a fill ({source.trade_id}) of an order not sent here: {client_order_id}"
                cause = DirtyCause.UNKNOWN_FILL
                mark_dirty(self._ctx, source.account, source.symbol, cause, detail)
                # Reconcile even when the instrument was in doubt already: this fill may
                # postdate the snapshot of a reconciliation under way.
                self._ctx.batch.reconcile.add(source.account)
        return order

    # --- streamed events ------------------------------------------------------------------

    def _accepted(self, event: VenueOrderAccepted) -> None:
        if order := self._matched(event.client_order_id, event):
            self._apply(order, OrderAccepted(order.order_id, event.venue_order_id, event.ts), event)

    def _rejected(self, event: VenueOrderRejected) -> None:
        if order := self._matched(event.client_order_id, event):
            rejected = OrderRejected(order.order_id, event.reason_code, event.reason, event.ts)
            self._apply(order, rejected, event)

    def apply_fill(self, event: VenueFill) -> None:
        """Journal a venue execution for its order (reconciliation adopts fills this way)."""
        order = self._matched(event.client_order_id, event)
        if order is None:
            return
        if event.trade_id in order.trade_ids:
            return  # the same execution delivered again (websocket and REST, a resend)
        numbers_ok = (
            is_reasonable(event.qty) and is_reasonable(event.price) and event.fee.is_finite()
        )
        fits_order = (event.side, event.symbol, event.account) == (
            order.side,
            order.symbol,
            order.account,
        )
        if not numbers_ok or not fits_order or event.qty <= ZERO or event.price <= ZERO:
            self.dropped += 1
            log.error(
                "venue fill is malformed or contradicts its order; dropped",
                order_id=order.order_id,
                trace_id=order.trace_id,
                trade_id=event.trade_id,
                qty=str(event.qty),
                price=str(event.price),
                side=event.side,
                symbol=event.symbol,
                account=event.account,
            )
            return
        fill = OrderFilled(
            order_id=order.order_id,
            account=order.account,
            symbol=order.symbol,
            side=order.side,
            trade_id=event.trade_id,
            qty=event.qty,
            price=event.price,
            fee=event.fee,
            fee_currency=event.fee_currency,
            liquidity=event.liquidity,
            ts=event.ts,
            settlement_date=event.settlement_date,
        )
        self._apply(order, fill, event)

    def _canceled(self, event: VenueOrderCanceled) -> None:
        if order := self._matched(event.client_order_id, event):
            canceled = OrderCanceled(
                order.order_id, event.reason_code, event.reason, event.ts, event.filled_qty
            )
            self._apply(order, canceled, event)

    def _expired(self, event: VenueOrderExpired) -> None:
        if order := self._matched(event.client_order_id, event):
            expired = OrderExpired(order.order_id, event.reason_code, event.ts, event.filled_qty)
            self._apply(order, expired, event)

    def _replaced(self, event: VenueOrderReplaced) -> None:
        if order := self._matched(event.client_order_id, event):
            replaced = OrderReplaced(
                order.order_id, event.qty, event.price, event.stop_price, event.ts
            )
            self._apply(order, replaced, event)

    def _cancel_rejected(self, event: VenueCancelRejected) -> None:
        if order := self._matched(event.client_order_id, event):
            rejected = OrderCancelRejected(
                order.order_id, event.reason_code, event.reason, event.ts
            )
            self._apply(order, rejected, event)

    def _replace_rejected(self, event: VenueReplaceRejected) -> None:
        if order := self._matched(event.client_order_id, event):
            rejected = OrderReplaceRejected(
                order.order_id, event.reason_code, event.reason, event.ts
            )
            self._apply(order, rejected, event)

    # --- outcomes of our own requests -----------------------------------------------------

    def _requester(self, outcome: VenueOutcome) -> Order | None:
        """The order whose request this answers; None once it is retired: it was finished
        when it left the hot state, so nothing a late answer says can change it."""
        order = self._ctx.state.orders.get(outcome.order_id)
        if order is None:
            self.dropped += 1
            log.info(
                "answer to a request of a retired order; nothing to do",
                order_id=outcome.order_id,
                outcome=type(outcome).__name__,
            )
        return order

    def _submit_answered(self, outcome: SubmitAnswered) -> None:
        order = self._requester(outcome)
        if order is None:
            return
        if order.venue_acknowledged:
            return  # an ack or a fill overtook the answer: it says nothing new
        event: OrderEvent
        if outcome.accepted:
            event = OrderAccepted(order.order_id, outcome.venue_order_id, self._ctx.now())
        else:
            event = OrderSubmitted(order.order_id, outcome.venue_order_id, self._ctx.now())
        self._apply(order, event, outcome)

    def _request_refused(self, outcome: RequestRefused) -> None:
        order = self._requester(outcome)
        if order is None:
            return
        ts = self._ctx.now()
        event: OrderEvent
        if outcome.request == "submit":
            event = OrderRejected(order.order_id, outcome.reason_code, outcome.reason, ts)
        elif outcome.request == "cancel":
            event = OrderCancelRejected(order.order_id, outcome.reason_code, outcome.reason, ts)
        else:
            event = OrderReplaceRejected(order.order_id, outcome.reason_code, outcome.reason, ts)
        if order.can_apply(event):  # a late refusal of a settled order is no news
            self._apply(order, event, outcome)
        if outcome.request != "submit" and order.status.is_open:
            # "Not found" or "closed" says the order may be done at the venue already:
            # ask rather than assume it is working again.
            self._ctx.send(query_of(order))

    def _request_ambiguous(self, outcome: RequestAmbiguous) -> None:
        order = self._requester(outcome)
        if order is None:
            return
        detail = f"{outcome.request} of order {order.order_id} is ambiguous: {outcome.reason}"
        mark_dirty(self._ctx, order.account, order.symbol, DirtyCause.AMBIGUOUS_REQUEST, detail)
        event = OrderStatusUnknown(
            order.order_id, f"{outcome.request}: {outcome.reason}", self._ctx.now()
        )
        if order.can_apply(event):
            self._ctx.emit(event)
        self._ctx.send(query_of(order))

    def _query_failed(self, outcome: QueryFailed) -> None:
        order = self._requester(outcome)
        if order is None:
            return
        log.warning(
            "order query failed; asking again",
            order_id=order.order_id,
            trace_id=order.trace_id,
            reason=outcome.reason,
        )
        self._ctx.send_later(self._query_retry_delay, query_of(order))

    def _query_answered(self, outcome: QueryAnswered) -> None:
        order = self._requester(outcome)
        if order is None:
            return
        now = self._ctx.now()
        in_doubt = order.status in (OrderStatus.UNKNOWN, OrderStatus.SUBMITTED)
        if (
            outcome.report is None
            and in_doubt
            and now - order.updated_ts < self.acceptance_window_ns
        ):
            # The request may still be on its way to the venue (a timeout is the client
            # giving up, not the venue): "not found" is final only once the venue would
            # refuse it as too late.
            log.info(
                "order not at the venue yet; asking again",
                order_id=order.order_id,
                trace_id=order.trace_id,
            )
            self._ctx.send_later(self._query_retry_delay, query_of(order))
            return
        for event in resolution(order, outcome.report, now):
            if order.can_apply(event):
                self._apply(order, event, outcome)
        if order.cancel_requested and can_request_cancel(order.status):
            # The order turned out to be working, but a cancel was asked for and never
            # carried out (its request was lost, or cut off by a restart): ask again.
            request_cancel(self._ctx, order, "cancel sent again after the order was found")


def resolution(order: Order, report: VenueOrderReport | None, ts: int) -> list[OrderEvent]:
    """Events that bring an order in doubt to what the venue says it is.

    Fills are never invented from a report's filled quantity: executions carry trade ids
    and arrive as fills; a report only settles the order's status.
    """
    oid = order.order_id
    if report is None:
        if order.status in (OrderStatus.UNKNOWN, OrderStatus.SUBMITTED):
            return [
                OrderRejected(
                    oid,
                    ReasonCode.VENUE_ORDER_NOT_FOUND,
                    "the venue has no order with this client order id",
                    ts,
                )
            ]
        return []
    status = report.status
    if status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED):
        if order.filled_qty < report.filled_qty:
            log.warning(
                "venue reports fills ordergate has not seen yet",
                order_id=oid,
                trace_id=order.trace_id,
                ours=str(order.filled_qty),
                venue=str(report.filled_qty),
            )
        terms = (report.qty, report.price, report.stop_price)
        if terms != (order.qty, order.price, order.stop_price):
            # A replace whose answer never came back, or terms changed at the venue: the
            # venue's terms are the order's now.
            return [OrderReplaced(oid, report.qty, report.price, report.stop_price, ts)]
        return [OrderAccepted(oid, report.venue_order_id, ts)]
    if status is OrderStatus.CANCELED:
        return [OrderCanceled(oid, None, "canceled at the venue (found by query)", ts)]
    if status is OrderStatus.EXPIRED:
        return [OrderExpired(oid, None, ts)]
    if status is OrderStatus.REJECTED:
        return [OrderRejected(oid, ReasonCode.VENUE_REJECTED, "rejected (found by query)", ts)]
    return []


def recover(ctx: DecisionContext) -> None:
    """Settle orders whose last request a restart may have cut off.

    A submit journaled but perhaps never sent makes the order UNKNOWN until the venue is
    asked by client order id; it is never sent blindly again. Cancels and replaces set
    absolute values, so sending them again is safe.
    """
    ts = ctx.now()
    for order in list(ctx.state.open_orders.values()):
        status = order.status
        unacknowledged_cancel = (
            status is OrderStatus.PENDING_CANCEL and not order.venue_acknowledged
        )
        if status is OrderStatus.PENDING_SUBMIT or unacknowledged_cancel:
            ctx.emit(OrderStatusUnknown(order.order_id, "restart: submit outcome unknown", ts))
            ctx.send(query_of(order))
        elif status in (OrderStatus.SUBMITTED, OrderStatus.UNKNOWN):
            ctx.send(query_of(order))
        elif status is OrderStatus.PENDING_CANCEL:
            ctx.send(
                CancelRequest(order.order_id, order.account, order.symbol, order.client_order_id)
            )
        elif status is OrderStatus.PENDING_REPLACE and order.pending_replace is not None:
            pending = order.pending_replace
            ctx.send(
                ReplaceRequest(
                    order.order_id,
                    order.account,
                    order.symbol,
                    order.client_order_id,
                    pending.qty,
                    pending.price,
                    pending.stop_price,
                )
            )
