"""The PostgreSQL journal of one partition, fenced by epoch, with the shared read models.

Any number of nodes share one database; each partition has one owner at a time. Opening a
store with `take_over` makes this process the owner: it raises the partition's epoch in
`partition_head`, and every later append of the previous owner fails its fence and changes
nothing (`JournalFenced`). An advisory lock may decide who *should* own a partition; only
the fence stops a stale owner that still believes it does (notes/scale-out.md §1).

An append is one statement (`writes.py`). When its connection breaks, or its answer does not
come, the batch may or may not have committed; the store settles that before it answers:
on a fresh connection it ends the old backend (so nothing of it can still commit), then
looks for the batch's last record in the journal.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import asyncpg
from asyncpg import Pool, Record

from ordergate.domain.errors import JournalError, JournalFenced
from ordergate.domain.events import Event
from ordergate.engine.chain import GENESIS, seal
from ordergate.engine.checkpoint import CHECKPOINTS_KEPT, StoredCheckpoint
from ordergate.engine.records import JournalRecord
from ordergate.engine.views import ReadModelChanges
from ordergate.store.postgres.connection import (
    DRIVER_ERRORS,
    SessionSettings,
    create_read_pool,
)
from ordergate.store.postgres.reads import PostgresReadModels, translated
from ordergate.store.postgres.schema import migrate
from ordergate.store.postgres.writer import (
    END_BACKEND,
    QueryLogger,
    Writer,
    default_owner,
    open_writer,
    take_partition_over,
)
from ordergate.store.postgres.writes import APPEND_SQL, append_arguments
from ordergate.store.rows import journal_record

PAGE_SIZE: Final = 1000  # journal records read per query by `records_after`
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

_HEAD: Final = (
    "SELECT epoch, owner, head_seq, head_hash FROM partition_head WHERE partition_id = $1"
)
_SETTLE: Final = """
    SELECT h.epoch, h.owner, h.head_seq, h.head_hash,
           (SELECT j.hash FROM journal j WHERE j.partition_id = $1 AND j.seq = $2) AS batch_hash
    FROM partition_head h WHERE h.partition_id = $1
"""
_RECORDS: Final = (
    "SELECT partition_id, seq, ts, stream, type, version, payload, prev_hash, hash "
    "FROM journal WHERE partition_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
)
_OUTBOX_CURSOR: Final = "SELECT seq FROM outbox_cursor WHERE partition_id = $1"
# A checkpoint takes its head hash from the journal row at its seq, in the statement that
# writes it; the newest `CHECKPOINTS_KEPT` of the partition stay.
_WRITE_CHECKPOINT: Final = """
    WITH written AS (
        INSERT INTO checkpoints (partition_id, seq, head_hash, ts, payload)
        SELECT partition_id, seq, hash, $3, $4 FROM journal
        WHERE partition_id = $1 AND seq = $2
        ON CONFLICT (partition_id, seq) DO UPDATE
        SET head_hash = excluded.head_hash, ts = excluded.ts, payload = excluded.payload
        RETURNING seq
    ), pruned AS (
        DELETE FROM checkpoints WHERE partition_id = $1 AND seq < $2 AND seq NOT IN (
            SELECT seq FROM checkpoints WHERE partition_id = $1 AND seq < $2
            ORDER BY seq DESC LIMIT $5
        )
    )
    SELECT count(*) FROM written
"""
_CHECKPOINT_SEQS: Final = "SELECT seq FROM checkpoints WHERE partition_id = $1 ORDER BY seq DESC"
_CHECKPOINT: Final = (
    "SELECT seq, head_hash, ts, payload FROM checkpoints WHERE partition_id = $1 AND seq = $2"
)
_RECORD_HASH: Final = "SELECT hash FROM journal WHERE partition_id = $1 AND seq = $2"
_ADVANCE_OUTBOX_CURSOR: Final = """
    INSERT INTO outbox_cursor AS c (partition_id, seq, updated_at)
    VALUES ($1, $2, coalesce($3, now()))
    ON CONFLICT (partition_id) DO UPDATE
        SET seq = excluded.seq, updated_at = excluded.updated_at
        WHERE c.seq < excluded.seq
