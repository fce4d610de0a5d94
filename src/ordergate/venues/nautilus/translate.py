"""NautilusTrader's order events as ordergate's venue events.

NautilusTrader's events carry no venue sequence: the translator numbers what it streams
1, 2, 3 (`venue_seq`), so ordergate's gap detection holds; a muted event takes no
number. Trade ids (`OG1-1-001`: venue, instrument, count) restart in every engine, so
each is prefixed with the venue's session, which ordergate makes new at every start.

The mapping (docs/decisions/0032):

    OrderAccepted          VenueOrderAccepted (unless the submit's receipt answered it)
    OrderRejected          VenueOrderRejected, code from the text (`reasons`)
    OrderDenied            VenueOrderRejected VENUE_REJECTED, "denied by NautilusTrader's
                           risk engine: …" (a duplicate id never gets here: it is refused)
    OrderFilled            VenueFill, one per fill (an order crossing the touch's size
                           fills in several, the rest a tick worse); a market order has
                           no OrderAccepted before it
    OrderCanceled          VenueOrderCanceled; IOC_UNFILLED / FOK_UNFILLED when ordergate
                           did not ask for it
    OrderExpired           VenueOrderExpired; DAY_ORDER_EXPIRED for a DAY order
    OrderUpdated           VenueOrderReplaced (also the exchange's own shrinking of a
                           reduce-only order to the position)
    OrderCancelRejected    VenueCancelRejected
    OrderModifyRejected    VenueReplaceRejected
    the rest               nothing (Initialized, Submitted, Pending*, Triggered: ordergate
                           has no event for them)

Times are ordergate's market-data time of the step or request that produced the event
(NautilusTrader's clock follows it, but the venue's own clock is the one never to go
back).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from nautilus_trader.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderRejected,
    OrderUpdated,
)

from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import ZERO, OrderType, Side, TimeInForce
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
    VenueReplaceRejected,
)
from ordergate.venues.nautilus.reasons import rejection_code, request_rejection_code
from ordergate.venues.nautilus_vocabulary import (
    decimal_of,
    denial_reason,
    liquidity_from_nautilus,
    order_status,
)

_UNFILLED = {TimeInForce.IOC: ReasonCode.IOC_UNFILLED, TimeInForce.FOK: ReasonCode.FOK_UNFILLED}


@dataclass(slots=True)
class OrderNotes:
    """What ordergate knows of an order that NautilusTrader's does not say.

    A restored order is resubmitted for its remainder: `filled_before` and
    `notional_before` are what filled before the restart, added back to every report,
    and `venue_order_id` the id ordergate knows it by. `filled` / `notional` count every
    fill in Decimal (NautilusTrader averages in floats).
    """

    account: str
    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    arrival: int
    filled_before: Decimal = ZERO
    filled: Decimal = ZERO
    notional: Decimal = ZERO
    venue_order_id: str | None = None
    cancel_requested: bool = False

    @classmethod
    def restored(
        cls,
        account: str,
        symbol: str,
        side: Side,
        order_type: OrderType,
        time_in_force: TimeInForce,
        arrival: int,
        filled: Decimal,
        avg_price: Decimal | None,
        venue_order_id: str | None,
    ) -> OrderNotes:
        notional = ZERO if avg_price is None else filled * avg_price
        return cls(
            account,
            symbol,
            side,
            order_type,
            time_in_force,
            arrival,
            filled_before=filled,
            filled=filled,
            notional=notional,
            venue_order_id=venue_order_id,
        )


class EventTranslator:
    """Numbers and translates the events the venue streams (see the module)."""

    def __init__(self, session: str) -> None:
        self._session = session
        self._seq = 0
        self._handlers: dict[type, Callable[[Any, OrderNotes, Any, int], VenueEvent]] = {
            OrderFilled: self._filled,
            OrderAccepted: self._accepted,
            OrderRejected: self._rejected,
            OrderDenied: self._denied,
            OrderCanceled: self._canceled,
            OrderExpired: self._expired,
            OrderUpdated: self._updated,
            OrderCancelRejected: self._cancel_rejected,
            OrderModifyRejected: self._modify_rejected,
        }

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def translate(self, event: Any, notes: OrderNotes, order: Any, ts: int) -> VenueEvent | None:
        """The venue event of NautilusTrader's `event` on `order`, or None (not streamed).
        A fill also counts into `notes`."""
        handler = self._handlers.get(type(event))
        return None if handler is None else handler(event, notes, order, ts)

    def _filled(self, event: Any, notes: OrderNotes, order: Any, ts: int) -> VenueEvent:
        qty, price = decimal_of(event.last_qty), decimal_of(event.last_px)
        notes.filled += qty
        notes.notional += qty * price
        return VenueFill(
            client_order_id=client_order_id_of(event),
            account=notes.account,
            symbol=notes.symbol,
            side=notes.side,
            trade_id=f"{self._session}:{event.trade_id.value}",
            qty=qty,
            price=price,
            fee=decimal_of(event.commission),
            fee_currency=event.commission.currency.code,
            liquidity=liquidity_from_nautilus(event.liquidity_side),
            venue_seq=self.next_seq(),
            ts=ts,
        )

    def _accepted(self, event: Any, notes: OrderNotes, order: Any, ts: int) -> VenueEvent:
        venue_order_id = notes.venue_order_id or event.venue_order_id.value
        return VenueOrderAccepted(client_order_id_of(event), venue_order_id, self.next_seq(), ts)

    def _rejected(self, event: Any, notes: OrderNotes, order: Any, ts: int) -> VenueEvent:
        code = rejection_code(event.reason)
        coid = client_order_id_of(event)
        return VenueOrderRejected(coid, code, event.reason, self.next_seq(), ts)

    def _denied(self, event: Any, notes: OrderNotes, order: Any, ts: int) -> VenueEvent:
        reason = denial_reason(event.reason)
        coid = client_order_id_of(event)
        return VenueOrderRejected(coid, ReasonCode.VENUE_REJECTED, reason, self.next_seq(), ts)

    def _canceled(self, event: Any, notes: OrderNotes, order: Any, ts: int) -> VenueEvent:
        # NautilusTrader gives no reason: an IOC or FOK canceled unasked did not fill.
        code = None if notes.cancel_requested else _UNFILLED.get(notes.time_in_force)
        coid = client_order_id_of(event)
        return VenueOrderCanceled(coid, code, None, self.next_seq(), ts, notes.filled)

    def _expired(self, event: Any, notes: OrderNotes, order: Any, ts: int) -> VenueEvent:
        day = notes.time_in_force is TimeInForce.DAY
        code = ReasonCode.DAY_ORDER_EXPIRED if day else None
        coid = client_order_id_of(event)
        return VenueOrderExpired(coid, code, self.next_seq(), ts, notes.filled)

    def _updated(self, event: Any, notes: OrderNotes, order: Any, ts: int) -> VenueEvent:
        # The event's price is None when only the quantity changed: the order has both.
        qty = decimal_of(event.quantity) + notes.filled_before
        price, stop_price = prices_of(order)
        coid = client_order_id_of(event)
        return VenueOrderReplaced(coid, qty, price, stop_price, self.next_seq(), ts)

    def _cancel_rejected(self, event: Any, notes: OrderNotes, order: Any, ts: int) -> VenueEvent:
        code = request_rejection_code(event.reason)
        coid = client_order_id_of(event)
        return VenueCancelRejected(coid, code, event.reason, self.next_seq(), ts)

    def _modify_rejected(self, event: Any, notes: OrderNotes, order: Any, ts: int) -> VenueEvent:
        code = request_rejection_code(event.reason)
        coid = client_order_id_of(event)
        return VenueReplaceRejected(coid, code, event.reason, self.next_seq(), ts)


def client_order_id_of(event: Any) -> str:
    """The client order id a NautilusTrader order event names."""
    return str(event.client_order_id.value)


def prices_of(order: Any) -> tuple[Decimal | None, Decimal | None]:
    """(limit price, stop price) of a NautilusTrader order, as far as its type has them."""
    price = getattr(order, "price", None)
    trigger = getattr(order, "trigger_price", None)
    return (
        None if price is None else decimal_of(price),
        None if trigger is None else decimal_of(trigger),
    )


def report_of(order: Any, notes: OrderNotes, client_order_id: str) -> VenueOrderReport | None:
    """The venue's report of an order (None for one its risk engine denied: the exchange
    never had it). Quantities include what filled before a restart."""
    status = order_status(order.status, notes.filled)
    if status is None:
        return None
    price, stop_price = prices_of(order)
    venue_order_id = notes.venue_order_id or (
        None if order.venue_order_id is None else order.venue_order_id.value
    )
    return VenueOrderReport(
        client_order_id=client_order_id,
        venue_order_id=venue_order_id,
        account=notes.account,
        symbol=notes.symbol,
        side=notes.side,
        type=notes.type,
        qty=decimal_of(order.quantity) + notes.filled_before,
        price=price,
        stop_price=stop_price,
        status=status,
        filled_qty=notes.filled,
        avg_fill_price=notes.notional / notes.filled if notes.filled > ZERO else None,
        ts=order.ts_last,
    )
