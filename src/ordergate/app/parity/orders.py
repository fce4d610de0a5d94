"""The order stream of a parity run: a JSON Lines file, one order per line, and a
generator of a mixed stream over a bar series.

One line is one order, with ordergate's REST names for its terms::

    {"id": "p0001", "at": "2022-01-01T00:05:00Z", "side": "BUY", "type": "LIMIT",
     "qty": "0.010", "price": "46000.0", "time_in_force": "GTC",
     "cancel_at": "2022-01-01T01:00:00Z"}

- `id` is the client order id on both venues (unique in the file);
- `at` is when it is sent: once every market step at or before that time has been
  matched, before the next (naive times are UTC);
- `price` for LIMIT and STOP_LIMIT, `stop_price` for STOP and STOP_LIMIT; decimals are
  strings, so that no float ever holds them;
- `time_in_force` (GTC by default), `reduce_only` (false), and `cancel_at`: when to
  cancel it if it is still open (after `at`).

A malformed file is refused whole (`InvalidRequest`, naming the line): a parity run
over half an order stream would compare something nobody asked for.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Final

import msgspec

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.instruments import Instrument
from ordergate.domain.values import ZERO, OrderType, Side, TimeInForce
from ordergate.matching.marketdata import (
    MarketDataError,
    PriceSeries,
    format_timestamp,
    parse_timestamp_ns,
)

MAX_ID_LENGTH: Final = 36


class ParityOrder(msgspec.Struct, frozen=True, kw_only=True):
    """One order of the stream; times in ns since the epoch."""

    id: str
    at: int
    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    cancel_at: int | None = None


class _Line(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One line as written: times as ISO 8601 text."""

    id: str
    at: str
    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    cancel_at: str | None = None


_decoder = msgspec.json.Decoder(_Line)
_encoder = msgspec.json.Encoder(decimal_format="string")