"""


@dataclass(frozen=True, slots=True)
class _InDoubt:
    """An append sent on `writer` whose outcome nobody has seen."""

    records: list[JournalRecord]
    writer: Writer


class PostgresStore(PostgresReadModels):
    """Journal of one partition plus the read models of all; open it with `open()`."""

    def __init__(
        self,
        *,
        dsn: str,
        pool: Pool[Record],
        owns_pool: bool,
        partition: int,
        owner: str,
        settings: SessionSettings,
        timeout: float,
        query_logger: QueryLogger | None,
        writer: Writer | None,
        epoch: int,
        head_seq: int,
        head_hash: bytes,
    ) -> None:
        super().__init__(pool)
        self._dsn = dsn
        self._owns_pool = owns_pool
        self._partition = partition
        self._owner = owner
        self._settings = settings
        self._timeout = timeout
        self._query_logger = query_logger
        self._writable = writer is not None
        self._writer = writer
        self._epoch = epoch
        self._head_seq = head_seq
        self._head_hash = head_hash
        self._append_lock = asyncio.Lock()
        self._in_doubt: _InDoubt | None = None
        self._sending: asyncio.Future[int] | None = None  # an append's statement underway
        self._refusal: str | None = None  # why every append is refused from now on

    @classmethod
    async def open(
        cls,
        dsn: str,
        *,
        partition: int = 0,
        owner: str | None = None,
        take_over: bool = True,
        settings: SessionSettings | None = None,
        pool_size: int = 4,
        read_pool: Pool[Record] | None = None,
        timeout: float = 10.0,
        query_logger: QueryLogger | None = None,
    ) -> PostgresStore:
        """Connect, migrate, and (with `take_over`) become the partition's writer.

        `read_pool`: a pool shared with other stores (a node's partitions), which this store
        uses for its reads and leaves open on `close`; otherwise it opens its own of
        `pool_size` connections.

        The takeover waits for an append of the previous owner that is in flight, then
        raises the epoch: from its commit on, the previous owner can append nothing. Without
        `take_over` the store only reads (verification, tools, query-only nodes) and its
        `append` raises `JournalError`. `timeout` bounds connecting and each append, in
        seconds. `query_logger` sees every query of the writer connection (asyncpg's
        `LoggedQuery`, with its duration): for metrics, and to show an append is one query.
        """
        if partition < 0:
            raise ValueError("a partition is a number from 0")
        owner = default_owner() if owner is None else owner
        settings = SessionSettings() if settings is None else settings
        pool: Pool[Record] | None = read_pool
        writer: Writer | None = None
        try:
            async with translated(f"opening the journal of partition {partition}"):
                if pool is None:
                    pool = await create_read_pool(
                        dsn, settings, f"ordergate {owner} p{partition} read", pool_size, timeout
                    )
                async with pool.acquire() as conn:
                    await migrate(conn)
                if take_over:
                    writer = await open_writer(
                        dsn, settings, owner, partition, timeout, query_logger
                    )
                    epoch, head_seq, head_hash = await take_partition_over(
                        writer.conn, partition, owner
                    )
                else:
                    row = await pool.fetchrow(_HEAD, partition)
                    epoch, head_seq, head_hash = (
                        (0, 0, GENESIS)
                        if row is None
                        else (row["epoch"], row["head_seq"], row["head_hash"])
                    )
        except BaseException:
            if writer is not None:
                writer.conn.terminate()
            if pool is not None and read_pool is None:
                pool.terminate()
            raise
        return cls(
            dsn=dsn,
            pool=pool,
            owns_pool=read_pool is None,
            partition=partition,
            owner=owner,
            settings=settings,
            timeout=timeout,
            query_logger=query_logger,
            writer=writer,
            epoch=epoch,
            head_seq=head_seq,
            head_hash=head_hash,
        )

    @property
    def partition(self) -> int:
        return self._partition

    @property
    def epoch(self) -> int:
        """The fencing token this store appends under (read-only: the epoch when opened)."""
        return self._epoch

    @property
    def head_seq(self) -> int:
        """The last seq this store appended or found (read-only: as of opening)."""
        return self._head_seq

    @property
    def owner(self) -> str:
        return self._owner

    # --- Journal ---------------------------------------------------------------------------

    async def append(self, events: Sequence[Event], changes: ReadModelChanges) -> int:
        """Append the batch and its read-model changes in one statement; return its last seq.

        Raises `JournalFenced` once another node has taken the partition over (and on every
        later call), `JournalError` when the batch was not stored for any other reason.
        """
        if not self._writable:
            raise JournalError(
                f"the journal of partition {self._partition} was opened read-only (take_over=False)"
            )
        async with self._append_lock:
            await self._await_orphan()
            self._raise_if_refused()
            if self._in_doubt is not None:
                await self._settle(self._in_doubt)
                self._raise_if_refused()
            records = seal(events, self._partition, self._head_seq, self._head_hash)
            arguments = append_arguments(
                self._partition, self._epoch, self._head_seq, self._head_hash, records, changes
            )
            writer = await self._live_writer()
            # Once sent, the statement runs to its end even if the caller is cancelled: its
            # outcome is then known (to the next append) rather than in doubt.
            sending = asyncio.ensure_future(self._send(writer, records, arguments))
            sending.add_done_callback(_retrieve_exception)
            self._sending = sending
            seq = await asyncio.shield(sending)
            self._sending = None
            return seq

    async def _send(
        self, writer: Writer, records: list[JournalRecord], arguments: list[Any]
    ) -> int:
        self._in_doubt = _InDoubt(records, writer)
        try:
            held = await writer.conn.fetchval(APPEND_SQL, *arguments, timeout=self._timeout)
        except DRIVER_ERRORS as exc:
            if _refused_by_server(exc):
                self._in_doubt = None
                raise JournalError(f"journal append refused: {exc}") from exc
            # The connection broke or the answer did not come: it may have committed.
            if await self._settle(self._in_doubt):
                return self._head_seq
            self._raise_if_refused()
            raise JournalError(
                f"journal append lost its connection and did not commit: {exc!r}"
            ) from exc
        self._in_doubt = None
        if held != 1:
            self._refusal = await self._fence_failure(writer)
            self._raise_if_refused()
        if records:
            self._head_seq, self._head_hash = records[-1].seq, records[-1].hash
        return self._head_seq

    async def _await_orphan(self) -> None:
        """Wait for the statement of an append whose caller was cancelled; its failure was
        the cancelled caller's (a refusal stays recorded in `_refusal`)."""
        sending, self._sending = self._sending, None
        if sending is not None:
            with contextlib.suppress(JournalError):
                await sending

    async def _connect(self) -> Writer:
        return await open_writer(
            self._dsn,
            self._settings,
            self._owner,
            self._partition,
            self._timeout,
            self._query_logger,
        )

    def _raise_if_refused(self) -> None:
        if self._refusal is not None:
            raise JournalFenced(self._refusal)

    async def _live_writer(self) -> Writer:
        """The writer connection, opened again if the server has closed it (an idle session
        past `idle_session_timeout`, a restart): nothing was in flight on it, and the fence
        keeps a reconnected writer exactly as safe as the first."""
        writer = self._writer
        if writer is not None and not writer.conn.is_closed():
            return writer
        self._writer = None
        async with translated(f"reconnecting the writer of partition {self._partition}"):
            self._writer = await self._connect()
        return self._writer

    async def _settle(self, doubt: _InDoubt) -> bool:
        """Find out whether the batch in doubt committed; return True if it did.

        The old backend is ended first and waited for, so that its transaction is over,
        committed or not, before the journal is read. Raises `JournalError` (and the batch
        stays in doubt, settled again on the next append) when PostgreSQL cannot be asked.
        """
        doubt.writer.conn.terminate()
        if self._writer is doubt.writer:
            self._writer = None
        fresh: Writer | None = None
        last_seq = doubt.records[-1].seq if doubt.records else None
        try:
            fresh = await self._connect()
            wait_ms = round(self._timeout * 1000)
            ended = await fresh.conn.fetchval(
                END_BACKEND, doubt.writer.pid, doubt.writer.backend_start, wait_ms
            )
            if ended is False:
                raise JournalError(f"backend {doubt.writer.pid} did not end within {wait_ms} ms")
            row = await fresh.conn.fetchrow(_SETTLE, self._partition, last_seq)
        except (*DRIVER_ERRORS, JournalError) as exc:
            if fresh is not None:
                fresh.conn.terminate()
            raise JournalError(
                f"an append to partition {self._partition} has an unknown outcome "
                f"(PostgreSQL could not be asked: {exc!r}); it is settled before the next one"
            ) from exc
        self._writer = fresh
        self._in_doubt = None
        if doubt.records and row is not None and row["batch_hash"] == doubt.records[-1].hash:
            self._head_seq, self._head_hash = doubt.records[-1].seq, doubt.records[-1].hash
            return True
        if row is None or row["epoch"] != self._epoch:
            self._refusal = self._taken_over_message(row)
        return False

    async def _fence_failure(self, writer: Writer) -> str:
        """Say why the fence did not hold, from the head row as it is now."""
        try:
            row = await writer.conn.fetchrow(_HEAD, self._partition, timeout=self._timeout)
        except DRIVER_ERRORS:
            return (
                f"partition {self._partition}: the append's fence did not hold (epoch "
                f"{self._epoch}, head {self._head_seq}); another node has taken it over"
            )
        if row is not None and row["epoch"] == self._epoch:
            return (
                f"partition {self._partition}: its head is at seq {row['head_seq']} under this "
                f"store's own epoch {self._epoch}, where seq {self._head_seq} was expected; "
                "something else writes as this owner"
            )
        return self._taken_over_message(row)

    def _taken_over_message(self, row: Record | None) -> str:
        if row is None:
            return f"partition {self._partition} has no head row any more"
        return (
            f"partition {self._partition} was taken over by {row['owner']!r} at epoch "
            f"{row['epoch']}; this store ({self._owner!r}) holds epoch {self._epoch}"
        )

    async def records_after(self, after_seq: int = 0) -> AsyncIterator[JournalRecord]:
        """This partition's records after `after_seq`, in seq order, a page per query; no
        connection is held between pages, however slowly the caller consumes them."""
        seq = after_seq
        while True:
            async with translated(f"reading the journal of partition {self._partition}"):
                page = await self._pool.fetch(_RECORDS, self._partition, seq, PAGE_SIZE)
            for r in page:
                yield journal_record(r)
            if len(page) < PAGE_SIZE:
                return
            seq = page[-1]["seq"]

    # --- checkpoints -------------------------------------------------------------------------

    async def write_checkpoint(self, seq: int, ts: int, payload: bytes) -> None:
        """Keep a checkpoint (through the read pool: it is derived data, so it needs no
        fence; its hash comes from the chain, whoever writes it)."""
        async with translated(f"writing a checkpoint of partition {self._partition}"):
            written = await self._pool.fetchval(
                _WRITE_CHECKPOINT, self._partition, seq, ts, payload, CHECKPOINTS_KEPT - 1
            )
        if written != 1:
            raise JournalError(f"no journal record at seq {seq} to checkpoint")

    async def checkpoint_seqs(self) -> list[int]:
        async with translated("listing checkpoints"):
            rows = await self._pool.fetch(_CHECKPOINT_SEQS, self._partition)
        return [r["seq"] for r in rows]

    async def checkpoint(self, seq: int) -> StoredCheckpoint | None:
        async with translated("reading a checkpoint"):
            row = await self._pool.fetchrow(_CHECKPOINT, self._partition, seq)
        if row is None:
            return None
        return StoredCheckpoint(row["seq"], bytes(row["head_hash"]), row["ts"], row["payload"])

    async def record_hash(self, seq: int) -> bytes | None:
        async with translated("reading a journal hash"):
            value = await self._pool.fetchval(_RECORD_HASH, self._partition, seq)
        return None if value is None else bytes(value)

    # --- the event relay's progress ----------------------------------------------------------

    async def outbox_cursor(self) -> int:
        """The last seq the event relay has had confirmed for this partition (0: none)."""
        async with translated("reading the outbox cursor"):
            seq = await self._pool.fetchval(_OUTBOX_CURSOR, self._partition)
        return 0 if seq is None else int(seq)

    async def advance_outbox_cursor(self, seq: int, updated_ts: int | None = None) -> None:
        """Move the relay's cursor to `seq`; a seq below the stored one changes nothing.

        `updated_ts` (ns) is the relay's clock reading; without it the server's time is kept.
        """
        updated_at = (
            None if updated_ts is None else _EPOCH + timedelta(microseconds=updated_ts // 1000)
        )
        async with translated("advancing the outbox cursor"):
            await self._pool.execute(_ADVANCE_OUTBOX_CURSOR, self._partition, seq, updated_at)

    async def close(self) -> None:
        """Close the writer and the readers (unless the read pool is shared). An append still
        in doubt needs nothing more: the next owner's takeover waits for it if it holds the
        head, and fences it if it does not yet."""
        self._writable = False
        if self._sending is not None:
            await asyncio.wait([self._sending], timeout=self._timeout)
        writer, self._writer = self._writer, None
        try:
            if writer is not None:
                await writer.conn.close(timeout=self._timeout)
            if self._owns_pool:
                await self._pool.close()
        except DRIVER_ERRORS:
            if writer is not None:
                writer.conn.terminate()
            if self._owns_pool:
                self._pool.terminate()


def _retrieve_exception(sending: asyncio.Future[int]) -> None:
    """Mark an orphaned append's failure as seen: `_await_orphan` may never come."""
    if not sending.cancelled():
        sending.exception()


def _refused_by_server(exc: BaseException) -> bool:
    """True when the server refused the statement with an ERROR and keeps the session: its
    transaction is rolled back, so nothing of the batch is stored. A FATAL error ends the
    session, possibly after the commit; that outcome is in doubt like a broken socket."""
    return isinstance(exc, asyncpg.PostgresError) and (exc.severity_en or exc.severity) == "ERROR"
