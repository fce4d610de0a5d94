"""Checkpoints in SQLite: written on the store's writer thread, read on its reader.

A checkpoint row takes its `head_hash` from the journal row at its seq, in the statement
that writes it, so it cannot name a hash the chain does not hold; the newest
`CHECKPOINTS_KEPT` of a partition stay, older ones are deleted in the same transaction.
"""

from __future__ import annotations

import sqlite3
from typing import Final

from ordergate.domain.errors import JournalError
from ordergate.engine.checkpoint import CHECKPOINTS_KEPT, StoredCheckpoint

_WRITE: Final = (
    "INSERT OR REPLACE INTO checkpoints (partition, seq, head_hash, ts, payload) "
    "SELECT partition, seq, hash, ?, ? FROM journal WHERE partition = ? AND seq = ?"
)
_PRUNE: Final = (
    "DELETE FROM checkpoints WHERE partition = ? AND seq NOT IN "
    "(SELECT seq FROM checkpoints WHERE partition = ? ORDER BY seq DESC LIMIT ?)"
)
SEQS: Final = "SELECT seq FROM checkpoints WHERE partition = ? ORDER BY seq DESC"
ONE: Final = "SELECT seq, head_hash, ts, payload FROM checkpoints WHERE partition = ? AND seq = ?"
RECORD_HASH: Final = "SELECT hash FROM journal WHERE partition = ? AND seq = ?"


def write_checkpoint(
    con: sqlite3.Connection, partition: int, seq: int, ts: int, payload: bytes
) -> None:
    try:
        con.execute("BEGIN IMMEDIATE")
        written = con.execute(_WRITE, (ts, payload, partition, seq)).rowcount
        if written != 1:
            raise JournalError(f"no journal record at seq {seq} to checkpoint")
        con.execute(_PRUNE, (partition, partition, CHECKPOINTS_KEPT))
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise


def stored_checkpoint(row: sqlite3.Row) -> StoredCheckpoint:
    return StoredCheckpoint(row["seq"], row["head_hash"], row["ts"], row["payload"])
