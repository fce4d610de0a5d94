"""A consistent, read-only view of a PostgreSQL journal, for the tools (`ordergate replay`,
`ordergate verify-journal`): every partition's records, its checkpoints and the shared read
models as of one moment.

A live cluster keeps appending while a tool reads. Read apart, a partition's records and the
read models would be two moments, and an append between them would show as a difference that
is not there. Here every query runs in one REPEATABLE READ, READ ONLY transaction on one
connection: PostgreSQL answers them all from the snapshot the first query took, and an
append (one statement: records, head and read-model rows) is wholly in it or wholly not.
REPEATABLE READ suffices: partitions share no read-model row (an account hashes to one
partition), so no serialization anomaly between appends can show.

Nothing is taken over, locked or written, and no migration runs (unlike
`PostgresStore.open(take_over=False)`): a database without the schema is refused, not
created. While open, the snapshot holds back vacuum; a tool keeps it for one pass.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Final

import asyncpg
from asyncpg import Connection, Record

from ordergate.domain.errors import JournalError
from ordergate.engine.checkpoint import StoredCheckpoint
from ordergate.engine.records import JournalRecord
from ordergate.engine.views import ReadModelChanges
from ordergate.store.postgres.connection import DRIVER_ERRORS, SessionSettings
from ordergate.store.postgres.reads import read_model_rows, translated
from ordergate.store.postgres.sameness import read_models_equal
from ordergate.store.postgres.schema import MIGRATIONS
from ordergate.store.rows import journal_record

# The oldest schema these queries read: v1 (journal, heads) and v2 (read models).
_OLDEST_READABLE: Final = 2
_CHECKPOINTS_SINCE: Final = 5  # the schema that made the checkpoints table
_PREFETCH: Final = 1000  # journal records per round trip of the server-side cursor
# A tool pauses between reads only to fold a page of records or turn rows into views: five
# minutes is far beyond that, yet a frozen tool's snapshot stops holding vacuum back.
_IDLE_IN_SNAPSHOT_MS: Final = 300_000

_MIGRATED: Final = "SELECT to_regclass('schema_migrations') IS NOT NULL"
_SCHEMA_VERSION: Final = "SELECT coalesce(max(version), 0) FROM schema_migrations"
# Partitions with a head row, and any with records but none (which verification reports).
_PARTITIONS: Final = """
    SELECT partition_id, h.epoch, h.owner, h.head_seq, h.head_hash,
           coalesce(j.records, 0) AS records
    FROM partition_head h
    FULL JOIN (SELECT partition_id, count(*) AS records FROM journal GROUP BY partition_id) j
        USING (partition_id)
    ORDER BY partition_id
"""
_RECORDS: Final = (
    "SELECT partition_id, seq, ts, stream, type, version, payload, prev_hash, hash "
    "FROM journal WHERE partition_id = $1 AND seq > $2 ORDER BY seq"
)
_CHECKPOINT_SEQS: Final = "SELECT seq FROM checkpoints WHERE partition_id = $1 ORDER BY seq DESC"
_CHECKPOINT: Final = (
    "SELECT seq, head_hash, ts, payload FROM checkpoints WHERE partition_id = $1 AND seq = $2"
)
_RECORD_HASH: Final = "SELECT hash FROM journal WHERE partition_id = $1 AND seq = $2"


@dataclass(frozen=True, slots=True)
class PartitionInfo:
    """A partition as the snapshot sees it. The head fields are None when the partition has
    journal records but no `partition_head` row."""

    partition: int
    records: int
    epoch: int | None
    owner: str | None
    head_seq: int | None
    head_hash: bytes | None


class SnapshotJournal:
    """One partition's journal and checkpoints, read in the snapshot (a `PartitionJournal`,
    and a `CheckpointedJournal` that `engine.resume` goes on from; it has no way to write
    a checkpoint, or anything else)."""

    def __init__(
        self, conn: Connection[Record], partition: int, *, has_checkpoints: bool = True
    ) -> None:
        self._conn = conn
        self._partition = partition
        self._has_checkpoints = has_checkpoints

    @property
    def partition(self) -> int:
        return self._partition

    async def records_after(self, after_seq: int = 0) -> AsyncIterator[JournalRecord]:
        """The partition's records after `after_seq`, in seq order, through a server-side
        cursor of the snapshot's transaction."""
        async with translated(f"reading the journal of partition {self._partition}"):
            cursor = self._conn.cursor(_RECORDS, self._partition, after_seq, prefetch=_PREFETCH)
            async for r in cursor:
                yield journal_record(r)

    async def checkpoint_seqs(self) -> list[int]:
        """The seqs of the partition's checkpoints, newest first (none before schema v5)."""
        if not self._has_checkpoints:
            return []
        async with translated(f"listing the checkpoints of partition {self._partition}"):
            rows = await self._conn.fetch(_CHECKPOINT_SEQS, self._partition)
        return [r["seq"] for r in rows]

    async def checkpoint(self, seq: int) -> StoredCheckpoint | None:
        if not self._has_checkpoints:
            return None
        async with translated(f"reading a checkpoint of partition {self._partition}"):
            row = await self._conn.fetchrow(_CHECKPOINT, self._partition, seq)
        if row is None:
            return None
        return StoredCheckpoint(row["seq"], bytes(row["head_hash"]), row["ts"], row["payload"])

    async def checkpoints(self) -> list[StoredCheckpoint]:
        """Every checkpoint the partition keeps, newest first (for verification)."""
        kept = [await self.checkpoint(seq) for seq in await self.checkpoint_seqs()]
        return [c for c in kept if c is not None]

    async def record_hash(self, seq: int) -> bytes | None:
        async with translated(f"reading a journal hash of partition {self._partition}"):
            value = await self._conn.fetchval(_RECORD_HASH, self._partition, seq)
        return None if value is None else bytes(value)


