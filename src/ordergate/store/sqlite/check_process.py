"""The checker process (`checker.py`): it reads a SQLite journal's records and checks
their links while replay folds, and writes what replay still needs of them to its
standard output as frames.

A frame is a kind byte and the body's length (`HEADER`), then the body: a page of checked
records (`PAGE`, msgpack `CheckedPage`), the problem at the first record that does not
link (`BROKEN`: the journal's verdict, after the pages before it), why the child could not
read (`FAILED`), or the end (`END`).

It runs as a script (`python -P check_process.py PATH PARTITION AFTER_SEQ SEQ HEAD_HASH`),
not through its package: importing `ordergate.store.sqlite` (the store, the key store,
structlog) would triple its start, which replay waits for. So this module imports only
what the child needs, and nothing that imports it back.
"""

from __future__ import annotations

import gc
import os
import sqlite3
import struct
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, Final

import msgspec

from ordergate.engine.chain import check_rows

HEADER: Final = struct.Struct("<cI")  # kind, length of the body
PAGE, BROKEN, FAILED, END = b"P", b"B", b"F", b"E"
RECORDS_PER_PAGE: Final = 2048

_RECORDS: Final = (
    "SELECT partition, seq, ts, stream, type, version, payload, prev_hash, hash "
    "FROM journal WHERE partition = ? AND seq > ? ORDER BY seq"
)


def check_into(argv: Sequence[str], out: BinaryIO) -> None:
    """Check the records `argv` names (path, partition, after_seq, then seq and head_hash in
    hex: where the chain stands before them) and write them to `out` as frames."""
    path, partition, after_seq = Path(argv[0]), int(argv[1]), int(argv[2])
    seq, head_hash = int(argv[3]), bytes.fromhex(argv[4])
    try:
        # Read-only: the child never creates, migrates or locks the file for writing. One
        # statement, so one read transaction: the records as of one moment.
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            cursor = con.execute(_RECORDS, (partition, after_seq))
            while rows := cursor.fetchmany(RECORDS_PER_PAGE):
                page, problem = check_rows(rows, seq, head_hash)
                if page.types:
                    _write(out, PAGE, msgspec.msgpack.encode(page))
                    seq += len(page)
                    head_hash = page.hashes[-1]
                if problem is not None:
                    _write(out, BROKEN, problem.message.encode())
                    return
        finally:
            con.close()
    except sqlite3.Error as exc:
        _write(out, FAILED, repr(exc).encode())
        return
    _write(out, END, b"")


def _write(out: BinaryIO, kind: bytes, body: bytes) -> None:
    out.write(HEADER.pack(kind, len(body)))
    out.write(body)
    if kind != PAGE:
        out.flush()


def main() -> None:
    # Nothing the child keeps refers back to itself: no cycles for a collector to find.
    gc.disable()
    try:
        check_into(sys.argv[1:], sys.stdout.buffer)
    except BrokenPipeError:
        # Replay stopped reading (it found a problem of its own, or was cancelled). Point
        # standard output elsewhere, so that the flush at exit does not fail as well.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
