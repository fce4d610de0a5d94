"""Orders and their lifecycle, written as a transition table.

`Order.apply(event)` is the only mutator. It looks the pair (status, trigger) up in
`TRANSITIONS` and refuses, with `InvalidTransition`, any pair the table does not list.
Rows that look surprising but happen on real venues carry a comment.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final, TypeVar, cast

from ordergate.domain.errors import DuplicateFill, InvalidTransition
from ordergate.domain.events import (
    OrderAccepted,
    OrderApproved,
    OrderCanceled,
    OrderCancelRejected,
    OrderCancelRequested,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderPlanned,
    OrderRejected,
    OrderReplaced,
    OrderReplaceRejected,
    OrderReplaceRequested,
    OrderSnapshot,
    OrderStatusUnknown,
    OrderSubmitted,
)
from ordergate.domain.values import ZERO, OrderStatus, OrderType, Side, TimeInForce


class Trigger(StrEnum):
    DENY = "DENY"
    APPROVE = "APPROVE"
    PLAN = "PLAN"
    SUBMIT = "SUBMIT"
    ACCEPT = "ACCEPT"
    REJECT = "REJECT"
    FILL_PARTIAL = "FILL_PARTIAL"
    FILL_FULL = "FILL_FULL"
    REQUEST_CANCEL = "REQUEST_CANCEL"
    CANCEL = "CANCEL"
    REJECT_CANCEL = "REJECT_CANCEL"
    REQUEST_REPLACE = "REQUEST_REPLACE"
    REPLACE = "REPLACE"
    REJECT_REPLACE = "REJECT_REPLACE"
    EXPIRE = "EXPIRE"
    MARK_UNKNOWN = "MARK_UNKNOWN"


class OrderFlag(StrEnum):
    FILL_AFTER_CANCEL_REQUEST = "FILL_AFTER_CANCEL_REQUEST"
    LATE_FILL = "LATE_FILL"
    OVERFILL = "OVERFILL"


class _Resume:
    """Target meaning "back to working": ACCEPTED, PARTIALLY_FILLED once something filled,
    or FILLED if nothing is left (a replace confirmed down to the filled quantity)."""

    def __repr__(self) -> str:
        return "RESUME"


RESUME: Final = _Resume()

S = OrderStatus
T = Trigger

TRANSITIONS: Final[dict[tuple[OrderStatus, Trigger], OrderStatus | _Resume]] = {
    (S.NEW, T.DENY): S.DENIED,
    (S.NEW, T.APPROVE): S.PENDING_SUBMIT,
    (S.NEW, T.PLAN): S.PLANNED,  # a dry run: approved, never sent
    # An order adopted from the venue by reconciliation (external): never ours to submit.
    (S.NEW, T.ACCEPT): S.ACCEPTED,
    (S.PENDING_SUBMIT, T.SUBMIT): S.SUBMITTED,
    # Websocket acks and fills can overtake the REST answer to the submit itself.
    (S.PENDING_SUBMIT, T.ACCEPT): S.ACCEPTED,
    (S.PENDING_SUBMIT, T.FILL_PARTIAL): S.PARTIALLY_FILLED,
    (S.PENDING_SUBMIT, T.FILL_FULL): S.FILLED,
    (S.PENDING_SUBMIT, T.CANCEL): S.CANCELED,  # an IOC remainder canceled before any answer
    (S.PENDING_SUBMIT, T.EXPIRE): S.EXPIRED,
    (S.PENDING_SUBMIT, T.REJECT): S.REJECTED,
    # A cancel requested before the submit was answered is sent once it is.
    (S.PENDING_SUBMIT, T.REQUEST_CANCEL): S.PENDING_CANCEL,
    (S.PENDING_SUBMIT, T.MARK_UNKNOWN): S.UNKNOWN,
    (S.SUBMITTED, T.ACCEPT): S.ACCEPTED,
    (S.SUBMITTED, T.REJECT): S.REJECTED,
    (S.SUBMITTED, T.FILL_PARTIAL): S.PARTIALLY_FILLED,
    (S.SUBMITTED, T.FILL_FULL): S.FILLED,
    (S.SUBMITTED, T.CANCEL): S.CANCELED,
    (S.SUBMITTED, T.EXPIRE): S.EXPIRED,
    (S.SUBMITTED, T.REQUEST_CANCEL): S.PENDING_CANCEL,
    (S.SUBMITTED, T.MARK_UNKNOWN): S.UNKNOWN,  # no ack within the venue's deadline
    (S.ACCEPTED, T.FILL_PARTIAL): S.PARTIALLY_FILLED,
    (S.ACCEPTED, T.FILL_FULL): S.FILLED,
    (S.ACCEPTED, T.REQUEST_CANCEL): S.PENDING_CANCEL,
    (S.ACCEPTED, T.REQUEST_REPLACE): S.PENDING_REPLACE,
    (S.ACCEPTED, T.CANCEL): S.CANCELED,  # unsolicited: reduce-only, self-trade prevention
    # Terms changed at the venue outside ordergate, found by reconciliation: take them.
    (S.ACCEPTED, T.REPLACE): RESUME,
    (S.ACCEPTED, T.EXPIRE): S.EXPIRED,
    (S.PARTIALLY_FILLED, T.FILL_PARTIAL): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, T.FILL_FULL): S.FILLED,
    (S.PARTIALLY_FILLED, T.REQUEST_CANCEL): S.PENDING_CANCEL,
    (S.PARTIALLY_FILLED, T.REQUEST_REPLACE): S.PENDING_REPLACE,
    (S.PARTIALLY_FILLED, T.CANCEL): S.CANCELED,
    (S.PARTIALLY_FILLED, T.REPLACE): RESUME,
    (S.PARTIALLY_FILLED, T.EXPIRE): S.EXPIRED,
    (S.PENDING_CANCEL, T.CANCEL): S.CANCELED,
    (S.PENDING_CANCEL, T.REJECT_CANCEL): RESUME,
    # Fills are facts: one can land while the cancel is in flight (flagged).
    (S.PENDING_CANCEL, T.FILL_PARTIAL): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, T.FILL_FULL): S.FILLED,  # the cancel lost the race
    (S.PENDING_CANCEL, T.EXPIRE): S.EXPIRED,
    # The submit's ack or reject can arrive after a cancel was requested.
    (S.PENDING_CANCEL, T.SUBMIT): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, T.ACCEPT): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, T.REJECT): S.REJECTED,
    (S.PENDING_CANCEL, T.MARK_UNKNOWN): S.UNKNOWN,
    (S.PENDING_REPLACE, T.REPLACE): RESUME,
    (S.PENDING_REPLACE, T.REJECT_REPLACE): RESUME,
    (S.PENDING_REPLACE, T.FILL_PARTIAL): S.PENDING_REPLACE,
    (S.PENDING_REPLACE, T.FILL_FULL): S.FILLED,
    (S.PENDING_REPLACE, T.CANCEL): S.CANCELED,
    (S.PENDING_REPLACE, T.EXPIRE): S.EXPIRED,
    (S.PENDING_REPLACE, T.REQUEST_CANCEL): S.PENDING_CANCEL,  # a cancel may overtake a replace
    (S.PENDING_REPLACE, T.MARK_UNKNOWN): S.UNKNOWN,
    # UNKNOWN is resolved by asking the venue by client order id; it answers with a state.
    (S.UNKNOWN, T.ACCEPT): S.ACCEPTED,
    (S.UNKNOWN, T.REJECT): S.REJECTED,
    (S.UNKNOWN, T.FILL_PARTIAL): S.PARTIALLY_FILLED,
    (S.UNKNOWN, T.FILL_FULL): S.FILLED,
    (S.UNKNOWN, T.CANCEL): S.CANCELED,
    (S.UNKNOWN, T.REPLACE): RESUME,  # a replace whose answer was lost, found applied
    (S.UNKNOWN, T.EXPIRE): S.EXPIRED,
    # Late fills after a terminal state are applied and flagged: the position must see them.
    (S.CANCELED, T.FILL_PARTIAL): S.CANCELED,
    (S.CANCELED, T.FILL_FULL): S.FILLED,
    (S.EXPIRED, T.FILL_PARTIAL): S.EXPIRED,
    (S.EXPIRED, T.FILL_FULL): S.FILLED,
    (S.REJECTED, T.FILL_PARTIAL): S.REJECTED,
    (S.REJECTED, T.FILL_FULL): S.FILLED,
    # An overfill: filled_qty stays at qty, the excess is recorded and the order flagged.
    # (Any fill of a FILLED order completes it, so there is no FILL_PARTIAL row.)
    (S.FILLED, T.FILL_FULL): S.FILLED,
}

_CANCELABLE: Final = frozenset(s for (s, t) in TRANSITIONS if t is T.REQUEST_CANCEL)
_REPLACEABLE: Final = frozenset(s for (s, t) in TRANSITIONS if t is T.REQUEST_REPLACE)


def can_request_cancel(status: OrderStatus) -> bool:
    return status in _CANCELABLE


def can_request_replace(status: OrderStatus) -> bool:
    return status in _REPLACEABLE


class Order:
    """One order, mutated only by `apply`. Quantities are Decimal; times are ns."""

    __slots__ = (
        "account",
        "avg_fill_price",
        "awaited_fill_qty",
        "cancel_requested",
        "client_order_id",
        "created_ts",
        "external",
        "filled_qty",
        "flags",
        "idempotency_key",
        "order_id",
        "overfill_qty",
        "parent_order_id",
        "pending_replace",
        "price",
        "priced_by_offset",
        "qty",
        "reason",
        "reason_code",
        "reduce_only",
        "reference_price",
        "request_hash",
        "side",
        "signal_id",
        "status",
        "stop_loss",
        "stop_price",
        "strategy",
        "symbol",
        "take_profit",
        "time_in_force",
        "trace_id",
        "trade_ids",
        "type",
        "updated_ts",
        "venue_acknowledged",
        "venue_order_id",
    )

    def __init__(self, event: OrderInitialized) -> None:
        self.order_id = event.order_id
        self.client_order_id = event.client_order_id
        self.account = event.account
        self.symbol = event.symbol
        self.side: Side = event.side
        self.type: OrderType = event.type
        self.qty = event.qty
        self.price = event.price
        self.stop_price = event.stop_price
        self.time_in_force: TimeInForce = event.time_in_force
        self.reduce_only = event.reduce_only
        self.stop_loss = event.stop_loss
        self.take_profit = event.take_profit
        self.strategy = event.strategy
        self.idempotency_key = event.idempotency_key
        self.request_hash = event.request_hash
        self.parent_order_id = event.parent_order_id
        self.trace_id = event.trace_id
        self.external = event.external
        self.priced_by_offset = event.priced_by_offset
        self.signal_id = event.signal_id
        self.status = OrderStatus.NEW
        self.filled_qty = ZERO
        self.overfill_qty = ZERO
        self.avg_fill_price: Decimal | None = None
        self.venue_order_id: str | None = None
        self.venue_acknowledged = False
        # A cancel was asked for and the venue has not refused it: if a query finds the
        # order still working (its fate was unknown), the cancel must be sent again.
        self.cancel_requested = False
        # Done at the venue with fills still on their way (venue_filled_qty said so).
        self.awaited_fill_qty = ZERO
        self.reason_code: str | None = None
        self.reason: str | None = None
        self.reference_price: Decimal | None = None
        self.pending_replace: OrderReplaceRequested | None = None
        # Shared empty sets until the first flag or fill: most open orders have neither,
        # and an empty set costs 216 bytes apiece (`_flag`, `_apply_fill` replace them).
        self.flags: AbstractSet[OrderFlag] = _NO_FLAGS
        self.trade_ids: AbstractSet[str] = _NO_TRADES
        self.created_ts = event.ts
        self.updated_ts = event.ts

    @property
    def finished(self) -> bool:
        """Terminal with nothing more due from the venue: nothing it does can change."""
        return self.status.is_terminal and self.awaited_fill_qty == ZERO

    def snapshot(self, children: tuple[str, ...] = ()) -> OrderSnapshot:
        """The whole order as data, which `restore` turns back into this order."""
        return OrderSnapshot(
            order_id=self.order_id,
            client_order_id=self.client_order_id,
            account=self.account,
            symbol=self.symbol,
            side=self.side,
            type=self.type,
            qty=self.qty,
            price=self.price,
            stop_price=self.stop_price,
            time_in_force=self.time_in_force,
            reduce_only=self.reduce_only,
            stop_loss=self.stop_loss,
            take_profit=self.take_profit,
            strategy=self.strategy,
            idempotency_key=self.idempotency_key,
            request_hash=self.request_hash,
            parent_order_id=self.parent_order_id,
            trace_id=self.trace_id,
            external=self.external,
            priced_by_offset=self.priced_by_offset,
            signal_id=self.signal_id,
            status=self.status,
            filled_qty=self.filled_qty,
            overfill_qty=self.overfill_qty,
            avg_fill_price=self.avg_fill_price,
            venue_order_id=self.venue_order_id,
            venue_acknowledged=self.venue_acknowledged,
            cancel_requested=self.cancel_requested,
            awaited_fill_qty=self.awaited_fill_qty,
            reason_code=self.reason_code,
            reason=self.reason,
            reference_price=self.reference_price,
            pending_replace=self.pending_replace,
            flags=tuple(sorted(self.flags)),
            trade_ids=tuple(sorted(self.trade_ids)),
            created_ts=self.created_ts,
            updated_ts=self.updated_ts,
            children=children,
        )

    @classmethod
    def restore(cls, snapshot: OrderSnapshot) -> Order:
        """The order a `snapshot` was taken of, field for field (spelled out: a start
        restores every order a checkpoint holds, and a loop over the slots took 3x)."""
        order = cls.__new__(cls)
        order.order_id = snapshot.order_id
        order.client_order_id = snapshot.client_order_id
        order.account = snapshot.account
        order.symbol = snapshot.symbol
        order.side = snapshot.side
        order.type = snapshot.type
        order.qty = snapshot.qty
        order.price = snapshot.price
        order.stop_price = snapshot.stop_price
        order.time_in_force = snapshot.time_in_force
        order.reduce_only = snapshot.reduce_only
        order.stop_loss = snapshot.stop_loss
        order.take_profit = snapshot.take_profit
        order.strategy = snapshot.strategy
        order.idempotency_key = snapshot.idempotency_key
        order.request_hash = snapshot.request_hash
        order.parent_order_id = snapshot.parent_order_id
        order.trace_id = snapshot.trace_id
        order.external = snapshot.external
        order.priced_by_offset = snapshot.priced_by_offset
        order.signal_id = snapshot.signal_id
        order.status = snapshot.status
        order.filled_qty = snapshot.filled_qty
        order.overfill_qty = snapshot.overfill_qty
        order.avg_fill_price = snapshot.avg_fill_price
        order.venue_order_id = snapshot.venue_order_id
        order.venue_acknowledged = snapshot.venue_acknowledged
        order.cancel_requested = snapshot.cancel_requested
        order.awaited_fill_qty = snapshot.awaited_fill_qty
        order.reason_code = snapshot.reason_code
        order.reason = snapshot.reason
        order.reference_price = snapshot.reference_price
        order.pending_replace = snapshot.pending_replace
        order.flags = {OrderFlag(f) for f in snapshot.flags} if snapshot.flags else _NO_FLAGS
        order.trade_ids = set(snapshot.trade_ids) if snapshot.trade_ids else _NO_TRADES
        order.created_ts = snapshot.created_ts
        order.updated_ts = snapshot.updated_ts
        return order

    @property
    def leaves_qty(self) -> Decimal:
        """Quantity still working at the venue (zero once the order is terminal)."""
        if self.status.is_terminal:
            return ZERO
        return self.qty - self.filled_qty

    @property
    def reserve_price(self) -> Decimal | None:
        """The price the order's margin is reserved at: its own, or the market's at approval."""
        if self.type.needs_price:
            return self.price
        if self.type is OrderType.STOP:
            return self.stop_price
        return self.reference_price

    def trigger_for(self, event: OrderEvent) -> Trigger:
        """Classify an event as a trigger of the state table."""
        if type(event) is OrderFilled:
            if self.filled_qty + event.qty >= self.qty:
                return Trigger.FILL_FULL
            return Trigger.FILL_PARTIAL
        trigger = _TRIGGER_OF.get(type(event))
        if trigger is None:
            raise InvalidTransition(self.order_id, self.status, type(event).__name__)
        return trigger

    def can_apply(self, event: OrderEvent) -> bool:
        if isinstance(event, OrderFilled) and event.trade_id in self.trade_ids:
            return False
        trigger = _TRIGGER_OF.get(type(event))
        if trigger is None and not isinstance(event, OrderFilled):
            return False
        return (self.status, self.trigger_for(event)) in TRANSITIONS

    def apply(self, event: OrderEvent) -> None:
        """Apply one event; refuse any (state, trigger) pair the table does not list."""
        trigger = self.trigger_for(event)
        target = TRANSITIONS.get((self.status, trigger))
        if target is None:
            raise InvalidTransition(self.order_id, self.status, trigger)
        _RECORDERS[type(event)](self, event)
        if target is RESUME:
            if self.filled_qty >= self.qty:
                target = S.FILLED
            elif self.filled_qty > ZERO:
                target = S.PARTIALLY_FILLED
            else:
                target = S.ACCEPTED
        if target is not S.PENDING_REPLACE:
            self.pending_replace = None
        self.status = cast("OrderStatus", target)
        self.updated_ts = event.ts

    def _apply_fill(self, fill: OrderFilled) -> None:
        if fill.trade_id in self.trade_ids:
            raise DuplicateFill(f"order {self.order_id}: trade {fill.trade_id} already applied")
        self.trade_ids = _with(self.trade_ids, fill.trade_id)
        if self.status is S.PENDING_CANCEL:
            self.flags = _with(self.flags, OrderFlag.FILL_AFTER_CANCEL_REQUEST)
        elif self.status in (S.CANCELED, S.EXPIRED, S.REJECTED):
            self.flags = _with(self.flags, OrderFlag.LATE_FILL)
        previous_total = self.filled_qty + self.overfill_qty
        total = previous_total + fill.qty
        if self.avg_fill_price is None:
            self.avg_fill_price = fill.price
        else:
            notional = self.avg_fill_price * previous_total + fill.price * fill.qty
            self.avg_fill_price = notional / total
        if total > self.qty:
            self.flags = _with(self.flags, OrderFlag.OVERFILL)
            self.filled_qty = self.qty
            self.overfill_qty = total - self.qty
        else:
            self.filled_qty = total


_NO_FLAGS: Final[frozenset[OrderFlag]] = frozenset()
_NO_TRADES: Final[frozenset[str]] = frozenset()
Item = TypeVar("Item")


def _with(items: AbstractSet[Item], item: Item) -> set[Item]:
    """`items` with `item` added: in place once it is an order's own set."""
    if type(items) is set:
        items.add(item)
        return items
    return {*items, item}


