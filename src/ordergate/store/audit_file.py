"""A live audit file: every committed journal record appended as a JSON line, after commit.

`ORDERGATE_AUDIT_JSONL=logs/orders.jsonl` (seed 003's trade log, seed 001's append-only
JSONL audit): one line per record, in the format of `ordergate export --jsonl`
(`engine.jsonl`), so `ordergate verify-journal --jsonl` checks a rotated file on its own.
The file is derived data: it is written after the journal commits, never instead, and
losing it loses nothing (`ordergate export` writes the same lines from the journal).

- **Follows the journal**, not the engine's memory: woken by each commit (`notify`), it
  reads the records past the last one it wrote and appends them, so a restart resumes
  where the file ends and a missed wake-up costs only the next poll (`POLL_SECONDS`).
- **Resumes** from the file's last whole record; a line torn by a crash is cut off first.
  A file that ends beyond the journal (a journal restored from an older copy) is rotated
  away and a new one started. A new file starts at the journal's head: the history before
  it is `ordergate export`'s to write.
- **Rotates by size**: past `max_bytes` the file gets its footer (the head it ends at and
  its count, so it verifies on its own), becomes `<name>.1` (`.1` becomes `.2`, ...,
  keeping `backups` of them) and a new file starts with a header. The live file has no
  footer yet: `verify-journal --jsonl` says so.

Lines are written with the file's buffering and flushed after every batch, not fsynced:
the journal is what survives a power cut.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from pathlib import Path
from typing import BinaryIO, Final

import structlog

from ordergate.engine.jsonl import Head, footer_line, header_line, record_line
from ordergate.engine.ports import RecordSource

POLL_SECONDS: Final = 1.0
_TAIL: Final = 1 << 20  # bytes read from the end of the file to find its last record

log = structlog.get_logger("ordergate.store.audit_file")


class AuditFile:
    """Append one partition's committed records to `path` (see the module's docstring)."""

    def __init__(
        self,
        path: Path,
        source: RecordSource,
        partition: int,
        *,
        max_bytes: int,
        backups: int,
    ) -> None:
        self.path = path
        self._source = source
        self._partition = partition
        self._max_bytes = max_bytes
        self._backups = backups
        self._file: BinaryIO | None = None
        self._seq = 0  # the last record written
        self._head: Head | None = None  # of the current file
        self._count = 0  # records in the current file
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def last_seq(self) -> int:
        return self._seq

    async def start(self, head_seq: int) -> None:
        """Open the file where it ends (or start one at the journal's `head_seq`), write
        what the journal holds beyond it, then follow the journal."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        last = self._resume()
        if last is None or last > head_seq:
            if last is not None:
                log.warning(
                    "audit file ends beyond the journal: rotated, a new one started",
                    path=str(self.path),
                    file_seq=last,
                    journal_seq=head_seq,
                )
                self._rotate()
            self._seq = head_seq
            self._new_file()
        await self._catch_up()
        self._task = asyncio.create_task(self._follow(), name=f"p{self._partition}-audit-file")

    def notify(self) -> None:
        """A commit happened: write it soon."""
        self._wake.set()

    async def stop(self) -> None:
        """Write what is committed, then close the file."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self._catch_up()
        finally:
            if self._file is not None:
                self._file.close()
                self._file = None

    async def _follow(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            self._wake.clear()
            try:
                await self._catch_up()
            except OSError as exc:  # a full disk: the journal goes on, the file waits
                log.error("audit file not written", path=str(self.path), error=str(exc))

    async def _catch_up(self) -> None:
        assert self._file is not None
        wrote = False
        async for record in self._source.records_after(self._seq):
            self._file.write(record_line(record))
            self._seq = record.seq
            self._head = Head(record.partition, record.seq, record.hash)
            self._count += 1
            wrote = True
            if self._file.tell() >= self._max_bytes:
                self._file.flush()
                self._rotate()
                self._new_file()
        if wrote:
            self._file.flush()

    def _resume(self) -> int | None:
        """The seq of the file's last whole record, the file open to append after it; or
        None (no file, or no record in it: it is replaced)."""
        if not self.path.exists():
            return None
        with self.path.open("rb") as existing:
            size = existing.seek(0, os.SEEK_END)
            existing.seek(max(0, size - _TAIL))
            tail = existing.read()
        whole_end = tail.rfind(b"\n") + 1  # a torn last line is cut off
        last: int | None = None
        head: Head | None = None
        for line in reversed(tail[:whole_end].splitlines()):
            if line.startswith(b'{"partition":'):
                seq, digest = _seq_and_hash(line)
                last, head = seq, Head(self._partition, seq, digest)
                break
        if last is None:
            return None
        file = self.path.open("r+b")
        file.truncate(size - len(tail) + whole_end)
        file.seek(0, os.SEEK_END)
        self._file, self._seq, self._head = file, last, head
        self._count = _records_in(self.path)
        return last

    def _new_file(self) -> None:
        self._file = self.path.open("wb")
        self._file.write(header_line([self._partition]))
        self._head, self._count = None, 0

    def _rotate(self) -> None:
        """Close the current file with its footer and shift it to `.1`."""
        if self._file is not None:
            heads = [] if self._head is None else [self._head]
            self._file.write(footer_line(heads, self._count))
            self._file.close()
            self._file = None
        if self._backups == 0:
            self.path.unlink(missing_ok=True)
            return
        for n in range(self._backups - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            if older.exists():
                older.replace(self.path.with_name(f"{self.path.name}.{n + 1}"))
        self.path.replace(self.path.with_name(f"{self.path.name}.1"))


def _seq_and_hash(line: bytes) -> tuple[int, bytes]:
    """The seq and hash of a record line."""
    envelope = json.loads(line)
    return int(envelope["seq"]), bytes.fromhex(envelope["hash"])


def _records_in(path: Path) -> int:
    count = 0
    with path.open("rb") as lines:
        for line in lines:
            count += line.startswith(b'{"partition":')
    return count


def audit_path(configured: Path, partition: int) -> Path:
    """Partition 0 writes `configured`; another partition `<stem>.pNN<suffix>` beside it."""
    if partition == 0:
        return configured
    return configured.with_name(f"{configured.stem}.p{partition:02d}{configured.suffix}")
