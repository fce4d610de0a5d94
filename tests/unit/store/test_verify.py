"""replay_records: fold while checking links, stop at the first bad record."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

import msgspec

from ordergate.domain.events import OrderDenied, OrderFilled
from ordergate.engine.chain import GENESIS, seal
from ordergate.engine.digest import state_digest
from ordergate.engine.records import JournalRecord
from ordergate.engine.replay import replay_records
from ordergate.engine.state import OmsState

from .scenario import fill_for, order_init, session_batches


async def stream(records: Iterable[JournalRecord]) -> AsyncIterator[JournalRecord]:
    for record in records:
        yield record


EVENTS = [e for batch in session_batches() for e in batch]


async def test_replay_records_folds_all_and_reports_head():
    records = seal(EVENTS, 0, 0, GENESIS)
    ticks: list[int] = []

    state, report = await replay_records(stream(records), 0, ticks.append)

    assert report.ok
    assert report.events == len(EVENTS)
    assert report.head_seq == len(EVENTS)
    assert report.head_hash == records[-1].hash.hex()
    assert sum(ticks) == len(EVENTS)
    assert report.digest == state_digest(OmsState.replay(EVENTS))
    assert state_digest(state) == report.digest


async def test_replay_records_event_refused_by_domain_reported_as_replay_failure():
    denied = order_init(5)
    assert any(isinstance(e, OrderDenied) and e.order_id == "0-5" for e in EVENTS)
    late = fill_for(denied, 1, denied.qty, 5_000)  # the table has no fill row for DENIED
    records = seal([*EVENTS, late], 0, 0, GENESIS)

    _, report = await replay_records(stream(records), 0)

    assert not report.ok
    assert report.problems[0].startswith(f"seq {len(EVENTS) + 1}: replay failed")
    assert report.events == len(EVENTS)


async def test_replay_records_stops_at_first_broken_link():
    records = seal(EVENTS, 0, 0, GENESIS)
    records[4] = msgspec.structs.replace(records[4], ts=records[4].ts + 1)

    state, report = await replay_records(stream(records), 0)

    assert report.problems == ["seq 5: hash does not match its content"]
    assert report.events == 4
    assert state.event_count == 4


async def test_replay_records_partition_mismatch_not_checked_by_seq_alone():
    # Records sealed for partition 1 still chain; the partition is inside each hash.
    records = seal(EVENTS, 1, 0, GENESIS)
    forged = [msgspec.structs.replace(r, partition=0) for r in records]

    _, report = await replay_records(stream(forged), 0)

    assert report.problems == ["seq 1: hash does not match its content"]


async def test_replay_records_fill_events_counted_once():
    fills = [e for e in EVENTS if isinstance(e, OrderFilled)]
    state, _ = await replay_records(stream(seal(EVENTS, 0, 0, GENESIS)), 0, keep_changes=True)

    assert len(state.take_changes().fills) == len(fills)
