"""Connections to the journal's SQLite file: WAL, the durability the caller chose, and a
busy timeout.

WAL lets the reader connection run beside the writer and see only committed transactions.
`synchronous` is how much an append waits for the disk: FULL (the default) fsyncs at every
commit, NORMAL only at checkpoints (a power cut may lose the last commits, never corrupt the
file). The connection is shared with the writer thread, so it is not tied to the thread that
opened it, and it runs in autocommit mode: every transaction is begun and ended explicitly.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Final, Literal, get_args

Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]
SYNCHRONOUS_MODES: Final[tuple[str, ...]] = get_args(Synchronous)


def connect(path: Path, synchronous: Synchronous) -> sqlite3.Connection:
    """Open `path` (creating the file) with rows that answer to their column names."""
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA journal_mode = WAL")
    con.execute(f"PRAGMA synchronous = {synchronous}")
    con.execute("PRAGMA busy_timeout = 5000")
    con.execute("PRAGMA foreign_keys = ON")
    return con