_TRIGGER_OF: Final[dict[type, Trigger]] = {
    OrderDenied: Trigger.DENY,
    OrderApproved: Trigger.APPROVE,
    OrderPlanned: Trigger.PLAN,
    OrderSubmitted: Trigger.SUBMIT,
    OrderAccepted: Trigger.ACCEPT,
    OrderRejected: Trigger.REJECT,
    OrderCancelRequested: Trigger.REQUEST_CANCEL,
    OrderCanceled: Trigger.CANCEL,
    OrderCancelRejected: Trigger.REJECT_CANCEL,
    OrderReplaceRequested: Trigger.REQUEST_REPLACE,
    OrderReplaced: Trigger.REPLACE,
    OrderReplaceRejected: Trigger.REJECT_REPLACE,
    OrderExpired: Trigger.EXPIRE,
    OrderStatusUnknown: Trigger.MARK_UNKNOWN,
}


# What each event records on the order, besides its status: one small function per kind.


def _record_fill(order: Order, event: OrderFilled) -> None:
    order._apply_fill(event)
    order.venue_acknowledged = True
    if order.awaited_fill_qty > ZERO:
        order.awaited_fill_qty = max(ZERO, order.awaited_fill_qty - event.qty)


def _await_fills(order: Order, venue_filled_qty: Decimal | None) -> None:
    if venue_filled_qty is not None and venue_filled_qty > order.filled_qty:
        order.awaited_fill_qty = venue_filled_qty - order.filled_qty


