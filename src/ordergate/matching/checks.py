"""What the paper venue refuses, as pure functions: a venue checks its own grid.

ordergate's pre-trade risk runs first, so these rarely fire from ordergate; they keep the
venue honest when something else talks to it, and make its refusals look like a real
exchange's. A refused submit becomes a `VenueOrderRejected` on the stream; a refused
cancel or replace raises `RejectedByVenue` (see `matching`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from ordergate.domain.instruments import Instrument
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import ZERO, OrderType
from ordergate.engine.venue_reports import VenueOrderRequest

# Codes of refusals that ReasonCode has no member for (the brief's names; see README).
DUPLICATE_CLIENT_ORDER_ID: Final = "DUPLICATE_CLIENT_ORDER_ID"
ORDER_NOT_FOUND: Final = "ORDER_NOT_FOUND"
ORDER_CLOSED: Final = "ORDER_CLOSED"


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str
    reason: str


def check_terms(
    instrument: Instrument,
    order_type: OrderType,
    qty: Decimal,
    price: Decimal | None,
    stop_price: Decimal | None,
) -> Refusal | None:
    """Refuse a quantity or price off the instrument's grid, or prices the type does not use."""
    symbol = instrument.symbol
    code = ReasonCode.VENUE_REJECTED
    if qty <= ZERO:
        return Refusal(code, f"{symbol}: quantity {qty} is not positive")
    if not instrument.is_on_step(qty):
        return Refusal(code, f"{symbol}: quantity {qty} is not a multiple of {instrument.lot_step}")
    if qty < instrument.min_qty:
        return Refusal(code, f"{symbol}: quantity {qty} is below the minimum {instrument.min_qty}")
    if instrument.max_qty is not None and qty > instrument.max_qty:
        return Refusal(code, f"{symbol}: quantity {qty} is above the maximum {instrument.max_qty}")
    for name, value, needed in (
        ("price", price, order_type.needs_price),
        ("stop price", stop_price, order_type.needs_stop_price),
    ):
        if needed and value is None:
            return Refusal(code, f"{symbol}: a {order_type} order needs a {name}")
        if not needed and value is not None:
            return Refusal(code, f"{symbol}: a {order_type} order takes no {name}")
        if value is not None and value <= ZERO:
            return Refusal(code, f"{symbol}: {name} {value} is not positive")
        if value is not None and not instrument.is_on_tick(value):
            return Refusal(
                code, f"{symbol}: {name} {value} is not on the tick {instrument.tick_size}"
            )
    return None


def check_request(
    request: VenueOrderRequest,
    instrument: Instrument | None,
    account_known: bool,
    reference_price: Decimal | None,
) -> Refusal | None:
    """Refuse a submit for an unknown account or symbol, off-grid terms, or a tiny notional.

    `reference_price` is what the order is valued at: its limit price, its stop price,
    or the current price for a market order (None when the symbol has no price yet:
    the notional check is then skipped).
    """
    if not account_known:
        return Refusal(ReasonCode.VENUE_REJECTED, f"unknown account {request.account!r}")
    if instrument is None:
        return Refusal(ReasonCode.VENUE_REJECTED, f"unknown symbol {request.symbol!r}")
    refusal = check_terms(instrument, request.type, request.qty, request.price, request.stop_price)
    if refusal is not None:
        return refusal
    if reference_price is not None:
        notional = instrument.notional(request.qty, reference_price)
        if notional < instrument.min_notional:
            return Refusal(
                ReasonCode.VENUE_REJECTED,
                f"{instrument.symbol}: notional {notional} is below the minimum "
                f"{instrument.min_notional}",
            )
    return None
