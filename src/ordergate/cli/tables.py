"""Plain aligned tables and lines for the views (`orders`, `positions`, `tail`).

Plain text rather than boxes: a view is read in a terminal, piped to `grep`, `sort` or
`column`, and pasted into a ticket. Numbers are right-aligned, so their digits line up;
decimals print as the server sent them, never through a float. `--json` is for machines.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import msgspec

from ordergate.client.wire import MarkedPosition
from ordergate.engine.views import FillView, OrderView


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: frozenset[int]) -> str:
    """Columns as wide as their widest cell, two spaces apart; `right`: the columns
    (by index) aligned right."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        padded = (
            cell.rjust(width) if index in right else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )
        return "  ".join(padded).rstrip()

    return "\n".join([line(headers), *(line(row) for row in rows)])


def when(ts_ns: int) -> str:
    """UTC to the millisecond: enough to order what a person reads."""
    moment = datetime.fromtimestamp(ts_ns // 1_000_000 / 1000, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def number(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


ORDER_HEADERS = (
    "ID",
    "CREATED",
    "SYMBOL",
    "SIDE",
    "TYPE",
    "QTY",
    "PRICE",
    "FILLED",
    "AVG PRICE",
    "STATUS",
    "REASON",
    "STRATEGY",
)
ORDER_NUMBERS = frozenset({5, 6, 7, 8})


def order_row(order: OrderView) -> list[str]:
    return [
        order.order_id,
        when(order.created_ts),
        order.symbol,
        order.side.value,
        order.type.value,
        number(order.qty),
        number(order.price if order.price is not None else order.stop_price),
        number(order.filled_qty),
        number(order.avg_fill_price),
        order.status.value,
        order.reason_code or "",
        order.strategy or "",
    ]


POSITION_HEADERS = (
    "ACCOUNT",
    "SYMBOL",
    "SIDE",
    "QTY",
    "AVG PRICE",
    "MARK",
    "UNREALIZED",
    "REALIZED",
    "FEES",
    "CCY",
    "UPDATED",
)
POSITION_NUMBERS = frozenset({3, 4, 5, 6, 7, 8})


def position_row(marked: MarkedPosition) -> list[str]:
    p = marked.position
    return [
        p.account,
        p.symbol,
        "LONG" if p.qty > 0 else "SHORT" if p.qty < 0 else "FLAT",
        number(p.qty),
        number(p.avg_price),
        number(marked.mark_price),
        number(marked.unrealized_pnl),
        number(p.realized_pnl),
        number(p.fees),
        marked.currency,
        when(p.updated_ts),
    ]


def change_line(change: OrderView | FillView) -> str:
    """One line of `tail`: an order as it is now, or a fill."""
    if isinstance(change, OrderView):
        price = change.price if change.price is not None else change.stop_price
        terms = f"{number(change.qty)} @ {number(price) or 'MKT'}"
        filled = f"filled {number(change.filled_qty)}"
        if change.avg_fill_price is not None:
            filled += f" @ {number(change.avg_fill_price)}"
        reason = f"  {change.reason_code}" if change.reason_code else ""
        return (
            f"{when(change.updated_ts)}  ORDER {change.order_id:<10} {change.symbol:<10} "
            f"{change.side.value:<4} {change.type.value:<10} {terms:<24} "
            f"{change.status.value:<16} {filled}{reason}"
        )
    fee = f"fee {number(change.fee)} {change.fee_currency}"
    return (
        f"{when(change.ts)}  FILL  {change.order_id:<10} {change.symbol:<10} "
        f"{change.side.value:<4} {change.liquidity.value:<10} "
        f"{number(change.qty) + ' @ ' + number(change.price):<24} "
        f"{'trade ' + change.trade_id:<16} {fee}"
    )


def as_json(value: object) -> str:
    """A view (or a list of them) as the JSON of its fields: decimals as strings, times
    as nanoseconds since the epoch, as the views hold them."""
    return msgspec.json.encode(value).decode()


def change_json(change: OrderView | FillView) -> str:
    kind = "order" if isinstance(change, OrderView) else "fill"
    return msgspec.json.encode({"kind": kind, **msgspec.to_builtins(change)}).decode()
