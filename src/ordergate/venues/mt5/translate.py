"""Between the bridge's frames (docs/mt5-bridge.md) and ordergate's venue reports. Pure.

- **Quantities.** ordergate's quantity on an MT5 symbol is MT5's volume in lots: the
  instrument's `contract_size` is the symbol's (100,000 EUR a lot of EURUSD), so notional
  and margin come out as MT5 computes them.
- **Times.** The bridge's times are milliseconds on the trade server's clock (the
  broker's time zone); `ServerTime` turns them into ordergate's UTC nanoseconds with the
  offset `hello` gives.
- **Names.** An order the EA did not place (a person's in the terminal, the server's
  stop-loss, take-profit or stop-out close) has no client order id: it is named
  `mt5-<order ticket>`, so that a fill of it reaches the engine as a fill of an order it
  never sent, which reconciliation adopts.
- **Parts.** On a hedging account one ordergate order that reduces the net position can
  take several MT5 orders, one per position it closes: the first is named with the
  order's client order id, the next ones `<id>.2`, `<id>.3` ... (`part_id`); `parent_of`
  names the order they belong to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Final

from ordergate.domain.instruments import Instrument
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import (
    ZERO,
    LiquiditySide,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from ordergate.engine.venue_reports import (
    Quote,
    VenueEvent,
    VenueFill,
    VenueOrderCanceled,
    VenueOrderExpired,
    VenueOrderReport,
    VenuePosition,
)

Frame = dict[str, Any]

EXTERNAL_PREFIX: Final = "mt5-"
_NO_MONEY: Final = 10019
_PART: Final = re.compile(r"^([0-9a-f]{32})\.([0-9]+)$")
TYPE_NAMES: Final = {
    OrderType.MARKET: "market",
    OrderType.LIMIT: "limit",
    OrderType.STOP: "stop",
    OrderType.STOP_LIMIT: "stop_limit",
}
_TYPES: Final = {name: kind for kind, name in TYPE_NAMES.items()}
_STATUS: Final = {
    "started": OrderStatus.ACCEPTED,
    "placed": OrderStatus.ACCEPTED,
    "request_add": OrderStatus.ACCEPTED,
    "request_modify": OrderStatus.ACCEPTED,
    "request_cancel": OrderStatus.ACCEPTED,
    "partial": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    # An MT5 order exists only once placed: one rejected later was ended by the server.
    "rejected": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
}


@dataclass(frozen=True, slots=True)
class ServerTime:
    """The trade server's clock: `offset_s` is server time minus UTC (`hello`)."""

    offset_s: int

    def ns(self, ms: int) -> int:
        return (ms - self.offset_s * 1000) * 1_000_000

    def ms_since(self, ns: int) -> int:
        """The first server millisecond at or after `ns` (a `since` bound loses nothing
        and takes nothing earlier)."""
        return -(-ns // 1_000_000) + self.offset_s * 1000


# --- names ---------------------------------------------------------------------------------


def part_id(client_order_id: str, part: int) -> str:
    """The client order id of the `part`-th MT5 order of an ordergate order (1: its own)."""
    return client_order_id if part == 1 else f"{client_order_id}.{part}"


def parent_of(client_order_id: str) -> str:
    """The ordergate order an MT5 order's client order id belongs to."""
    matched = _PART.match(client_order_id)
    return client_order_id if matched is None else matched.group(1)


def name_of(frame: Frame, ticket_field: str = "ticket") -> str:
    """An order's (or a deal's) client order id; `mt5-<order ticket>` where it has none."""
    coid = frame.get("client_order_id")
    return parent_of(coid) if coid else f"{EXTERNAL_PREFIX}{frame[ticket_field]}"


def ticket_named(client_order_id: str) -> int | None:
    """The order ticket an external order's name carries (None: one of ordergate's)."""
    if client_order_id.startswith(EXTERNAL_PREFIX):
        number = client_order_id.removeprefix(EXTERNAL_PREFIX)
        if number.isdigit():
            return int(number)
    return None


# --- what ordergate asks -------------------------------------------------------------------


def instrument_of(spec: Frame, leverage: int) -> Instrument:
    """An MT5 symbol as an ordergate instrument: quantities in lots (see the module)."""
    volume_step = Decimal(spec["volume_step"])
    return Instrument(
        symbol=spec["symbol"],
        base_currency=spec.get("currency_base") or spec["symbol"],
        quote_currency=spec["currency_profit"],
        tick_size=Decimal(spec.get("tick_size") or spec["point"]),
        lot_step=volume_step,
        min_qty=Decimal(spec["volume_min"]),
        max_qty=Decimal(spec["volume_max"]),
        contract_size=Decimal(spec["contract_size"]),
        margin_rate=Decimal(1) / Decimal(max(leverage, 1)),
    )


def decimal_text(value: Decimal, unit: Decimal) -> str:
    """`value` on `unit`'s grid, written with its places (the bridge's decimal strings)."""
    return str(value.quantize(unit.normalize(), rounding=ROUND_HALF_EVEN))


def time_in_force_name(time_in_force: TimeInForce) -> str | None:
    """The bridge's time in force of a pending order (None: a pending order has none)."""
    return {TimeInForce.GTC: "GTC", TimeInForce.DAY: "DAY"}.get(time_in_force)


# --- what the EA answers -------------------------------------------------------------------


def filled_of(order: Frame) -> Decimal:
    return Decimal(order["volume_initial"]) - Decimal(order["volume_current"])


def report_of(order: Frame, account: str, clock: ServerTime) -> VenueOrderReport:
    filled = filled_of(order)
    status = _STATUS[order["state"]]
    if status is OrderStatus.ACCEPTED and filled > ZERO:
        status = OrderStatus.PARTIALLY_FILLED
    price, stop = order.get("price"), order.get("stop_price")
    return VenueOrderReport(
        client_order_id=name_of(order),
        venue_order_id=str(order["ticket"]),
        account=account,
        symbol=order["symbol"],
        side=Side.BUY if order["side"] == "buy" else Side.SELL,
        type=_TYPES[order["type"]],
        qty=Decimal(order["volume_initial"]),
        price=None if price is None else Decimal(price),
        stop_price=None if stop is None else Decimal(stop),
        status=status,
        filled_qty=filled,
        avg_fill_price=None,
        ts=clock.ns(order.get("time_done") or order["time_setup"]),
    )


def fill_of(
    deal: Frame, account: str, currency: str, clock: ServerTime, liquidity: LiquiditySide
) -> VenueFill:
    """A deal as a fill: its ticket is the trade id; commission and fee (negative in MT5:
    charged) are the fill's fee."""
    charged = Decimal(deal["commission"]) + Decimal(deal.get("fee") or "0")
    return VenueFill(
        client_order_id=name_of(deal, "order"),
        account=account,
        symbol=deal["symbol"],
        side=Side.BUY if deal["side"] == "buy" else Side.SELL,
        trade_id=str(deal["ticket"]),
        qty=Decimal(deal["volume"]),
        price=Decimal(deal["price"]),
        fee=-charged,
        fee_currency=currency,
        liquidity=liquidity,
        venue_seq=None,
        ts=clock.ns(deal["time"]),
    )


def net_positions(positions: Iterable[Frame], account: str) -> list[VenuePosition]:
    """One position per symbol, as ordergate keeps them: on a hedging account the sum of
    the symbol's positions, priced at the volume-weighted open of those on the net's side."""
    by_symbol: dict[str, list[Frame]] = {}
    for position in positions:
        by_symbol.setdefault(position["symbol"], []).append(position)
    out = []
    for symbol, held in sorted(by_symbol.items()):
        net = sum((_signed(p) for p in held), ZERO)
        if net == ZERO:
            continue
        side = "buy" if net > ZERO else "sell"
        same = [p for p in held if p["side"] == side]
        volume = sum((Decimal(p["volume"]) for p in same), ZERO)
        cost = sum((Decimal(p["volume"]) * Decimal(p["price_open"]) for p in same), ZERO)
        out.append(VenuePosition(account, symbol, net, cost / volume))
    return out


def quote_of(frame: Frame, clock: ServerTime) -> Quote:
    bid, ask = Decimal(frame["bid"]), Decimal(frame["ask"])
    last = frame.get("last")
    mid_or_last = Decimal(last) if last else (bid + ask) / 2
    return Quote(frame["symbol"], bid, ask, mid_or_last, clock.ns(frame["time"]))


def event_of(
    frame: Frame, account: str, currency: str, clock: ServerTime, liquidity: LiquiditySide
) -> VenueEvent | None:
    """The venue event an EA event means (None: nothing the engine needs).

    `order_accepted` is left out: the reply to `submit_order` carries the acceptance. So
    is `order_modified`: the reply to `modify_order` carries the replace, and a partial
    fill or a stop-limit's trigger is one too. Positions and the account are read when
    reconciling."""
    kind = frame["type"]
    ts = clock.ns(frame["ts"])
    if kind == "fill":
        return fill_of(frame["deal"], account, currency, clock, liquidity)
    if kind == "order_canceled":
        order = frame["order"]
        filled = filled_of(order)
        if order["type"] == "market":
            rest = "the rest of a partial IOC"
            return VenueOrderCanceled(
                name_of(order), ReasonCode.IOC_UNFILLED, rest, None, ts, filled
            )
        return VenueOrderCanceled(name_of(order), None, None, None, ts, filled)
    if kind == "order_expired":
        order = frame["order"]
        if order.get("time_in_force") == "DAY":
            return VenueOrderExpired(
                name_of(order), ReasonCode.DAY_ORDER_EXPIRED, None, ts, filled_of(order)
            )
        return VenueOrderExpired(name_of(order), None, None, ts, filled_of(order))
    if kind == "order_rejected":
        # Only an order the reply had placed is rejected on the stream (a refusal in the
        # reply is raised): for ordergate the venue ended an accepted order, a cancel.
        coid = frame["client_order_id"] or f"{EXTERNAL_PREFIX}{frame['ticket']}"
        detail = f"{frame['retcode_name']} ({frame['retcode']}): {frame.get('message', '')}"
        if frame["retcode"] == _NO_MONEY:
            return VenueOrderCanceled(
                parent_of(coid), ReasonCode.VENUE_INSUFFICIENT_MARGIN, detail, None, ts
            )
        return VenueOrderCanceled(parent_of(coid), ReasonCode.VENUE_REJECTED, detail, None, ts)
    return None


def _signed(position: Frame) -> Decimal:
    volume = Decimal(position["volume"])
    return volume if position["side"] == "buy" else -volume
