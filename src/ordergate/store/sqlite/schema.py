"""The SQLite schema: ordered migrations, and the columns the append writes.

The journal table is append-only at the storage level too: triggers refuse UPDATE and
DELETE. The read models sit in the same file, written in the journal's transaction.
Decimals are TEXT, so that a value keeps its exponent ("0.010" stays "0.010"), and
`reduce_only` an INTEGER 0 or 1 (see `ordergate.store.rows`). `schema_version` holds the
number of migrations applied; a file migrated by a newer ordergate is refused.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Final

from ordergate.domain.errors import JournalError

MIGRATIONS: Final[tuple[str, ...]] = (
    """
    CREATE TABLE journal (
        partition INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        stream TEXT NOT NULL,
        type TEXT NOT NULL,
        version INTEGER NOT NULL,
        payload BLOB NOT NULL,
        prev_hash BLOB NOT NULL,
        hash BLOB NOT NULL,
        PRIMARY KEY (partition, seq)
    ) WITHOUT ROWID;
    CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
    CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
    CREATE TABLE orders (
        order_id TEXT PRIMARY KEY,
        partition INTEGER NOT NULL,
        number INTEGER NOT NULL,
        client_order_id TEXT NOT NULL,
        account TEXT NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        type TEXT NOT NULL,
        qty TEXT NOT NULL,
        price TEXT,
        stop_price TEXT,
        time_in_force TEXT NOT NULL,
        reduce_only INTEGER NOT NULL,
        stop_loss TEXT,
        take_profit TEXT,
        strategy TEXT,
        idempotency_key TEXT,
        parent_order_id TEXT,
        trace_id TEXT,
        status TEXT NOT NULL,
        filled_qty TEXT NOT NULL,
        overfill_qty TEXT NOT NULL,
        avg_fill_price TEXT,
        venue_order_id TEXT,
        reason_code TEXT,
        reason TEXT,
        flags TEXT NOT NULL,
        created_ts INTEGER NOT NULL,
        updated_ts INTEGER NOT NULL
    );
    CREATE INDEX orders_by_created ON orders (created_ts, partition, number);
    CREATE INDEX orders_by_status ON orders (status, created_ts);
    CREATE INDEX orders_by_account_symbol ON orders (account, symbol, created_ts);
    CREATE TABLE fills (
        fill_no INTEGER PRIMARY KEY,
        trade_id TEXT NOT NULL,
        order_id TEXT NOT NULL,
        account TEXT NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        qty TEXT NOT NULL,
        price TEXT NOT NULL,
        fee TEXT NOT NULL,
        fee_currency TEXT NOT NULL,
        liquidity TEXT NOT NULL,
        ts INTEGER NOT NULL,
        UNIQUE (account, trade_id)
    );
    CREATE INDEX fills_by_ts ON fills (ts, fill_no);
    CREATE INDEX fills_by_order ON fills (order_id);
    CREATE TABLE positions (
        account TEXT NOT NULL,
        symbol TEXT NOT NULL,
        qty TEXT NOT NULL,
        avg_price TEXT NOT NULL,
        realized_pnl TEXT NOT NULL,
        fees TEXT NOT NULL,
        updated_ts INTEGER NOT NULL,
        PRIMARY KEY (account, symbol)
    ) WITHOUT ROWID;
    CREATE TABLE balances (
        account TEXT NOT NULL,
        currency TEXT NOT NULL,
        balance TEXT NOT NULL,
        updated_ts INTEGER NOT NULL,
        PRIMARY KEY (account, currency)
    ) WITHOUT ROWID;
    """,
    """
    ALTER TABLE orders ADD COLUMN signal_id TEXT;
    CREATE TABLE outbox_cursor (
        partition INTEGER PRIMARY KEY,
        seq INTEGER NOT NULL,
        updated_ts INTEGER NOT NULL
    );
    """,
    # 3: a trade id is unique per order, not per account: both legs of a self-trade are
    # fills of the account. SQLite cannot drop a constraint, so the table is rebuilt.
    """
    CREATE TABLE fills_v3 (
        fill_no INTEGER PRIMARY KEY,
        trade_id TEXT NOT NULL,
        order_id TEXT NOT NULL,
        account TEXT NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        qty TEXT NOT NULL,
        price TEXT NOT NULL,
        fee TEXT NOT NULL,
        fee_currency TEXT NOT NULL,
        liquidity TEXT NOT NULL,
        ts INTEGER NOT NULL,
        UNIQUE (account, order_id, trade_id)
    );
    INSERT INTO fills_v3 SELECT * FROM fills;
    DROP TABLE fills;
    ALTER TABLE fills_v3 RENAME TO fills;
    CREATE INDEX fills_by_ts ON fills (ts, fill_no);
    CREATE INDEX fills_by_order ON fills (order_id);
    """,
    # 4: orders retired from the engine's hot state, whole, by what names them again; and
    # checkpoints of the engine's state (derived: a start replays only what follows one).
    """
    CREATE TABLE retired_orders (
        order_id TEXT PRIMARY KEY,
        partition INTEGER NOT NULL,
        client_order_id TEXT NOT NULL,
        account TEXT NOT NULL,
        idempotency_key TEXT,
        snapshot BLOB NOT NULL
    );
    CREATE INDEX retired_by_client_order_id ON retired_orders (client_order_id);
    CREATE INDEX retired_by_key ON retired_orders (account, idempotency_key)
        WHERE idempotency_key IS NOT NULL;
    CREATE TABLE checkpoints (
        partition INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        head_hash BLOB NOT NULL,
        ts INTEGER NOT NULL,
        payload BLOB NOT NULL,
        PRIMARY KEY (partition, seq)
    ) WITHOUT ROWID;
    """,
    # 5: trading signals retired with their last order, whole: a redelivered one is
    # answered from here.
    """
    CREATE TABLE retired_signals (
        signal_id TEXT PRIMARY KEY,
        partition INTEGER NOT NULL,
        account TEXT NOT NULL,
        record BLOB NOT NULL
    ) WITHOUT ROWID;
    """,
)

# The columns of `orders` and `fills` in the order of `ordergate.store.rows`' tuples.
ORDER_COLUMNS: Final = (
    "order_id",
    "partition",
    "number",
    "client_order_id",
    "account",
    "symbol",
    "side",
    "type",
    "qty",
    "price",
    "stop_price",
    "time_in_force",
    "reduce_only",
    "stop_loss",
    "take_profit",
    "strategy",
    "idempotency_key",
    "parent_order_id",
    "trace_id",
    "status",
    "filled_qty",
    "overfill_qty",
    "avg_fill_price",
    "venue_order_id",
    "reason_code",
    "reason",
    "flags",
    "created_ts",
    "updated_ts",
    "signal_id",
)
FILL_COLUMNS: Final = (
    "trade_id, order_id, account, symbol, side, qty, price, fee, fee_currency, liquidity, ts"
)


def migrate(con: sqlite3.Connection, path: Path) -> None:
    """Apply the pending migrations, each in a transaction of its own with its version."""
    con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = con.execute("SELECT version FROM schema_version").fetchone()
    current = 0 if row is None else int(row["version"])
    if current > len(MIGRATIONS):
        raise JournalError(f"{path} has schema v{current}; this ordergate knows v{len(MIGRATIONS)}")
    for version in range(current, len(MIGRATIONS)):
        script = (
            f"BEGIN IMMEDIATE; {MIGRATIONS[version]}; DELETE FROM schema_version; "
            f"INSERT INTO schema_version VALUES ({version + 1}); COMMIT;"
        )
        try:
            con.executescript(script)
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
