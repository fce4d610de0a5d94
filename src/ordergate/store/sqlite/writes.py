"""The append: a batch of journal records and its read-model rows in one SQLite transaction.

`BEGIN IMMEDIATE` takes the write lock before the first statement (waiting up to the busy
timeout while another writer, the key store say, holds it), so a batch cannot fail halfway
for want of it. The commit is the group commit: one fsync under `synchronous=FULL` however
many events the batch holds. Upserts run row by row, so a later change to a row within a
batch supersedes an earlier one. These functions run on the store's writer thread, on its
write connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Final

from ordergate.domain.errors import JournalError
from ordergate.engine.records import JournalRecord
from ordergate.engine.views import ReadModelChanges
from ordergate.store.rows import (
    ORDER_MUTABLE,
    balance_row,
    fill_row,
    order_row,
    position_row,
    retired_row,
    retired_signal_row,
)
from ordergate.store.sqlite.schema import FILL_COLUMNS, ORDER_COLUMNS

INSERT_JOURNAL: Final = "INSERT INTO journal VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
UPSERT_ORDER: Final = (
    f"INSERT INTO orders ({', '.join(ORDER_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(ORDER_COLUMNS))}) "
    f"ON CONFLICT (order_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in ORDER_MUTABLE)
)
INSERT_FILL: Final = f"INSERT INTO fills ({FILL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
UPSERT_POSITION: Final = (
    "INSERT INTO positions VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, symbol) DO UPDATE "
    "SET qty = excluded.qty, avg_price = excluded.avg_price, "
    "realized_pnl = excluded.realized_pnl, fees = excluded.fees, updated_ts = excluded.updated_ts"
)
UPSERT_BALANCE: Final = (
    "INSERT INTO balances VALUES (?, ?, ?, ?) ON CONFLICT (account, currency) DO UPDATE "
    "SET balance = excluded.balance, updated_ts = excluded.updated_ts"
)
UPSERT_RETIRED: Final = (
    "INSERT INTO retired_orders VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (order_id) DO UPDATE "
    "SET snapshot = excluded.snapshot"
)
UPSERT_RETIRED_SIGNAL: Final = (
    "INSERT INTO retired_signals VALUES (?, ?, ?, ?) ON CONFLICT (signal_id) DO UPDATE "
    "SET record = excluded.record"
)
ADVANCE_OUTBOX_CURSOR: Final = (
    "INSERT INTO outbox_cursor VALUES (?, ?, ?) ON CONFLICT (partition) DO UPDATE "
    "SET seq = excluded.seq, updated_ts = excluded.updated_ts "
    "WHERE excluded.seq > outbox_cursor.seq"
)


def write_batch(
    con: sqlite3.Connection, records: Sequence[JournalRecord], changes: ReadModelChanges
) -> None:
    """Insert `records` and write `changes` in one transaction, or nothing at all: on a
    failure the transaction is rolled back and `JournalError` raised."""
    try:
        con.execute("BEGIN IMMEDIATE")
        insert_batch(con, records, changes)
        con.execute("COMMIT")
    except sqlite3.Error as exc:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise JournalError(f"journal append failed: {exc}") from exc


def insert_batch(
    con: sqlite3.Connection, records: Sequence[JournalRecord], changes: ReadModelChanges
) -> None:
    """Insert `records` and write `changes` in the transaction the caller holds open."""
    con.executemany(
        INSERT_JOURNAL,
        [
            (
                r.partition,
                r.seq,
                r.ts,
                r.stream,
                r.type,
                r.version,
                r.payload,
                r.prev_hash,
                r.hash,
            )
            for r in records
        ],
    )
    if changes.orders:
        con.executemany(UPSERT_ORDER, [order_row(o) for o in changes.orders])
    if changes.fills:
        con.executemany(INSERT_FILL, [fill_row(f) for f in changes.fills])
    if changes.positions:
        con.executemany(UPSERT_POSITION, [position_row(p) for p in changes.positions])
    if changes.balances:
        con.executemany(UPSERT_BALANCE, [balance_row(b) for b in changes.balances])
    if changes.retired:
        con.executemany(UPSERT_RETIRED, [retired_row(r) for r in changes.retired])
    if changes.retired_signals:
        partition = records[0].partition if records else 0
        con.executemany(
            UPSERT_RETIRED_SIGNAL,
            [retired_signal_row(partition, r) for r in changes.retired_signals],
        )


def write_outbox_cursor(con: sqlite3.Connection, partition: int, seq: int, ts: int) -> None:
    """Move the event relay's cursor of `partition` to `seq`, never back."""
    try:
        con.execute(ADVANCE_OUTBOX_CURSOR, (partition, seq, ts))
    except sqlite3.Error as exc:
        raise JournalError(f"outbox cursor update failed: {exc}") from exc