class JournalSnapshot:
    """Partitions, their journals and the read models, all as of one moment."""

    def __init__(
        self,
        conn: Connection[Record],
        partitions: dict[int, PartitionInfo],
        schema_version: int = _CHECKPOINTS_SINCE,
    ) -> None:
        self._conn = conn
        self._partitions = partitions
        self._schema_version = schema_version

    @property
    def partitions(self) -> dict[int, PartitionInfo]:
        """Every partition, in partition order."""
        return dict(self._partitions)

    def journal(self, partition: int) -> SnapshotJournal:
        has_checkpoints = self._schema_version >= _CHECKPOINTS_SINCE
        return SnapshotJournal(self._conn, partition, has_checkpoints=has_checkpoints)

    async def read_models(self) -> ReadModelChanges:
        """Every read-model row, for verification against the replays."""
        async with translated("reading the read models"):
            return await read_model_rows(self._conn)

    async def read_models_equal(self, expected: ReadModelChanges) -> bool:
        """Whether the read models are exactly `expected`, shown quickly (`sameness.py`):
        False is no verdict, only that the views must be compared one by one."""
        async with translated("comparing the read models"):
            return await read_models_equal(self._conn, expected)


@asynccontextmanager
async def open_snapshot(
    dsn: str, *, application_name: str = "ordergate snapshot", timeout: float = 10.0
) -> AsyncIterator[JournalSnapshot]:
    """Connect and hold one read-only snapshot of the journal until the block ends.

    Raises `JournalError` when the database cannot be reached, `dsn` is not a valid URL, or
    the database holds no ordergate schema this code can read. The session has the writer's
    keepalives, so the snapshot of a tool that dies is released within seconds.
    """
    settings = SessionSettings(idle_in_transaction_session_timeout_ms=_IDLE_IN_SNAPSHOT_MS)
    try:
        conn: Connection[Record] = await asyncpg.connect(
            dsn,
            timeout=timeout,
            server_settings=settings.server_settings(application_name, ends_when_idle=False),
        )
    except ValueError as exc:  # asyncpg's verdict on a malformed URL
        raise JournalError(f"the PostgreSQL URL is not valid: {exc}") from exc
    except DRIVER_ERRORS as exc:
        raise JournalError(f"connecting to PostgreSQL failed: {exc!r}") from exc
    try:
        async with translated("opening the journal snapshot"):
            # Never committed: it writes nothing, and closing the connection ends it. So a
            # session the server ends after the last read costs a finished tool nothing.
            await conn.transaction(isolation="repeatable_read", readonly=True).start()
            migrated = await conn.fetchval(_MIGRATED)
            version = await conn.fetchval(_SCHEMA_VERSION) if migrated else 0
            _check_schema(version)
            rows = await conn.fetch(_PARTITIONS)
        partitions = {r["partition_id"]: _partition_info(r) for r in rows}
        yield JournalSnapshot(conn, partitions, version)
    finally:
        try:
            await conn.close(timeout=timeout)
        except DRIVER_ERRORS:
            conn.terminate()


def _check_schema(version: int) -> None:
    if version == 0:
        raise JournalError("the database holds no ordergate journal (its schema is missing)")
    if version > len(MIGRATIONS):
        raise JournalError(
            f"the database has schema v{version}; this ordergate knows v{len(MIGRATIONS)}"
        )
    if version < _OLDEST_READABLE:
        raise JournalError(f"the database has schema v{version}, too old to read")


def _partition_info(r: Record) -> PartitionInfo:
    return PartitionInfo(
        partition=r["partition_id"],
        records=r["records"],
        epoch=r["epoch"],
        owner=r["owner"],
        head_seq=r["head_seq"],
        head_hash=None if r["head_hash"] is None else bytes(r["head_hash"]),
    )