def read_orders(path: Path) -> list[ParityOrder]:
    """Read and check an order file; the orders in the file's order."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidRequest(f"cannot read the order file {path}: {exc}") from exc
    return parse_orders(text.splitlines(), str(path))


def parse_orders(lines: Iterable[str], name: str = "orders") -> list[ParityOrder]:
    """Parse JSON lines (blank lines skipped) into checked orders."""
    orders: list[ParityOrder] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        try:
            raw = _decoder.decode(line)
            order = ParityOrder(
                id=raw.id,
                at=parse_timestamp_ns(raw.at),
                side=raw.side,
                type=raw.type,
                qty=raw.qty,
                price=raw.price,
                stop_price=raw.stop_price,
                time_in_force=raw.time_in_force,
                reduce_only=raw.reduce_only,
                cancel_at=None if raw.cancel_at is None else parse_timestamp_ns(raw.cancel_at),
            )
        except (msgspec.ValidationError, msgspec.DecodeError, MarketDataError) as exc:
            raise InvalidRequest(f"{where}: {exc}") from None
        problem = _problem(order, seen)
        if problem is not None:
            raise InvalidRequest(f"{where}: order {order.id!r}: {problem}")
        seen.add(order.id)
        orders.append(order)
    if not orders:
        raise InvalidRequest(f"{name}: no orders")
    return orders


def write_orders(path: Path, orders: Sequence[ParityOrder]) -> None:
    """Write orders as the JSON lines `read_orders` reads."""
    path.write_text("".join(_line(order) + "\n" for order in orders), encoding="utf-8")


def _line(order: ParityOrder) -> str:
    fields: dict[str, object] = {
        "id": order.id,
        "at": format_timestamp(order.at),
        "side": order.side,
        "type": order.type,
        "qty": order.qty,
    }
    if order.price is not None:
        fields["price"] = order.price
    if order.stop_price is not None:
        fields["stop_price"] = order.stop_price
    fields["time_in_force"] = order.time_in_force
    if order.reduce_only:
        fields["reduce_only"] = True
    if order.cancel_at is not None:
        fields["cancel_at"] = format_timestamp(order.cancel_at)
    return _encoder.encode(fields).decode()


def _problem(order: ParityOrder, seen: set[str]) -> str | None:
    if not order.id or len(order.id) > MAX_ID_LENGTH:
        return f"the id must have 1 to {MAX_ID_LENGTH} characters"
    if order.id in seen:
        return "the id is used twice"
    if order.qty <= ZERO:
        return "qty must be positive"
    needs = {"price": order.type.needs_price, "stop_price": order.type.needs_stop_price}
    for name, value in (("price", order.price), ("stop_price", order.stop_price)):
        if needs[name] and (value is None or value <= ZERO):
            return f"a {order.type} order needs a positive {name}"
        if not needs[name] and value is not None:
            return f"a {order.type} order has no {name}"
    if order.cancel_at is not None and order.cancel_at <= order.at:
        return "cancel_at must be after at"
    return None


# --- a generated stream -----------------------------------------------------------------

# The mix of a generated stream: kind -> weight. The issue asks for market, limit, stop
# and IOC orders; FOK, DAY and stop-limit orders are added to cover every rule.
_MIX: Final = (
    ("market", 24),
    ("limit", 28),
    ("marketable_limit", 6),
    ("day_limit", 4),
    ("ioc", 14),
    ("fok", 4),
    ("stop", 14),
    ("stop_limit", 6),
)


def generate_orders(
    series: PriceSeries,
    instrument: Instrument,
    count: int,
    *,
    seed: int,
    large_qty: Decimal | None = None,
) -> list[ParityOrder]:
    """A reproducible mixed stream of `count` orders over `series`, one per chosen step.

    Sizes are mostly small (1 to 200 lots); one order in twenty is `large_qty` or more
    (if given), to reach past the top of NautilusTrader's book. One in ten market and
    stop orders is reduce-only; half the resting limits are canceled after 5 to 120
    steps. Prices sit 0.05% to 1% from the step's last price, on the tick.
    """
    times = series.event_times
    if count <= 0:
        raise InvalidRequest("the number of orders must be positive")
    if count > len(times) - 1:
        raise InvalidRequest(f"{count} orders need more than {len(times)} market steps")
    rng = random.Random(seed)
    steps = sorted(rng.sample(range(len(times) - 1), count))
    kinds = [kind for kind, _ in _MIX]
    weights = [weight for _, weight in _MIX]
    orders = []
    for number, index in enumerate(steps, start=1):
        kind = rng.choices(kinds, weights)[0]
        last = series.last_price(index)
        orders.append(
            _generated(
                f"p{number:05d}", kind, times[index], times, index, last, instrument, rng, large_qty
            )
        )
    return orders


def _generated(
    order_id: str,
    kind: str,
    at: int,
    times: Sequence[int],
    index: int,
    last: Decimal,
    instrument: Instrument,
    rng: random.Random,
    large_qty: Decimal | None,
) -> ParityOrder:
    side = rng.choice((Side.BUY, Side.SELL))
    lots = rng.randint(1, 200)
    qty = instrument.lot_step * lots
    if large_qty is not None and rng.random() < 0.05:
        qty = max(qty, instrument.round_qty_down(large_qty * Decimal(rng.randint(10, 20)) / 10))
    qty = max(qty, instrument.min_qty)
    away = Decimal(rng.randint(5, 100)) / 10_000  # 0.05% to 1%
    passive = instrument.round_price(last * (1 - side.sign * away))
    beyond = instrument.round_price(last * (1 + side.sign * away))
    tif = TimeInForce.GTC
    price: Decimal | None = None
    stop: Decimal | None = None
    cancel_at: int | None = None
    reduce_only = False
    if kind == "market":
        order_type, reduce_only = OrderType.MARKET, rng.random() < 0.1
    elif kind in ("limit", "day_limit"):
        order_type, price = OrderType.LIMIT, passive
        tif = TimeInForce.DAY if kind == "day_limit" else TimeInForce.GTC
        if kind == "limit" and rng.random() < 0.5:
            cancel_at = times[min(index + rng.randint(5, 120), len(times) - 1)]
    elif kind == "marketable_limit":
        order_type, price = OrderType.LIMIT, beyond
    elif kind in ("ioc", "fok"):
        order_type = OrderType.LIMIT
        price = beyond if rng.random() < 0.5 else passive
        tif = TimeInForce.IOC if kind == "ioc" else TimeInForce.FOK
    elif kind == "stop":
        order_type, stop, reduce_only = OrderType.STOP, beyond, rng.random() < 0.1
    else:  # a stop-limit whose limit is a little beyond its stop
        order_type, stop = OrderType.STOP_LIMIT, beyond
        price = instrument.round_price(beyond * (1 + side.sign * Decimal("0.001")))
    if cancel_at is not None and cancel_at <= at:
        cancel_at = None
    return ParityOrder(
        id=order_id,
        at=at,
        side=side,
        type=order_type,
        qty=qty,
        price=price,
        stop_price=stop,
        time_in_force=tif,
        reduce_only=reduce_only,
        cancel_at=cancel_at,
    )
