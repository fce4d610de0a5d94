"""Read-model rows: the one mapping between the views and the rows SQLite and PostgreSQL keep.

Both databases hold the read models in tables of one shape (`sqlite/schema.py`,
`postgres/schema.py`), so a view becomes a row, and a row a view, here only. A row to write
is a tuple in the table's column order; a row read back is looked up by column name, which
`sqlite3.Row` and `asyncpg.Record` both answer.

What both keep alike, so one mapping reads either:
- decimals are text, `str(value)` in and `Decimal(text)` out, so that a value keeps its
  exponent ("0.010" stays "0.010"): verification compares the read models with a replay
  field by field;
- enums are their values, flags one comma-separated text ("" for none), times integer ns.

Where the two differ:
- `reduce_only` is an INTEGER 0 or 1 in SQLite and a `boolean` in PostgreSQL. The row
  carries Python's bool: asyncpg sends it as a boolean, and sqlite3 binds a bool as the
  integer 1 or 0 (a bool is an int), as SQLite has always stored it. Read back, `bool()`
  turns SQLite's integer into a bool and leaves PostgreSQL's as it is.
- the partition column is `partition` in SQLite and `partition_id` in PostgreSQL. Rows give
  it by position (the second column of `orders`, the first of a journal row), so its name
  never enters this module.
- what only one store keeps (PostgreSQL's epoch and partition head, the outbox cursor, the
  fill numbers each database assigns) is that store's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Final, NamedTuple, Protocol

import msgspec

from ordergate.domain.events import OrderSnapshot, SignalReceived
from ordergate.domain.values import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.ids import order_id_parts
from ordergate.engine.records import JournalRecord
from ordergate.engine.views import (
    BalanceView,
    FillView,
    OrderView,
    PositionView,
    ReadModelChanges,
)

# What a later batch may change in an order's row (the rest is fixed at initialization).
ORDER_MUTABLE: Final = (
    "qty",
    "price",
    "stop_price",
    "status",
    "filled_qty",
    "overfill_qty",
    "avg_fill_price",
    "venue_order_id",
    "reason_code",
    "reason",
    "flags",
    "updated_ts",
)


class Row(Protocol):
    """A result row looked up by column name (`sqlite3.Row`, `asyncpg.Record`)."""

    def __getitem__(self, column: str, /) -> Any: ...


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def journal_record(r: Iterable[Any]) -> JournalRecord:
    """A journal row selected as partition, seq, ts, stream, type, version, payload,
    prev_hash, hash (in that order: the partition column's name differs)."""
    return JournalRecord(*r)


def order_row(o: OrderView) -> tuple[Any, ...]:
    partition, number = order_id_parts(o.order_id)
    return (
        o.order_id,
        partition,
        number,
        o.client_order_id,
        o.account,
        o.symbol,
        o.side.value,
        o.type.value,
        str(o.qty),
        _text(o.price),
        _text(o.stop_price),
        o.time_in_force.value,
        o.reduce_only,
        _text(o.stop_loss),
        _text(o.take_profit),
        o.strategy,
        o.idempotency_key,
        o.parent_order_id,
        o.trace_id,
        o.status.value,
        str(o.filled_qty),
        str(o.overfill_qty),
        _text(o.avg_fill_price),
        o.venue_order_id,
        o.reason_code,
        o.reason,
        ",".join(o.flags),
        o.created_ts,
        o.updated_ts,
        o.signal_id,
    )


def order_view(r: Row) -> OrderView:
    return OrderView(
        order_id=r["order_id"],
        client_order_id=r["client_order_id"],
        account=r["account"],
        symbol=r["symbol"],
        side=Side(r["side"]),
        type=OrderType(r["type"]),
        qty=Decimal(r["qty"]),
        price=_dec(r["price"]),
        stop_price=_dec(r["stop_price"]),
        time_in_force=TimeInForce(r["time_in_force"]),
        reduce_only=bool(r["reduce_only"]),
        stop_loss=_dec(r["stop_loss"]),
        take_profit=_dec(r["take_profit"]),
        strategy=r["strategy"],
        idempotency_key=r["idempotency_key"],
        parent_order_id=r["parent_order_id"],
        trace_id=r["trace_id"],
        status=OrderStatus(r["status"]),
        filled_qty=Decimal(r["filled_qty"]),
        overfill_qty=Decimal(r["overfill_qty"]),
        avg_fill_price=_dec(r["avg_fill_price"]),
        venue_order_id=r["venue_order_id"],
        reason_code=r["reason_code"],
        reason=r["reason"],
        flags=tuple(r["flags"].split(",")) if r["flags"] else (),
        created_ts=r["created_ts"],
        updated_ts=r["updated_ts"],
        signal_id=r["signal_id"],
    )


def fill_row(f: FillView) -> tuple[Any, ...]:
    return (
        f.trade_id,
        f.order_id,
        f.account,
        f.symbol,
        f.side.value,
        str(f.qty),
        str(f.price),
        str(f.fee),
        f.fee_currency,
        f.liquidity.value,
        f.ts,
    )


def fill_view(r: Row) -> FillView:
    return FillView(
        trade_id=r["trade_id"],
        order_id=r["order_id"],
        account=r["account"],
        symbol=r["symbol"],
        side=Side(r["side"]),
        qty=Decimal(r["qty"]),
        price=Decimal(r["price"]),
        fee=Decimal(r["fee"]),
        fee_currency=r["fee_currency"],
        liquidity=LiquiditySide(r["liquidity"]),
        ts=r["ts"],
    )


def position_row(p: PositionView) -> tuple[Any, ...]:
    return (
        p.account,
        p.symbol,
        str(p.qty),
        str(p.avg_price),
        str(p.realized_pnl),
        str(p.fees),
        p.updated_ts,
    )


def position_view(r: Row) -> PositionView:
    return PositionView(
        r["account"],
        r["symbol"],
        Decimal(r["qty"]),
        Decimal(r["avg_price"]),
        Decimal(r["realized_pnl"]),
        Decimal(r["fees"]),
        r["updated_ts"],
    )


def balance_row(b: BalanceView) -> tuple[Any, ...]:
    return (b.account, b.currency, str(b.balance), b.updated_ts)


def balance_view(r: Row) -> BalanceView:
    return BalanceView(r["account"], r["currency"], Decimal(r["balance"]), r["updated_ts"])


# --- retired orders -----------------------------------------------------------------------
# A retired order is kept whole, as the JSON of its `OrderSnapshot` (the codec's encoding:
# decimals as strings), beside the columns it is looked up by.

_SNAPSHOT_DECODER: Final = msgspec.json.Decoder(OrderSnapshot)


def retired_row(snapshot: OrderSnapshot) -> tuple[Any, ...]:
    """(order_id, partition, client_order_id, account, idempotency_key, snapshot)."""
    partition, _ = order_id_parts(snapshot.order_id)
    return (
        snapshot.order_id,
        partition,
        snapshot.client_order_id,
        snapshot.account,
        snapshot.idempotency_key,
        msgspec.json.encode(snapshot),
    )


def retired_snapshot(payload: bytes) -> OrderSnapshot:
    return _SNAPSHOT_DECODER.decode(payload)


_SIGNAL_DECODER: Final = msgspec.json.Decoder(SignalReceived)


def retired_signal_row(partition: int, received: SignalReceived) -> tuple[Any, ...]:
    """(signal_id, partition, account, record): a trading signal retired with its last
    order, kept whole to answer a redelivered one."""
    return (received.signal_id, partition, received.account, msgspec.json.encode(received))


def retired_signal(payload: bytes) -> SignalReceived:
    return _SIGNAL_DECODER.decode(payload)


# --- a replay's rows, to compare with a store's ---------------------------------------------


class ReplayRows(NamedTuple):
    """A replay's read-model rows as a store keeps them, each table in key order (fills by
    account, order and trade id): what a store's quick comparison (`sameness.py`) holds
    its own rows against. Retired orders and signals as (key, the JSON of the record),
    an order retired more than once (recalled, then retired again) by its newest."""

    orders: list[tuple[Any, ...]]
    fills: list[tuple[Any, ...]]
    positions: list[tuple[Any, ...]]
    balances: list[tuple[Any, ...]]
    retired: list[tuple[str, bytes]]
    retired_signals: list[tuple[str, bytes]]


def replay_rows(changes: ReadModelChanges) -> ReplayRows:
    retired = {r.order_id: r for r in changes.retired}
    signals = {s.signal_id: s for s in changes.retired_signals}
    return ReplayRows(
        orders=[order_row(o) for o in sorted(changes.orders, key=lambda o: o.order_id)],
        fills=[
            fill_row(f)
            for f in sorted(changes.fills, key=lambda f: (f.account, f.order_id, f.trade_id))
        ],
        positions=[
            position_row(p) for p in sorted(changes.positions, key=lambda p: (p.account, p.symbol))
        ],
        balances=[
            balance_row(b) for b in sorted(changes.balances, key=lambda b: (b.account, b.currency))
        ],
        retired=[(k, msgspec.json.encode(retired[k])) for k in sorted(retired)],
        retired_signals=[(k, msgspec.json.encode(signals[k])) for k in sorted(signals)],
    )
