"""Read-model rows of any content, for the stores' quick comparisons (`sameness.py` of
SQLite and PostgreSQL): text as anything may hold it, decimals of any exponent, and how to
change any one field of an order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
from hypothesis import strategies as st

from ordergate.domain.values import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.views import BalanceView, FillView, OrderView, PositionView, ReadModelChanges

# Text as anything may hold it: quotes, backslashes, control characters, non-ASCII (no
# lone surrogates: they are not text a database can store; PostgreSQL's text holds no NUL).
texts = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
decimals = st.decimals(min_value=-(10**6), max_value=10**6, places=4, allow_nan=False)
maybe = st.none


@st.composite
def orders(draw: st.DrawFn, n: int) -> OrderView:
    return OrderView(
        order_id=f"0-{n}",
        client_order_id=draw(texts),
        account=draw(texts),
        symbol=draw(texts),
        side=draw(st.sampled_from(Side)),
        type=draw(st.sampled_from(OrderType)),
        qty=draw(decimals),
        price=draw(maybe() | decimals),
        stop_price=draw(maybe() | decimals),
        time_in_force=draw(st.sampled_from(TimeInForce)),
        reduce_only=draw(st.booleans()),
        stop_loss=draw(maybe() | decimals),
        take_profit=draw(maybe() | decimals),
        strategy=draw(maybe() | texts),
        idempotency_key=draw(maybe() | texts),
        parent_order_id=draw(maybe() | texts),
        trace_id=draw(maybe() | texts),
        status=draw(st.sampled_from(OrderStatus)),
        filled_qty=draw(decimals),
        overfill_qty=draw(decimals),
        avg_fill_price=draw(maybe() | decimals),
        venue_order_id=draw(maybe() | texts),
        reason_code=draw(maybe() | texts),
        reason=draw(maybe() | texts),
        flags=tuple(draw(st.lists(st.sampled_from(["LATE_FILL", "OVERFILL"]), unique=True))),
        created_ts=draw(st.integers(0, 2**62)),
        updated_ts=draw(st.integers(0, 2**62)),
        signal_id=draw(maybe() | texts),
    )


@st.composite
def changes(draw: st.DrawFn) -> ReadModelChanges:
    count = draw(st.integers(0, 6))
    views = [draw(orders(n)) for n in range(1, count + 1)]
    fills = [
        FillView(
            f"T{k}",
            draw(texts),
            draw(texts),
            draw(texts),
            draw(st.sampled_from(Side)),
            draw(decimals),
            draw(decimals),
            draw(decimals),
            draw(texts),
            draw(st.sampled_from(LiquiditySide)),
            draw(st.integers(0, 2**62)),
        )
        for k in range(draw(st.integers(0, 4)))
    ]
    positions = [
        PositionView(
            f"a{k}",
            draw(texts),
            draw(decimals),
            draw(decimals),
            draw(decimals),
            draw(decimals),
            draw(st.integers(0, 2**62)),
        )
        for k in range(draw(st.integers(0, 3)))
    ]
    balances = [
        BalanceView(f"a{k}", draw(texts), draw(decimals), draw(st.integers(0, 2**62)))
        for k in range(draw(st.integers(0, 3)))
    ]
    return ReadModelChanges(views, fills, positions, balances)


def _other_text(value: str | None) -> str | None:
    return "x" if value is None else None if value == "" else value + "x"


def _other_decimal(value: Decimal | None) -> Decimal | None:
    return Decimal(1) if value is None else value + 1


CHANGES: dict[str, Any] = {
    "client_order_id": lambda v: v + "x",
    "side": lambda v: Side.SELL if v is Side.BUY else Side.BUY,
    "qty": lambda v: v + 1,
    "price": _other_decimal,
    "reduce_only": lambda v: not v,
    "strategy": _other_text,
    "status": lambda v: OrderStatus.FILLED if v is not OrderStatus.FILLED else OrderStatus.NEW,
    "avg_fill_price": _other_decimal,
    "reason": _other_text,
    "flags": lambda v: (*v, "STALE"),
    "updated_ts": lambda v: v + 1,
    "signal_id": _other_text,
}


def one_order_field_changed(written: ReadModelChanges, data: st.DataObject) -> ReadModelChanges:
    """`written` with one field (`CHANGES` names how) of one order, drawn, changed."""
    index = data.draw(st.integers(0, len(written.orders) - 1))
    name = data.draw(st.sampled_from(sorted(CHANGES)))
    order = written.orders[index]
    altered = msgspec.structs.replace(order, **{name: CHANGES[name](getattr(order, name))})
    return ReadModelChanges(
        [*written.orders[:index], altered, *written.orders[index + 1 :]],
        written.fills,
        written.positions,
        written.balances,
    )