def _record_refusal(
    order: Order,
    event: OrderDenied | OrderRejected | OrderCancelRejected | OrderReplaceRejected,
) -> None:
    order.reason_code = event.reason_code
    order.reason = event.reason


def _record_cancel_refusal(order: Order, event: OrderCancelRejected) -> None:
    _record_refusal(order, event)
    order.cancel_requested = False


def _record_canceled(order: Order, event: OrderCanceled) -> None:
    if event.reason_code is not None:
        order.reason_code = event.reason_code
        order.reason = event.reason
    _await_fills(order, event.venue_filled_qty)


def _record_expired(order: Order, event: OrderExpired) -> None:
    if event.reason_code is not None:
        order.reason_code = event.reason_code
    _await_fills(order, event.venue_filled_qty)


def _record_approved(order: Order, event: OrderApproved | OrderPlanned) -> None:
    order.reference_price = event.reference_price


def _record_acknowledged(order: Order, event: OrderSubmitted | OrderAccepted) -> None:
    order.venue_acknowledged = True
    if event.venue_order_id is not None:
        order.venue_order_id = event.venue_order_id


def _record_cancel_request(order: Order, event: OrderCancelRequested) -> None:
    order.cancel_requested = True
    if event.reason is not None:
        order.reason = event.reason


def _record_replace_request(order: Order, event: OrderReplaceRequested) -> None:
    order.pending_replace = event


def _record_replaced(order: Order, event: OrderReplaced) -> None:
    # A fill that raced the replace may already exceed the new quantity: the order is then
    # complete at what filled (filled_qty never shrinks).
    order.qty = max(event.qty, order.filled_qty)
    order.price = event.price
    order.stop_price = event.stop_price


def _record_unknown(order: Order, event: OrderStatusUnknown) -> None:
    order.reason = event.reason


_RECORDERS: Final[dict[type, Callable[[Order, Any], None]]] = {
    OrderFilled: _record_fill,
    OrderDenied: _record_refusal,
    OrderRejected: _record_refusal,
    OrderReplaceRejected: _record_refusal,
    OrderCancelRejected: _record_cancel_refusal,
    OrderCanceled: _record_canceled,
    OrderExpired: _record_expired,
    OrderApproved: _record_approved,
    OrderPlanned: _record_approved,
    OrderSubmitted: _record_acknowledged,
    OrderAccepted: _record_acknowledged,
    OrderCancelRequested: _record_cancel_request,
    OrderReplaceRequested: _record_replace_request,
    OrderReplaced: _record_replaced,
    OrderStatusUnknown: _record_unknown,
}
