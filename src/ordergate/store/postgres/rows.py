"""Read-model rows: views to column tuples for the append, result records back to views.

Decimals go in as `str(value)` and come back as `Decimal(text)`, as in SQLite, so every value
keeps its exponent. Each column list pairs a name with the PostgreSQL type of the array it is
sent in (`unnest($n::type[])`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from asyncpg import Record

from ordergate.domain.values import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.records import JournalRecord
from ordergate.engine.views import BalanceView, FillView, OrderView, PositionView

Columns = tuple[tuple[str, str], ...]

ORDER_COLUMNS: Final[Columns] = (
    ("order_id", "text"),
    ("partition_id", "integer"),
    ("number", "bigint"),
    ("client_order_id", "text"),
    ("account", "text"),
    ("symbol", "text"),
    ("side", "text"),
    ("type", "text"),
    ("qty", "text"),
    ("price", "text"),
    ("stop_price", "text"),
    ("time_in_force", "text"),
    ("reduce_only", "boolean"),
    ("stop_loss", "text"),
    ("take_profit", "text"),
    ("strategy", "text"),
    ("idempotency_key", "text"),
    ("parent_order_id", "text"),
    ("trace_id", "text"),
    ("status", "text"),
    ("filled_qty", "text"),
    ("overfill_qty", "text"),
    ("avg_fill_price", "text"),
    ("venue_order_id", "text"),
    ("reason_code", "text"),
    ("reason", "text"),
    ("flags", "text"),
    ("created_ts", "bigint"),
    ("updated_ts", "bigint"),
    ("signal_id", "text"),
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
FILL_COLUMNS: Final[Columns] = (
    ("trade_id", "text"),
    ("order_id", "text"),
    ("account", "text"),
    ("symbol", "text"),
    ("side", "text"),
    ("qty", "text"),
    ("price", "text"),
    ("fee", "text"),
    ("fee_currency", "text"),
    ("liquidity", "text"),
    ("ts", "bigint"),
)
POSITION_COLUMNS: Final[Columns] = (
    ("account", "text"),
    ("symbol", "text"),
    ("qty", "text"),
    ("avg_price", "text"),
    ("realized_pnl", "text"),
    ("fees", "text"),
    ("updated_ts", "bigint"),
)
BALANCE_COLUMNS: Final[Columns] = (
    ("account", "text"),
    ("currency", "text"),
    ("balance", "text"),
    ("updated_ts", "bigint"),
)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def order_row(o: OrderView) -> tuple[Any, ...]:
    partition, number = o.order_id.split("-", 1)
    return (
        o.order_id,
        int(partition),
        int(number),
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


def journal_record(r: Record) -> JournalRecord:
    return JournalRecord(
        r["partition_id"],
        r["seq"],
        r["ts"],
        r["stream"],
        r["type"],
        r["version"],
        r["payload"],
        r["prev_hash"],
        r["hash"],
    )


def order_view(r: Record) -> OrderView:
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
        reduce_only=r["reduce_only"],
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


def fill_view(r: Record) -> FillView:
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


def position_view(r: Record) -> PositionView:
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


def balance_view(r: Record) -> BalanceView:
    return BalanceView(r["account"], r["currency"], Decimal(r["balance"]), r["updated_ts"])
