"""The fenced append: a batch of journal records and its read-model changes in ONE statement.

    WITH fence AS (UPDATE partition_head SET head_seq, head_hash
                   WHERE partition_id = $1 AND epoch = $2 AND head_seq = $3 RETURNING 1),
         journal_rows AS (INSERT INTO journal ... SELECT ... FROM fence, unnest(...)),
         order_rows AS (INSERT INTO orders ... FROM fence, unnest(...) ON CONFLICT DO UPDATE),
         ... fills, positions, balances, retired orders and signals alike ...
    SELECT count(*) FROM fence

Every insert reads its rows through `fence`, so when the fence does not hold (another node
has raised the epoch, or the head is not where this writer left it) the statement changes
nothing at all and answers 0. The fence's row lock also orders appends and takeovers: a
takeover waits for an append in flight, and an append queued behind an uncommitted takeover
re-checks the epoch once it commits (notes/scale-out.md §1). Rows travel as one array per
column, in asyncpg's binary format: a batch is one round trip whatever its size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final, TypeVar

from ordergate.engine.records import JournalRecord
from ordergate.engine.views import ReadModelChanges
from ordergate.store.postgres.columns import (
    BALANCE_COLUMNS,
    FILL_COLUMNS,
    ORDER_COLUMNS,
    POSITION_COLUMNS,
    RETIRED_COLUMNS,
    RETIRED_SIGNAL_COLUMNS,
    Columns,
)
from ordergate.store.rows import (
    ORDER_MUTABLE,
    balance_row,
    fill_row,
    order_row,
    position_row,
    retired_row,
    retired_signal_row,
)

T = TypeVar("T")
K = TypeVar("K")

_JOURNAL_COLUMNS: Final[Columns] = (
    ("seq", "bigint"),
    ("ts", "bigint"),
    ("stream", "text"),
    ("type", "text"),
    ("version", "integer"),
    ("payload", "bytea"),
    ("prev_hash", "bytea"),
    ("hash", "bytea"),
)
_FIRST_ARRAY: Final = 6  # $1-$5 are the fence's: partition, epoch, expected seq, new seq, hash


def _unnest(columns: Columns, first: int) -> str:
    arrays = ", ".join(f"${first + i}::{pg_type}[]" for i, (_, pg_type) in enumerate(columns))
    names = ", ".join(name for name, _ in columns)
    return f"unnest({arrays}) WITH ORDINALITY AS t({names}, ord)"


def _insert(table: Columns, name: str, first: int, fixed: str = "", fixed_values: str = "") -> str:
    names = ", ".join(column for column, _ in table)
    values = ", ".join(f"t.{column}" for column, _ in table)
    return (
        f"INSERT INTO {name} ({fixed}{names}) "
        f"SELECT {fixed_values}{values} FROM fence, {_unnest(table, first)} ORDER BY t.ord"
    )


def _upsert(table: Columns, name: str, first: int, key: str, mutable: Iterable[str]) -> str:
    updates = ", ".join(f"{column} = excluded.{column}" for column in mutable)
    return f"{_insert(table, name, first)} ON CONFLICT ({key}) DO UPDATE SET {updates}"


def _build_append_sql() -> str:
    first = _FIRST_ARRAY
    parts = [
        "fence AS (UPDATE partition_head SET head_seq = $4::bigint, head_hash = $5::bytea, "
        "updated_at = now() WHERE partition_id = $1::integer AND epoch = $2::bigint "
        "AND head_seq = $3::bigint RETURNING 1)",
        "journal_rows AS ("
        + _insert(_JOURNAL_COLUMNS, "journal", first, "partition_id, epoch, ", "$1, $2, ")
        + ")",
    ]
    first += len(_JOURNAL_COLUMNS)
    parts.append(
        "order_rows AS (" + _upsert(ORDER_COLUMNS, "orders", first, "order_id", ORDER_MUTABLE) + ")"
    )
    first += len(ORDER_COLUMNS)
    parts.append("fill_rows AS (" + _insert(FILL_COLUMNS, "fills", first) + ")")
    first += len(FILL_COLUMNS)
    position_mutable = [c for c, _ in POSITION_COLUMNS if c not in ("account", "symbol")]
    parts.append(
        "position_rows AS ("
        + _upsert(POSITION_COLUMNS, "positions", first, "account, symbol", position_mutable)
        + ")"
    )
    first += len(POSITION_COLUMNS)
    balance_mutable = [c for c, _ in BALANCE_COLUMNS if c not in ("account", "currency")]
    parts.append(
        "balance_rows AS ("
        + _upsert(BALANCE_COLUMNS, "balances", first, "account, currency", balance_mutable)
        + ")"
    )
    first += len(BALANCE_COLUMNS)
    parts.append(
        "retired_rows AS ("
        + _upsert(RETIRED_COLUMNS, "retired_orders", first, "order_id", ["snapshot"])
        + ")"
    )
    first += len(RETIRED_COLUMNS)
    parts.append(
        "retired_signal_rows AS ("
        + _upsert(RETIRED_SIGNAL_COLUMNS, "retired_signals", first, "signal_id", ["record"])
        + ")"
    )
    return "WITH " + ",\n".join(parts) + "\nSELECT count(*) FROM fence"


APPEND_SQL: Final = _build_append_sql()


def _arrays(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows to one list per column (asyncpg sends each as a binary array)."""
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]


def _last_per_key(items: Iterable[T], key: Callable[[T], K]) -> list[T]:
    """Keep the last row per key: an upsert may touch a row once per statement, and a
    later change in the same batch supersedes an earlier one (as SQLite's row by row
    upserts leave it)."""
    return list({key(item): item for item in items}.values())


def append_arguments(
    partition: int,
    epoch: int,
    expected_seq: int,
    expected_hash: bytes,
    records: Sequence[JournalRecord],
    changes: ReadModelChanges,
) -> list[Any]:
    """The parameters of `APPEND_SQL`: the fence, then each table's column arrays."""
    new_seq, new_hash = (
        (records[-1].seq, records[-1].hash) if records else (expected_seq, expected_hash)
    )
    journal = [
        (r.seq, r.ts, r.stream, r.type, r.version, r.payload, r.prev_hash, r.hash) for r in records
    ]
    orders = [order_row(o) for o in _last_per_key(changes.orders, lambda o: o.order_id)]
    fills = [fill_row(f) for f in changes.fills]
    positions = [
        position_row(p) for p in _last_per_key(changes.positions, lambda p: (p.account, p.symbol))
    ]
    balances = [
        balance_row(b) for b in _last_per_key(changes.balances, lambda b: (b.account, b.currency))
    ]
    retired = [retired_row(r) for r in _last_per_key(changes.retired, lambda r: r.order_id)]
    signals = [
        retired_signal_row(partition, r)
        for r in _last_per_key(changes.retired_signals, lambda r: r.signal_id)
    ]
    return [
        partition,
        epoch,
        expected_seq,
        new_seq,
        new_hash,
        *_arrays(journal, len(_JOURNAL_COLUMNS)),
        *_arrays(orders, len(ORDER_COLUMNS)),
        *_arrays(fills, len(FILL_COLUMNS)),
        *_arrays(positions, len(POSITION_COLUMNS)),
        *_arrays(balances, len(BALANCE_COLUMNS)),
        *_arrays(retired, len(RETIRED_COLUMNS)),
        *_arrays(signals, len(RETIRED_SIGNAL_COLUMNS)),
    ]
