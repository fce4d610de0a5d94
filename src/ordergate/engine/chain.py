"""The hash chain that makes the journal tamper-evident.

Each record's hash covers the previous record's hash, its own envelope (partition, seq,
ts, stream, type, version) and its payload bytes. Changing, removing or reordering any
stored record breaks every hash after it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Final

from ordergate.domain.errors import JournalCorrupted
from ordergate.domain.events import Event, stream_of
from ordergate.engine.codec import encode
from ordergate.engine.records import JournalRecord

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
        raise JournalCorrupted(f"seq {record.seq} where {expected_seq} was expected")
    if record.prev_hash != prev_hash:
        raise JournalCorrupted(f"seq {record.seq}: prev_hash does not match the record before")
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
        raise JournalCorrupted(f"seq {record.seq}: hash does not match its content")
    return digest
