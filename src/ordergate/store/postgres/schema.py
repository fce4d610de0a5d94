"""The PostgreSQL schema: ordered migrations, applied once however many nodes start at once.

The journal and the read models have SQLite's shape (`sqlite/schema.py`), with `partition_id`
where SQLite says `partition`. Decimals are TEXT, as SQLite keeps them, so that a value's
exponent survives ("0.010" stays "0.010"): verification compares the read models with a
replay field by field. `reduce_only` is a boolean where SQLite has an INTEGER 0 or 1
(`ordergate.store.rows` writes and reads both). The text columns that queries sort by use
the "C" collation, so that PostgreSQL orders them byte by byte as SQLite does, whatever the
database's locale.

`partition_head` is both the partition's owner record (its fencing epoch) and the head of its
hash chain; every append moves it in the same statement as it inserts (see `store.py`).
"""

from __future__ import annotations

from typing import Any, Final

from asyncpg import Connection
from asyncpg.pool import PoolConnectionProxy

from ordergate.domain.errors import JournalError
from ordergate.store.postgres.connection import DRIVER_ERRORS

# The key of the transaction-level advisory lock under which migrations run. Any fixed
# 64-bit value works; it only has to be the same for every ordergate node. (The one-key and
# two-key advisory lock spaces do not overlap, so partition leases taken as (ns, partition)
# never collide with it.)
MIGRATION_LOCK_KEY: Final = 0x6F72_6465_7267_7465  # "ordergte"

