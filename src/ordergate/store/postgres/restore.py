"""A PostgreSQL journal restored from an export (`ordergate import`), in one transaction.

The database must hold no journal record, read-model row or checkpoint, in any partition
(API keys, and the head rows of partitions that never journaled anything, may be there): a
restore never merges. One connection, one transaction: the journal is locked against
other writers (`EXCLUSIVE`: reads go on, an append waits, and the restore gives up after
`LOCK_TIMEOUT` rather than wait behind a live node); each partition is taken over as a
node takes it (`take_partition_over`: its epoch raised, so a node that still believes it
owns the partition is fenced out once the restore commits); every batch is the append's
own statement (`APPEND_SQL`, fenced by that epoch and the head), with the records as the
export gives them. Nothing is visible until the commit, and any failure rolls it all back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Final

from asyncpg import Connection

from ordergate.domain.errors import JournalError, RestoreRefused
from ordergate.engine.records import JournalRecord
from ordergate.engine.views import ReadModelChanges
from ordergate.store.postgres.connection import DRIVER_ERRORS, SessionSettings, connect_writer
from ordergate.store.postgres.reads import translated
from ordergate.store.postgres.schema import migrate
from ordergate.store.postgres.writer import take_partition_over
from ordergate.store.postgres.writes import APPEND_SQL, append_arguments
from ordergate.store.tables import HELD_TABLES

OWNER: Final = "ordergate import"
LOCK_TIMEOUT: Final = "10s"
# Folding a batch between two statements takes well under a second; a minute is far
# beyond it, yet a frozen import's transaction does not hold the journal's lock for long.
_SESSION: Final = SessionSettings(idle_in_transaction_session_timeout_ms=60_000)


class PostgresRestore:
    """The `RestoreTarget` of a PostgreSQL database: batches appended in the open
    transaction, each partition taken over at its first batch."""

    def __init__(self, conn: Connection[Any]) -> None:
        self._conn = conn
        self._heads: dict[int, tuple[int, int, bytes]] = {}  # partition -> epoch, seq, hash
        self.records = 0

    async def write(self, records: Sequence[JournalRecord], changes: ReadModelChanges) -> None:
        if not records:
            return
        partition = records[0].partition
        if any(r.partition != partition for r in records):
            raise JournalError("a restore batch holds records of more than one partition")
        async with translated(f"restoring the journal of partition {partition}"):
            if partition not in self._heads:
                self._heads[partition] = await take_partition_over(self._conn, partition, OWNER)
            epoch, seq, head_hash = self._heads[partition]
            arguments = append_arguments(partition, epoch, seq, head_hash, records, changes)
            held = await self._conn.fetchval(APPEND_SQL, *arguments)
        if held != 1:
            raise JournalError(
                f"partition {partition}: the restore's append did not hold its fence "
                f"(epoch {epoch}, head seq {seq})"
            )
        self._heads[partition] = (epoch, records[-1].seq, records[-1].hash)
        self.records += len(records)


async def held_rows(conn: Connection[Any]) -> list[str]:
    """What the database holds that a restore would merge with ("3 orders", ...)."""
    held = []
    for table, name in HELD_TABLES:
        count = await conn.fetchval(f"SELECT count(*) FROM {table}")
        if count:
            held.append(f"{count} {name}")
    return held


@asynccontextmanager
async def restoring_postgres(dsn: str, timeout: float = 10.0) -> AsyncIterator[PostgresRestore]:
    """Connect, migrate, lock the journal, refuse with `RestoreRefused` unless the database
    is empty, and yield the target; commit when the block ends, roll back if it raises.
    `JournalError` when PostgreSQL cannot be reached or fails."""
    async with translated("connecting to PostgreSQL for the restore"):
        conn = await connect_writer(dsn, _SESSION, OWNER, timeout)
    try:
        await migrate(conn)
        async with translated("starting the restore"):
            transaction = conn.transaction()
            await transaction.start()
        try:
            async with translated("locking the journal (is a node running on it?)"):
                await conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                await conn.execute("LOCK TABLE journal, partition_head IN EXCLUSIVE MODE")
                await conn.execute("SET LOCAL lock_timeout = 0")
                held = await held_rows(conn)
            if held:
                raise RestoreRefused(
                    f"the database is not empty ({', '.join(held)}): a journal is restored "
                    "into a new, empty store only, never merged into one; nothing was imported"
                )
            yield PostgresRestore(conn)
            async with translated("committing the restored journal"):
                await transaction.commit()
        except BaseException:
            try:
                await transaction.rollback()
            except DRIVER_ERRORS:
                conn.terminate()  # the server rolls back a transaction whose session ends
            raise
    finally:
        if not conn.is_closed():
            try:
                await conn.close(timeout=timeout)
            except DRIVER_ERRORS:
                conn.terminate()
