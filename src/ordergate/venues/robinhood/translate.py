"""Robinhood's order payloads as ordergate's venue reports, and back. Pure.

- **`ref_id` is the client order id.** Robinhood de-duplicates orders by the client's
  `ref_id` (a UUID; a reuse is refused with 400). ordergate's client order ids are 32 hex
  characters, 128 bits: exactly a UUID, so `ref_id_of` writes the id as one and
  `client_order_id_of` reads it back from any order Robinhood lists, after a restart
  too. An id of another shape gets a `uuid5` of itself (found again only by asking for
  it). An order with no `ref_id` (placed in Robinhood's app) is named `rh-<order id>`.
- **States** on the wire: `unconfirmed` (not yet working), `queued` and `confirmed`
  (working; queued waits for its session), `partially_filled`, `filled`, `cancelled`
  (two l's; with executions when part had filled), `rejected`, `failed`.
- **Executions** are cumulative on the order: each has an `id`, a price, a quantity, a
  timestamp and a settlement date. A fill is an execution not seen before.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from ordergate.domain.values import (
    ZERO,
    LiquiditySide,
    OrderStatus,
    OrderType,
    Side,
)
from ordergate.engine.venue_reports import VenueFill, VenueOrderReport

Payload = dict[str, Any]

EXTERNAL_PREFIX: Final = "rh-"
_NAMESPACE: Final = uuid.UUID("6f7d3c0a-3f1e-5b8e-9a57-0c5d2f7e9b41")  # ordergate's ref_ids
_HEX_ID: Final = re.compile(r"^[0-9a-f]{32}$")
WORKING: Final = frozenset({"queued", "confirmed", "partially_filled"})
FINAL: Final = frozenset({"filled", "cancelled", "canceled", "rejected", "failed"})
# An `unconfirmed` order exists at Robinhood, not yet working: to a query it is the
# venue's (ACCEPTED), so that an order in doubt is settled; the stream's acknowledgement
# waits for a working state (`WORKING`).
_STATUS: Final = {
    "unconfirmed": OrderStatus.ACCEPTED,
    "queued": OrderStatus.ACCEPTED,
    "confirmed": OrderStatus.ACCEPTED,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "cancelled": OrderStatus.CANCELED,
    "canceled": OrderStatus.CANCELED,
    "rejected": OrderStatus.REJECTED,
    "failed": OrderStatus.REJECTED,
}


def ref_id_of(client_order_id: str) -> str:
    """The `ref_id` an order is sent with (see the module)."""
    if _HEX_ID.match(client_order_id):
        return str(uuid.UUID(hex=client_order_id))
    return str(uuid.uuid5(_NAMESPACE, client_order_id))


def client_order_id_of(order: Mapping[str, Any]) -> str:
    """The client order id of an order Robinhood lists (see the module)."""
    ref_id = order.get("ref_id")
    if ref_id:
        return uuid.UUID(str(ref_id)).hex
    return f"{EXTERNAL_PREFIX}{order['id']}"


def status_of(order: Mapping[str, Any]) -> OrderStatus:
    """ordergate's status of an order; an `unconfirmed` one whose executions add up to its
    quantity has filled (Robinhood is known to leave the state behind)."""
    filled = Decimal(order.get("cumulative_quantity") or "0")
    if filled > ZERO and filled >= Decimal(order["quantity"]):
        return OrderStatus.FILLED
    status = _STATUS.get(order["state"], OrderStatus.ACCEPTED)
    if status is OrderStatus.ACCEPTED and filled > ZERO:
        return OrderStatus.PARTIALLY_FILLED
    return status


def is_final(order: Mapping[str, Any]) -> bool:
    return status_of(order).is_terminal


def report_of(order: Mapping[str, Any], account: str, symbol: str) -> VenueOrderReport:
    filled = Decimal(order.get("cumulative_quantity") or "0")
    price, stop, average = order.get("price"), order.get("stop_price"), order.get("average_price")
    stop_order = order.get("trigger") == "stop"
    limit = order.get("type") == "limit"
    kind = {
        (True, False): OrderType.LIMIT,
        (True, True): OrderType.STOP_LIMIT,
        (False, True): OrderType.STOP,
        (False, False): OrderType.MARKET,
    }[(limit, stop_order)]
    return VenueOrderReport(
        client_order_id=client_order_id_of(order),
        venue_order_id=order["id"],
        account=account,
        symbol=symbol,
        side=Side.BUY if order["side"] == "buy" else Side.SELL,
        type=kind,
        qty=Decimal(order["quantity"]),
        price=Decimal(price) if price is not None and kind.needs_price else None,
        stop_price=Decimal(stop) if stop is not None and stop_order else None,
        status=status_of(order),
        filled_qty=filled,
        avg_fill_price=Decimal(average) if average is not None and filled > ZERO else None,
        ts=ns_of(order.get("updated_at") or order["created_at"]),
    )


def fills_of(
    order: Mapping[str, Any], account: str, symbol: str, seen: set[str], charged: Decimal
) -> tuple[list[VenueFill], Decimal]:
    """The order's executions not in `seen` (their trade ids), as fills, added to it; and
    the order's fees now charged.

    Robinhood says fees per order (`fees`, cumulative), not per execution: what is not
    yet `charged` goes on the first new fill."""
    coid = client_order_id_of(order)
    side = Side.BUY if order["side"] == "buy" else Side.SELL
    liquidity = LiquiditySide.MAKER if order.get("type") == "limit" else LiquiditySide.TAKER
    fees = Decimal(order.get("fees") or "0")
    fills = []
    for number, execution in enumerate(order.get("executions") or ()):
        trade_id = str(execution.get("id") or f"{order['id']}:{number}")
        if trade_id in seen:
            continue
        seen.add(trade_id)
        fee, charged = fees - charged, fees
        fills.append(
            VenueFill(
                client_order_id=coid,
                account=account,
                symbol=symbol,
                side=side,
                trade_id=trade_id,
                qty=Decimal(execution["quantity"]),
                price=Decimal(execution["price"]),
                fee=fee,
                fee_currency="USD",
                liquidity=liquidity,
                venue_seq=None,
                ts=ns_of(execution["timestamp"]),
                settlement_date=execution.get("settlement_date"),
            )
        )
    return fills, charged


def ns_of(stamp: str) -> int:
    """Robinhood's ISO 8601 time (`2016-04-01T21:24:13.698563Z`) in UTC nanoseconds."""
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    whole = int(moment.timestamp())
    return whole * 1_000_000_000 + moment.microsecond * 1_000