MIGRATIONS: Final[tuple[str, ...]] = (
    # 1: the journal, append-only, and each partition's head.
    """
    CREATE TABLE journal (
        partition_id integer NOT NULL,
        seq bigint NOT NULL,
        epoch bigint NOT NULL,
        ts bigint NOT NULL,
        stream text NOT NULL,
        type text NOT NULL,
        version integer NOT NULL,
        payload bytea NOT NULL,
        prev_hash bytea NOT NULL,
        hash bytea NOT NULL,
        PRIMARY KEY (partition_id, seq)
    );
    CREATE FUNCTION journal_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the journal is append-only (% refused)', TG_OP
            USING ERRCODE = 'restrict_violation';
    END
    $$;
    CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        FOR EACH ROW EXECUTE FUNCTION journal_refuse_change();
    CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        FOR EACH ROW EXECUTE FUNCTION journal_refuse_change();
    CREATE TRIGGER journal_no_truncate BEFORE TRUNCATE ON journal
        FOR EACH STATEMENT EXECUTE FUNCTION journal_refuse_change();
    CREATE TABLE partition_head (
        partition_id integer PRIMARY KEY CHECK (partition_id >= 0),
        epoch bigint NOT NULL DEFAULT 0,
        owner text,
        head_seq bigint NOT NULL DEFAULT 0,
        head_hash bytea NOT NULL,
        updated_at timestamptz
    );
    """,
    # 2: the read models, shared by every partition.
    """
    CREATE TABLE orders (
        order_id text COLLATE "C" PRIMARY KEY,
        partition_id integer NOT NULL,
        number bigint NOT NULL,
        client_order_id text NOT NULL,
        account text COLLATE "C" NOT NULL,
        symbol text COLLATE "C" NOT NULL,
        side text NOT NULL,
        type text NOT NULL,
        qty text NOT NULL,
        price text,
        stop_price text,
        time_in_force text NOT NULL,
        reduce_only boolean NOT NULL,
        stop_loss text,
        take_profit text,
        strategy text,
        idempotency_key text,
        parent_order_id text,
        trace_id text,
        status text NOT NULL,
        filled_qty text NOT NULL,
        overfill_qty text NOT NULL,
        avg_fill_price text,
        venue_order_id text,
        reason_code text,
        reason text,
        flags text NOT NULL,
        created_ts bigint NOT NULL,
        updated_ts bigint NOT NULL,
        signal_id text
    );
    CREATE INDEX orders_by_created ON orders (created_ts, partition_id, number);
    CREATE INDEX orders_by_status ON orders (status, created_ts);
    CREATE INDEX orders_by_account_symbol ON orders (account, symbol, created_ts);
    CREATE TABLE fills (
        fill_no bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        trade_id text COLLATE "C" NOT NULL,
        order_id text COLLATE "C" NOT NULL,
        account text COLLATE "C" NOT NULL,
        symbol text COLLATE "C" NOT NULL,
        side text NOT NULL,
        qty text NOT NULL,
        price text NOT NULL,
        fee text NOT NULL,
        fee_currency text NOT NULL,
        liquidity text NOT NULL,
        ts bigint NOT NULL,
        UNIQUE (account, trade_id)
    );
    CREATE INDEX fills_by_ts ON fills (ts, fill_no);
    CREATE INDEX fills_by_order ON fills (order_id);
    CREATE TABLE positions (
        account text COLLATE "C" NOT NULL,
        symbol text COLLATE "C" NOT NULL,
        qty text NOT NULL,
        avg_price text NOT NULL,
        realized_pnl text NOT NULL,
        fees text NOT NULL,
        updated_ts bigint NOT NULL,
        PRIMARY KEY (account, symbol)
    );
    CREATE TABLE balances (
        account text COLLATE "C" NOT NULL,
        currency text COLLATE "C" NOT NULL,
        balance text NOT NULL,
        updated_ts bigint NOT NULL,
        PRIMARY KEY (account, currency)
    );
    """,
    # 3: how far the event relay has published each partition.
    """
    CREATE TABLE outbox_cursor (
        partition_id integer PRIMARY KEY,
        seq bigint NOT NULL,
        updated_at timestamptz NOT NULL
    );
    """,
    # 4: a trade id is unique per order, not per account: both legs of a self-trade are
    # fills of the account.
    """
    ALTER TABLE fills DROP CONSTRAINT fills_account_trade_id_key;
    ALTER TABLE fills ADD CONSTRAINT fills_account_order_trade_key
        UNIQUE (account, order_id, trade_id);
    """,
    # 5: orders retired from the engines' hot state, whole, by what names them again; and
    # checkpoints of each partition's state (derived: a start replays what follows one).
    """
    CREATE TABLE retired_orders (
        order_id text COLLATE "C" PRIMARY KEY,
        partition_id integer NOT NULL,
        client_order_id text COLLATE "C" NOT NULL,
        account text COLLATE "C" NOT NULL,
        idempotency_key text COLLATE "C",
        snapshot bytea NOT NULL
    );
    CREATE INDEX retired_by_client_order_id ON retired_orders (client_order_id);
    CREATE INDEX retired_by_key ON retired_orders (account, idempotency_key)
        WHERE idempotency_key IS NOT NULL;
    CREATE TABLE checkpoints (
        partition_id integer NOT NULL,
        seq bigint NOT NULL,
        head_hash bytea NOT NULL,
        ts bigint NOT NULL,
        payload bytea NOT NULL,
        PRIMARY KEY (partition_id, seq)
    );
    """,
    # 6: trading signals retired with their last order, whole: a redelivered one is
    # answered from here.
    """
    CREATE TABLE retired_signals (
        signal_id text COLLATE "C" PRIMARY KEY,
        partition_id integer NOT NULL,
        account text COLLATE "C" NOT NULL,
        record bytea NOT NULL
    );
    """,
)

_CREATE_MIGRATIONS_TABLE: Final = """
    CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
    )
"""


async def migrate(conn: Connection[Any] | PoolConnectionProxy[Any]) -> list[int]:
    """Apply the pending migrations in one transaction; return the versions applied.

    The transaction first takes an advisory lock, so nodes that start together migrate one
    after the other: the second finds everything applied and does nothing. A database that
    is ahead of this code (a newer ordergate migrated it) is refused rather than used.
    """
    try:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
            await conn.execute(_CREATE_MIGRATIONS_TABLE)
            rows = await conn.fetch("SELECT version FROM schema_migrations")
            applied = {int(r["version"]) for r in rows}
            newest = max(applied, default=0)
            if newest > len(MIGRATIONS):
                raise JournalError(
                    f"the database has schema v{newest}; this ordergate knows v{len(MIGRATIONS)}"
                )
            pending = [v for v in range(1, len(MIGRATIONS) + 1) if v not in applied]
            for version in pending:
                await conn.execute(MIGRATIONS[version - 1])
                await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
    except DRIVER_ERRORS as exc:
        raise JournalError(f"migrating the PostgreSQL schema failed: {exc}") from exc
    return pending
