"""One stored journal event: the envelope every journal store writes and reads; and the
shapes in which a store hands over many of them at once, for replay.

Replay reads every record there is, so it takes them a page at a time rather than one
`JournalRecord` at a time: a store's rows as its query returns them (`RecordRow`), and,
once their links are checked, a `CheckedPage`. A store whose records can be checked off
the event loop's process (SQLite: in a process of its own) says so by offering
`checked_pages` (`CheckedRecords`); `engine.replay` then folds what it gives.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from typing import Any, Protocol, runtime_checkable

import msgspec


class JournalRecord(msgspec.Struct, frozen=True, gc=False):
    """One stored event: the envelope of DESIGN.md plus the payload's schema version."""

    partition: int
    seq: int
    ts: int
    stream: str
    type: str
    version: int
    payload: bytes
    prev_hash: bytes
    hash: bytes


RecordRow = Iterable[Any]
"""A journal row as a store's query returns it: partition, seq, ts, stream, type, version,
payload, prev_hash, hash, in `JournalRecord`'s field order (a tuple from SQLite, an
`asyncpg.Record` from PostgreSQL); whatever unpacks into those nine values."""


class CheckedPage(msgspec.Struct, array_like=True, gc=False):
    """Consecutive records from `first_seq` on whose links have been checked: what replay
    still needs of each (to decode its event, and the hash that is then the head).

    Columns rather than one object per record: a page is built and read in tight loops,
    and it crosses a pipe as it is (msgpack) when another process did the checking.
    """

    first_seq: int
    types: list[str]
    versions: list[int]
    payloads: list[bytes]
    hashes: list[bytes]

    def __len__(self) -> int:
        return len(self.types)


@runtime_checkable
class CheckedRecords(Protocol):
    """Records that can hand themselves over checked, a page at a time (see
    `SqliteStore.records_after`)."""

    def checked_pages(self, seq: int, head_hash: bytes) -> AsyncGenerator[CheckedPage, None]:
        """The records, each checked against the chain from (`seq`, `head_hash`) on: the
        first must be seq + 1 and link to `head_hash`. Pages come in seq order; at the first
        record that does not link, the pages of those before it have been given and
        `JournalCorrupted` (naming its seq) is raised."""
        ...
