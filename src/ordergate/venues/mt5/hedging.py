"""A hedging account as a netting view: which MT5 orders one ordergate order becomes, and
how their reports read as one. Pure.

On a hedging account a symbol has several positions. An ordergate market order closes
positions on the other side first (`close_order`: oldest or newest first), in part where
it needs less than a whole one, each by `close_position`; what is left opens a position
of its own by `submit_order`. Each part is an MT5 order with a client order id of its
own (`translate.part_id`: the order's own id, then `<id>.2`, `<id>.3` ...), since the
EA's idempotency is per id and a resent part must find its own ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ordergate.domain.values import ZERO, OrderStatus
from ordergate.engine.venue_reports import VenueOrderReport, VenueOrderRequest
from ordergate.venues.mt5.config import CloseOrder
from ordergate.venues.mt5.translate import decimal_text, part_id

Frame = dict[str, Any]
Part = tuple[str, Frame]  # (bridge command, its arguments)


def plan(
    request: VenueOrderRequest,
    args: Frame,
    positions: Sequence[Frame],
    volume_step: Decimal,
    close_order: CloseOrder,
    magic: int,
) -> list[Part]:
    """The commands that carry out market order `request` (its `submit_order` arguments
    `args`) against the symbol's `positions`: closes first, then an opening for the rest."""
    opposite = sorted(
        (p for p in positions if p["side"] != args["side"]),
        key=lambda p: (p["time"], p["ticket"]),
        reverse=close_order == "newest",
    )
    left = request.qty
    parts: list[Part] = []
    for position in opposite:
        if left <= ZERO:
            break
        take = min(left, Decimal(position["volume"]))
        close: Frame = {
            "ticket": position["ticket"],
            "client_order_id": part_id(request.client_order_id, len(parts) + 1),
            "volume": decimal_text(take, volume_step),
            "magic": magic,
        }
        parts.append(("close_position", close))
        left -= take
    if left > ZERO:
        opening = args | {
            "client_order_id": part_id(request.client_order_id, len(parts) + 1),
            "volume": decimal_text(left, volume_step),
        }
        parts.append(("submit_order", opening))
    return parts


def combined(parts: Sequence[VenueOrderReport]) -> VenueOrderReport:
    """The MT5 orders of one ordergate order as one report: quantities summed, FILLED when
    all filled, open while any part is, CANCELED when the parts ended with some unfilled."""
    first = parts[0]
    qty = sum((p.qty for p in parts), ZERO)
    filled = sum((p.filled_qty for p in parts), ZERO)
    if filled == qty:
        status = OrderStatus.FILLED
    elif any(p.status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED) for p in parts):
        status = OrderStatus.PARTIALLY_FILLED if filled > ZERO else OrderStatus.ACCEPTED
    elif filled > ZERO:
        status = OrderStatus.CANCELED
    else:
        status = first.status
    return VenueOrderReport(
        client_order_id=first.client_order_id,
        venue_order_id=first.venue_order_id,
        account=first.account,
        symbol=first.symbol,
        side=first.side,
        type=first.type,
        qty=qty,
        price=first.price,
        stop_price=first.stop_price,
        status=status,
        filled_qty=filled,
        avg_fill_price=None,
        ts=max(p.ts for p in parts),
    )
