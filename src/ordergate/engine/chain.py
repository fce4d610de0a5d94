"""The hash chain that makes the journal tamper-evident.

Each record's hash covers the previous record's hash, its own envelope (partition, seq,
ts, stream, type, version) and its payload bytes. Changing, removing or reordering any
stored record breaks every hash after it.

A record is checked on its own (`check_link`, for whoever follows the journal record by
record) or with a page of its neighbours (`check_rows`, for replay, which reads them all):
the same three checks, the same hash (`link`), the same messages, naming the seq. A store
that reads its records a page of rows at a time hands them over as `PagedRecords`: one
`JournalRecord` at a time to a follower, checked pages to replay.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Iterator, Sequence
from typing import Final

from ordergate.domain.errors import JournalCorrupted
from ordergate.domain.events import Event, stream_of
from ordergate.engine.codec import encode
from ordergate.engine.records import CheckedPage, JournalRecord, RecordRow

GENESIS: Final = bytes(32)


def link(
    prev_hash: bytes,
    partition: int,
    seq: int,
    ts: int,
    stream: str,
    type_name: str,
    version: int,
    payload: bytes,
) -> bytes:
    digest = hashlib.sha256(prev_hash)
    digest.update(f"{partition}|{seq}|{ts}|{stream}|{type_name}|{version}|".encode())
    digest.update(payload)
    return digest.digest()


def seal(
    events: Sequence[Event], partition: int, head_seq: int, head_hash: bytes
) -> list[JournalRecord]:
    """Encode and chain events after the head (head_seq, head_hash)."""
    records: list[JournalRecord] = []
    prev = head_hash
    seq = head_seq
    for event in events:
        seq += 1
        type_name, version, payload = encode(event)
        stream = stream_of(event)
        digest = link(prev, partition, seq, event.ts, stream, type_name, version, payload)
        records.append(
            JournalRecord(
                partition, seq, event.ts, stream, type_name, version, payload, prev, digest
            )
        )
        prev = digest
    return records


def check_link(record: JournalRecord, prev_hash: bytes, expected_seq: int) -> bytes:
    """Check one record against the record before it; return its hash or raise."""
    if record.seq != expected_seq:
        raise _out_of_order(record.seq, expected_seq)
    if record.prev_hash != prev_hash:
        raise _off_the_chain(record.seq)
    digest = link(
        prev_hash,
        record.partition,
        record.seq,
        record.ts,
        record.stream,
        record.type,
        record.version,
        record.payload,
    )
    if digest != record.hash:
        raise _not_its_hash(record.seq)
    return digest


def check_rows(
    rows: Iterable[RecordRow], seq: int, head_hash: bytes
) -> tuple[CheckedPage, JournalCorrupted | None]:
    """Check rows that should follow the record (`seq`, `head_hash`), as `check_link` checks
    each; return the page of those that link, up to the first that does not, and the
    problem with that one (None: every row links).

    The problem is returned, not raised, so that the caller can fold the records before it
    first, exactly as if they had come one by one.
    """
    page = CheckedPage(seq + 1, [], [], [], [])
    types, versions, payloads, hashes = page.types, page.versions, page.payloads, page.hashes
    expected = seq + 1
    prev = head_hash
    for partition, row_seq, ts, stream, type_name, version, payload, prev_hash, digest in rows:
        if row_seq != expected:
            return page, _out_of_order(row_seq, expected)
        if prev_hash != prev:
            return page, _off_the_chain(row_seq)
        prev = link(prev, partition, row_seq, ts, stream, type_name, version, payload)
        if prev != digest:
            return page, _not_its_hash(row_seq)
        expected += 1
        types.append(type_name)
        versions.append(version)
        payloads.append(payload)
        hashes.append(digest)
    return page, None


async def check_pages(
    pages: AsyncIterator[Iterable[RecordRow]], seq: int, head_hash: bytes
) -> AsyncGenerator[CheckedPage, None]:
    """`check_rows` over pages of rows: the `checked_pages` of a store whose records are
    checked in this process (see `records.CheckedRecords`)."""
    async for rows in pages:
        page, problem = check_rows(rows, seq, head_hash)
        if page.types:
            yield page
            seq += len(page)
            head_hash = page.hashes[-1]
        if problem is not None:
            raise problem


class PagedRecords:
    """A store's records read a page of rows at a time (`pages`, each row in
    `JournalRecord`'s field order): one `JournalRecord` at a time to whoever iterates them
    (`RecordSource.records_after`), or checked pages to replay (`CheckedRecords`), which
    then builds no object per record beyond what it keeps. Read once, as any iterator."""

    __slots__ = ("_pages", "_rows")

    def __init__(self, pages: AsyncGenerator[Sequence[RecordRow], None]) -> None:
        self._pages = pages
        self._rows: Iterator[RecordRow] = iter(())

    def __aiter__(self) -> PagedRecords:
        return self

    async def __anext__(self) -> JournalRecord:
        row = next(self._rows, None)
        while row is None:
            self._rows = iter(await anext(self._pages))  # StopAsyncIteration: the end
            row = next(self._rows, None)
        return JournalRecord(*row)

    def checked_pages(self, seq: int, head_hash: bytes) -> AsyncGenerator[CheckedPage, None]:
        return check_pages(self._pages, seq, head_hash)

    async def aclose(self) -> None:
        await self._pages.aclose()


def _out_of_order(seq: int, expected_seq: int) -> JournalCorrupted:
    return JournalCorrupted(f"seq {seq} where {expected_seq} was expected")


def _off_the_chain(seq: int) -> JournalCorrupted:
    return JournalCorrupted(f"seq {seq}: prev_hash does not match the record before")


def _not_its_hash(seq: int) -> JournalCorrupted:
    return JournalCorrupted(f"seq {seq}: hash does not match its content")
