"""A SQLite journal restored from an export (`ordergate import`), in one transaction.

The file must be new, or hold no journal record, read-model row, checkpoint or relay
cursor (API keys, in their own tables of the same file, are left as they are): a restore
never merges. Every batch is inserted with the append's own statements (`writes.py`)
inside one `BEGIN IMMEDIATE` transaction, committed once the last batch is in: a reader,
or a server started too early, sees the whole journal or none of it. SQLite spills the
transaction's pages to the WAL as its cache fills, so memory stays bounded; the WAL grows
to about the journal's size until the commit checkpoints it. On any failure the
transaction is rolled back, and a file the restore created is removed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from ordergate.domain.errors import JournalError, RestoreRefused
from ordergate.engine.records import JournalRecord
from ordergate.engine.views import ReadModelChanges
from ordergate.store.sqlite.connection import connect
from ordergate.store.sqlite.schema import migrate
from ordergate.store.sqlite.writes import insert_batch
from ordergate.store.tables import HELD_TABLES

PARTITION: Final = 0  # a SQLite journal is one partition, partition 0


class SqliteRestore:
    """The `RestoreTarget` of a SQLite file: batches inserted in the open transaction, in
    line (the file is local, and the restore is all the process does)."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self._con = con
        self.records = 0

    async def write(self, records: Sequence[JournalRecord], changes: ReadModelChanges) -> None:
        strays = {r.partition for r in records} - {PARTITION}
        if strays:
            raise RestoreRefused(
                f"a SQLite journal holds partition {PARTITION} only, the export has partition "
                f"{min(strays)}; restore it into PostgreSQL"
            )
        try:
            insert_batch(self._con, records, changes)
        except sqlite3.Error as exc:
            raise JournalError(f"writing the restored journal failed: {exc}") from exc
        self.records += len(records)


def held_rows(con: sqlite3.Connection) -> list[str]:
    """What the file holds that a restore would merge with ("3 orders", ...)."""
    held = []
    for table, name in HELD_TABLES:
        count = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        if count:
            held.append(f"{count} {name}")
    return held


@contextmanager
def restoring_sqlite(path: Path) -> Iterator[SqliteRestore]:
    """Open `path` (creating it) for a restore, refuse it with `RestoreRefused` unless it is
    empty, and yield the target; commit when the block ends, roll back if it raises."""
    created = not path.exists()
    try:
        con = connect(path, "FULL")
    except sqlite3.Error as exc:
        raise JournalError(f"cannot open {path}: {exc}") from exc
    try:
        try:
            migrate(con, path)
            con.execute("BEGIN IMMEDIATE")  # the write lock, held until the commit
            held = held_rows(con)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot restore into {path}: {exc}") from exc
        if held:
            raise RestoreRefused(
                f"{path} is not empty ({', '.join(held)}): a journal is restored into a new, "
                "empty store only, never merged into one; nothing was imported"
            )
        yield SqliteRestore(con)
        try:
            con.execute("COMMIT")
        except sqlite3.Error as exc:
            raise JournalError(f"committing the restored journal failed: {exc}") from exc
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        con.close()
        if created:
            for leftover in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm"))):
                leftover.unlink(missing_ok=True)
        raise
    con.close()
