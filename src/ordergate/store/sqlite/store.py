"""The embedded journal: SQLite in WAL mode, read models in the same transaction.

One writer thread owns the write connection, so an append (encode, chain, insert, fsync)
runs off the event loop while the engine and the API keep going; SQLite releases the GIL
while it writes. Reads use their own connection (`reads.py`); WAL lets them run beside the
writer and they only ever see committed transactions. The journal table is append-only at
the storage level too (`schema.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final

from ordergate.domain.events import Event
from ordergate.engine.chain import GENESIS, seal
from ordergate.engine.checkpoint import StoredCheckpoint
from ordergate.engine.codec import decode
from ordergate.engine.records import JournalRecord
from ordergate.engine.views import ReadModelChanges
from ordergate.store.rows import journal_record
from ordergate.store.sqlite import checkpoints
from ordergate.store.sqlite.checker import SqliteRecords
from ordergate.store.sqlite.checkpoints import write_checkpoint
from ordergate.store.sqlite.connection import SYNCHRONOUS_MODES, Synchronous, connect
from ordergate.store.sqlite.reads import SqliteReadModels
from ordergate.store.sqlite.schema import migrate
from ordergate.store.sqlite.writes import write_batch, write_outbox_cursor

_PAGE: Final = 2048  # journal records read at a time
_HEAD: Final = "SELECT seq, hash FROM journal WHERE partition = ? ORDER BY seq DESC LIMIT 1"
_RECORDS: Final = (
    "SELECT partition, seq, ts, stream, type, version, payload, prev_hash, hash "
    "FROM journal WHERE partition = ? AND seq > ? ORDER BY seq"
)
_RECORDS_PAGE: Final = f"{_RECORDS} LIMIT ?"
_OUTBOX_CURSOR: Final = "SELECT seq FROM outbox_cursor WHERE partition = ?"
_COUNT: Final = "SELECT count(*) FROM journal WHERE partition = ?"


class SqliteStore(SqliteReadModels):
    """Journal + read models in one SQLite file. Open it with `SqliteStore(path)`."""

    def __init__(
        self, path: str | Path, *, partition: int = 0, synchronous: Synchronous = "FULL"
    ) -> None:
        self.path = Path(path)
        self.partition = partition
        if synchronous not in SYNCHRONOUS_MODES:
            raise ValueError(f"bad synchronous mode {synchronous!r}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = connect(self.path, synchronous)
        migrate(self._writer, self.path)
        super().__init__(connect(self.path, synchronous))
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-journal")
        row = self._reader.execute(_HEAD, (partition,)).fetchone()
        self._head_seq: int = 0 if row is None else row["seq"]
        self._head_hash: bytes = GENESIS if row is None else row["hash"]

    @property
    def head_seq(self) -> int:
        return self._head_seq

    # --- Journal ---------------------------------------------------------------------------

    async def append(self, events: Sequence[Event], changes: ReadModelChanges) -> int:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._write, events, changes)

    def _write(self, events: Sequence[Event], changes: ReadModelChanges) -> int:
        records = seal(events, self.partition, self._head_seq, self._head_hash)
        write_batch(self._writer, records, changes)
        if records:
            self._head_seq = records[-1].seq
            self._head_hash = records[-1].hash
        return self._head_seq

    def records(self, after_seq: int = 0) -> Iterator[JournalRecord]:
        cursor = self._reader.execute(_RECORDS, (self.partition, after_seq))
        while rows := cursor.fetchmany(_PAGE):
            for r in rows:
                yield journal_record(r)

    def events(self) -> Iterator[Event]:
        return (decode(r.type, r.version, r.payload) for r in self.records())

    def records_after(
        self, after_seq: int = 0, *, check_elsewhere: bool | None = None
    ) -> SqliteRecords:
        """The records after `after_seq`, a page at a time (the file is local: each page is
        read in-line, between the event loop's other work). Replay takes them checked: in a
        process of their own when there are many (`checker.py`), or as `check_elsewhere`
        says."""
        return SqliteRecords(
            self._pages_after,
            self.path,
            self.partition,
            after_seq,
            self._head_seq,
            check_elsewhere,
        )

    async def _pages_after(self, after_seq: int) -> AsyncGenerator[list[tuple[Any, ...]], None]:
        seq = after_seq
        cursor = self._reader.cursor()
        cursor.row_factory = None  # plain tuples: nothing looks a journal row up by name
        while True:
            page = cursor.execute(_RECORDS_PAGE, (self.partition, seq, _PAGE)).fetchall()
            if page:
                yield page
            if len(page) < _PAGE:
                return
            seq = page[-1][1]
            await asyncio.sleep(0)

    # --- Checkpoints -------------------------------------------------------------------------

    async def write_checkpoint(self, seq: int, ts: int, payload: bytes) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(
            self._executor, write_checkpoint, self._writer, self.partition, seq, ts, payload
        )

    async def checkpoint_seqs(self) -> list[int]:
        return [r[0] for r in self._reader.execute(checkpoints.SEQS, (self.partition,))]

    async def checkpoint(self, seq: int) -> StoredCheckpoint | None:
        row = self._reader.execute(checkpoints.ONE, (self.partition, seq)).fetchone()
        return None if row is None else checkpoints.stored_checkpoint(row)

    async def record_hash(self, seq: int) -> bytes | None:
        row = self._reader.execute(checkpoints.RECORD_HASH, (self.partition, seq)).fetchone()
        return None if row is None else bytes(row[0])

    async def outbox_cursor(self) -> int:
        """The last seq the event relay has had confirmed (0: none)."""
        row = self._reader.execute(_OUTBOX_CURSOR, (self.partition,)).fetchone()
        return 0 if row is None else int(row["seq"])

    async def advance_outbox_cursor(self, seq: int, updated_ts: int) -> None:
        """Move the relay's cursor to `seq`; a lower seq than the stored one changes nothing."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(
            self._executor, write_outbox_cursor, self._writer, self.partition, seq, updated_ts
        )

    def count(self) -> int:
        row = self._reader.execute(_COUNT, (self.partition,)).fetchone()
        return int(row[0])

    async def close(self) -> None:
        self._executor.shutdown(wait=True)
        self._writer.close()
        self._reader.close()
