"""replay_records on checked pages: the same state, head, digest and problems as record by
record, wherever in a page a record fails."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from decimal import Decimal

import msgspec
import pytest

from ordergate.domain.errors import JournalCorrupted
from ordergate.domain.events import BalanceAdjusted, OrderDenied
from ordergate.engine.chain import GENESIS, PagedRecords, check_rows, link, seal
from ordergate.engine.digest import state_digest
from ordergate.engine.records import JournalRecord
from ordergate.engine.replay import PROGRESS_EVERY, JournalFold, VerificationReport, replay_records
from ordergate.engine.state import OmsState

from .scenario import fill_for, order_init, session_batches
from .test_chain_pages import pages_of, rows

EVENTS = [e for batch in session_batches() for e in batch]


async def one_by_one(records: Sequence[JournalRecord]) -> AsyncIterator[JournalRecord]:
    for record in records:
        yield record


async def both_ways(
    records: Sequence[JournalRecord], page_size: int = 4
) -> tuple[tuple[OmsState, VerificationReport], tuple[OmsState, VerificationReport]]:
    """(record by record, checked pages) replays of the same records."""
    plain = await replay_records(one_by_one(records), 0, keep_changes=True)
    paged = await replay_records(PagedRecords(pages_of(records, page_size)), 0, keep_changes=True)
    return plain, paged


def resealed(records: list[JournalRecord], index: int, payload: bytes) -> list[JournalRecord]:
    """`records` with the payload at `index` replaced and the chain sealed again over it
    (a journal whose links hold, with a payload the domain will not take)."""
    out = records[:index]
    prev = out[-1].hash if out else GENESIS
    for record in records[index:]:
        body = payload if len(out) == index else record.payload
        digest = link(
            prev,
            record.partition,
            record.seq,
            record.ts,
            record.stream,
            record.type,
            record.version,
            body,
        )
        out.append(msgspec.structs.replace(record, payload=body, prev_hash=prev, hash=digest))
        prev = digest
    return out


async def test_replay_pages_same_state_head_and_digest_as_record_by_record():
    records = seal(EVENTS, 0, 0, GENESIS)

    (plain_state, plain), (paged_state, paged) = await both_ways(records)

    assert paged.ok
    assert paged == plain
    assert paged.events == len(EVENTS)
    assert paged.head_hash == records[-1].hash.hex()
    assert state_digest(paged_state) == state_digest(plain_state) == paged.digest
    assert paged_state.take_changes() == plain_state.take_changes()


@pytest.mark.parametrize("index", [0, 3, 4, 9, len(EVENTS) - 1])
async def test_replay_pages_broken_link_stops_before_it_as_record_by_record(index):
    records = seal(EVENTS, 0, 0, GENESIS)
    records[index] = msgspec.structs.replace(records[index], ts=records[index].ts + 1)

    (plain_state, plain), (paged_state, paged) = await both_ways(records)

    assert paged.problems == [f"seq {index + 1}: hash does not match its content"]
    assert paged == plain
    assert paged.events == index
    assert paged_state.event_count == plain_state.event_count == index


async def test_replay_pages_event_refused_mid_page_reported_as_record_by_record():
    denied = order_init(5)
    assert any(isinstance(e, OrderDenied) and e.order_id == "0-5" for e in EVENTS)
    late = fill_for(denied, 1, denied.qty, 5_000)  # the table has no fill row for DENIED
    records = seal([*EVENTS, late, *EVENTS[-3:]], 0, 0, GENESIS)

    (_, plain), (_, paged) = await both_ways(records, page_size=len(EVENTS) - 2)

    assert paged.problems[0].startswith(f"seq {len(EVENTS) + 1}: replay failed")
    assert paged == plain
    assert paged.head_hash == records[len(EVENTS) - 1].hash.hex()


async def test_replay_pages_payload_that_does_not_decode_named_by_its_seq():
    records = resealed(seal(EVENTS, 0, 0, GENESIS), 6, b'{"not": "the event"}')

    (_, plain), (_, paged) = await both_ways(records)

    assert len(paged.problems) == 1
    assert "payload does not decode" in paged.problems[0]
    assert paged == plain
    assert paged.events == 6


async def test_replay_pages_progress_counts_every_record_every_few_thousand():
    deposits = [
        BalanceAdjusted(account="a1", currency="USDT", amount=Decimal(1), reason="t", ts=ts)
        for ts in range(1, 5001)
    ]
    ticks: list[int] = []

    _, report = await replay_records(
        PagedRecords(pages_of(seal(deposits, 0, 0, GENESIS), 512)), 0, ticks.append
    )

    assert report.ok
    assert ticks == [PROGRESS_EVERY, len(deposits) - PROGRESS_EVERY]


def test_journal_fold_page_out_of_order_refused_without_change():
    records = seal(EVENTS, 0, 0, GENESIS)
    page, _ = check_rows(rows(records[3:]), 3, records[2].hash)
    fold = JournalFold(0)

    with pytest.raises(JournalCorrupted, match=r"^seq 4 where 1 was expected"):
        fold.apply_page(page)

    assert (fold.seq, fold.head_hash, fold.state.event_count) == (0, GENESIS, 0)


def test_journal_fold_pages_then_records_continue_one_chain():
    records = seal(EVENTS, 0, 0, GENESIS)
    page, _ = check_rows(rows(records[:10]), 0, GENESIS)
    fold = JournalFold(0)

    fold.apply_page(page)
    for record in records[10:]:
        fold.apply(record)

    assert fold.seq == len(records)
    assert fold.head_hash == records[-1].hash
