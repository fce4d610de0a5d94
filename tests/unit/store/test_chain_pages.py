"""Checking a page of rows at a time (`check_rows`, `check_pages`, `PagedRecords`): the same
verdicts as `check_link` record by record, a problem named by its seq wherever it stands
in a page, and the records before it handed over first."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import msgspec
import pytest

from ordergate.domain.errors import JournalCorrupted
from ordergate.engine.chain import GENESIS, PagedRecords, check_link, check_pages, check_rows, seal
from ordergate.engine.records import CheckedPage, CheckedRecords, JournalRecord

from .scenario import session_batches
from .test_chain import FIELDS, tampered

EVENTS = [e for batch in session_batches() for e in batch]
PARTITION = 2


def rows(records: Sequence[JournalRecord]) -> list[tuple[Any, ...]]:
    """Records as a store's query returns them."""
    return [msgspec.structs.astuple(r) for r in records]


async def pages_of(
    records: Sequence[JournalRecord], size: int
) -> AsyncIterator[list[tuple[Any, ...]]]:
    for start in range(0, len(records), size):
        yield rows(records[start : start + size])


async def drain(pages: AsyncIterator[CheckedPage], into: list[CheckedPage]) -> None:
    """Collect `pages` into `into`, keeping those that came before a problem."""
    async for page in pages:
        into.append(page)  # noqa: PERF401 - a comprehension would lose them


def link_problem(records: Sequence[JournalRecord]) -> str | None:
    """What `check_link` says of the first record that does not link, record by record."""
    prev = GENESIS
    for index, record in enumerate(records):
        try:
            prev = check_link(record, prev, index + 1)
        except JournalCorrupted as exc:
            return exc.message
    return None


def test_check_rows_sealed_chain_gives_every_record_and_no_problem():
    records = seal(EVENTS, PARTITION, 0, GENESIS)

    page, problem = check_rows(rows(records), 0, GENESIS)

    assert problem is None
    assert page == CheckedPage(
        first_seq=1,
        types=[r.type for r in records],
        versions=[r.version for r in records],
        payloads=[r.payload for r in records],
        hashes=[r.hash for r in records],
    )
    assert len(page) == len(records)


def test_check_rows_continues_after_a_head():
    records = seal(EVENTS, PARTITION, 0, GENESIS)

    page, problem = check_rows(rows(records[5:]), 5, records[4].hash)

    assert problem is None
    assert page.first_seq == 6
    assert page.hashes == [r.hash for r in records[5:]]


def test_check_rows_no_rows_gives_an_empty_page():
    page, problem = check_rows([], 7, GENESIS)

    assert problem is None
    assert page.first_seq == 8
    assert len(page) == 0


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("index", [0, 1, len(EVENTS) // 2, len(EVENTS) - 1])
def test_check_rows_changed_field_named_by_seq_with_the_records_before(field, index):
    records = seal(EVENTS, PARTITION, 0, GENESIS)
    records[index] = tampered(records[index], field)

    page, problem = check_rows(rows(records), 0, GENESIS)

    assert problem is not None
    assert problem.message == link_problem(records)
    assert len(page) == index
    assert page.hashes == [r.hash for r in records[:index]]


def test_check_rows_messages_are_check_links():
    records = seal(EVENTS, PARTITION, 0, GENESIS)
    dropped = [*records[:3], *records[4:]]
    reordered = [*records[:3], records[4], records[3], *records[5:]]
    relinked = [*records[:3], tampered(records[3], "prev_hash"), *records[4:]]

    for broken in (dropped, reordered, relinked):
        page, problem = check_rows(rows(broken), 0, GENESIS)
        assert problem is not None
        assert problem.message == link_problem(broken)
        assert len(page) == 3


async def test_check_pages_problem_in_a_later_page_comes_after_the_pages_before_it():
    records = seal(EVENTS, PARTITION, 0, GENESIS)
    bad = 13  # in the middle of the fourth page of four
    records[bad] = tampered(records[bad], "payload")
    seen: list[CheckedPage] = []

    with pytest.raises(JournalCorrupted, match=rf"^seq {bad + 1}: hash does not match"):
        await drain(check_pages(pages_of(records, 4), 0, GENESIS), seen)

    assert [p.first_seq for p in seen] == [1, 5, 9, 13]
    assert [h for p in seen for h in p.hashes] == [r.hash for r in records[:bad]]


async def test_check_pages_problem_first_in_a_page_gives_no_empty_page():
    records = seal(EVENTS, PARTITION, 0, GENESIS)
    records[8] = tampered(records[8], "ts")
    seen: list[CheckedPage] = []

    with pytest.raises(JournalCorrupted, match=r"^seq 9: hash"):
        await drain(check_pages(pages_of(records, 4), 0, GENESIS), seen)

    assert [len(p) for p in seen] == [4, 4]


async def test_check_pages_whole_chain_across_pages():
    records = seal(EVENTS, PARTITION, 0, GENESIS)

    seen = [page async for page in check_pages(pages_of(records, 5), 0, GENESIS)]

    assert [h for p in seen for h in p.hashes] == [r.hash for r in records]
    assert [p.first_seq for p in seen] == list(range(1, len(records) + 1, 5))


async def test_paged_records_iterated_give_the_records():
    records = seal(EVENTS, PARTITION, 0, GENESIS)

    paged = PagedRecords(pages_of(records, 3))

    assert [r async for r in paged] == records
    assert isinstance(paged, CheckedRecords)


async def test_paged_records_checked_pages_check_from_the_head_given():
    records = seal(EVENTS, PARTITION, 0, GENESIS)
    paged = PagedRecords(pages_of(records[2:], 3))

    seen = [page async for page in paged.checked_pages(2, records[1].hash)]

    assert [h for p in seen for h in p.hashes] == [r.hash for r in records[2:]]


async def test_paged_records_from_the_wrong_head_named_at_the_first_record():
    records = seal(EVENTS, PARTITION, 0, GENESIS)
    paged = PagedRecords(pages_of(records[2:], 3))

    with pytest.raises(JournalCorrupted, match=r"^seq 3 where 1 was expected"):
        await drain(paged.checked_pages(0, GENESIS), [])


def test_checked_page_crosses_a_pipe_as_it_is():
    page, _ = check_rows(rows(seal(EVENTS, PARTITION, 0, GENESIS)), 0, GENESIS)

    assert msgspec.msgpack.decode(msgspec.msgpack.encode(page), type=CheckedPage) == page
