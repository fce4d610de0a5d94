"""One stored journal event: the envelope every journal store writes and reads."""

from __future__ import annotations

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
