"""The hash chain: a sealed chain verifies, and any change to any record is found there."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import msgspec
import pytest

from ordergate.domain.errors import JournalCorrupted
from ordergate.engine.chain import GENESIS, check_link, link, seal
from ordergate.engine.codec import decode
from ordergate.engine.records import JournalRecord

from .scenario import session_batches

EVENTS = [e for batch in session_batches()[:3] for e in batch]
PARTITION = 3


def walk(records: Sequence[JournalRecord], head_seq: int = 0, head_hash: bytes = GENESIS) -> int:
    """Check every link; return the index of the first bad record, or -1."""
    prev = head_hash
    for index, record in enumerate(records):
        try:
            prev = check_link(record, prev, head_seq + index + 1)
        except JournalCorrupted:
            return index
    return -1


def flip_byte(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def test_seal_chain_verifies_from_genesis():
    records = seal(EVENTS, PARTITION, 0, GENESIS)

    assert walk(records) == -1
    assert [r.seq for r in records] == list(range(1, len(EVENTS) + 1))
    assert records[0].prev_hash == GENESIS
    assert all(r.partition == PARTITION for r in records)
    assert [decode(r.type, r.version, r.payload) for r in records] == EVENTS


def test_seal_continues_after_a_head():
    first = seal(EVENTS[:5], PARTITION, 0, GENESIS)

    rest = seal(EVENTS[5:], PARTITION, first[-1].seq, first[-1].hash)

    assert rest[0].seq == 6
    assert rest[0].prev_hash == first[-1].hash
    assert walk([*first, *rest]) == -1
    assert [r.hash for r in [*first, *rest]] == [
        r.hash for r in seal(EVENTS, PARTITION, 0, GENESIS)
    ]


def test_seal_is_deterministic():
    assert seal(EVENTS, PARTITION, 0, GENESIS) == seal(EVENTS, PARTITION, 0, GENESIS)


def test_seal_hash_depends_on_partition():
    assert seal(EVENTS, 0, 0, GENESIS)[0].hash != seal(EVENTS, 1, 0, GENESIS)[0].hash


def test_link_matches_sealed_hash():
    record = seal(EVENTS[:1], PARTITION, 0, GENESIS)[0]

    assert record.hash == link(
        GENESIS,
        record.partition,
        record.seq,
        record.ts,
        record.stream,
        record.type,
        record.version,
        record.payload,
    )
    assert len(record.hash) == 32


def tampered(record: JournalRecord, field: str) -> JournalRecord:
    value = getattr(record, field)
    if field in ("payload", "prev_hash", "hash"):
        changed: object = flip_byte(value, len(value) // 2)
    elif field in ("stream", "type"):
        changed = value + "x"
    else:
        changed = value + 1
    return msgspec.structs.replace(record, **{field: changed})


FIELDS = ["payload", "ts", "type", "stream", "seq", "prev_hash", "hash", "version", "partition"]


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("index", [0, 1, len(EVENTS) // 2, len(EVENTS) - 1])
def test_check_link_changed_field_detected_at_that_record(field, index):
    records = seal(EVENTS, PARTITION, 0, GENESIS)
    records[index] = tampered(records[index], field)

    assert walk(records) == index


@pytest.mark.parametrize("field", FIELDS)
def test_check_link_changed_field_detected_after_a_head(field):
    head = seal(EVENTS[:4], PARTITION, 0, GENESIS)
    records = seal(EVENTS[4:], PARTITION, 4, head[-1].hash)
    records[2] = tampered(records[2], field)

    assert walk(records, head_seq=4, head_hash=head[-1].hash) == 2


def test_check_link_every_field_of_every_record_detected():
    records = seal(EVENTS, PARTITION, 0, GENESIS)

    for index in range(len(records)):
        for field in FIELDS:
            copy = list(records)
            copy[index] = tampered(records[index], field)
            assert walk(copy) == index, (index, field)


def test_check_link_resealed_record_breaks_the_next_link():
    # Rewriting a record with a matching hash of its own still breaks the record after it.
    records = seal(EVENTS, PARTITION, 0, GENESIS)
    forged_event = msgspec.structs.replace(EVENTS[2], amount=Decimal("1E+9"))
    (forged,) = seal([forged_event], PARTITION, 2, records[1].hash)
    records[2] = forged

    assert walk(records) == 3


def test_check_link_reordered_records_detected():
    records = seal(EVENTS, PARTITION, 0, GENESIS)
    records[3], records[4] = records[4], records[3]

    assert walk(records) == 3


def test_check_link_dropped_record_detected():
    records = seal(EVENTS, PARTITION, 0, GENESIS)
    del records[5]

    assert walk(records) == 5


def test_check_link_messages_name_the_seq():
    records = seal(EVENTS, PARTITION, 0, GENESIS)

    with pytest.raises(JournalCorrupted, match="seq 2 where 1 was expected"):
        check_link(records[1], GENESIS, 1)
    with pytest.raises(JournalCorrupted, match="seq 2: prev_hash"):
        check_link(records[1], GENESIS, 2)
    with pytest.raises(JournalCorrupted, match="seq 2: hash does not match"):
        check_link(tampered(records[1], "payload"), records[0].hash, 2)
