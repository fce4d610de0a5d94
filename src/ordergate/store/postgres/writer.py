"""The writer connection of a partition: opening it, taking the partition over with it, and
ending its backend from another session when an append on it is in doubt."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from asyncpg import Connection, Record
from asyncpg.connection import LoggedQuery

from ordergate.domain.errors import JournalCorrupted, JournalError
from ordergate.engine.chain import GENESIS
from ordergate.store.postgres.connection import SessionSettings, connect_writer

QueryLogger = Callable[[LoggedQuery], None]

_TAKE_OVER: Final = """
    INSERT INTO partition_head AS h (partition_id, epoch, owner, head_seq, head_hash, updated_at)
    VALUES ($1, 1, $2, 0, $3, now())
    ON CONFLICT (partition_id) DO UPDATE
        SET epoch = h.epoch + 1, owner = excluded.owner, updated_at = excluded.updated_at
    RETURNING epoch, head_seq, head_hash
"""
_JOURNAL_TIP: Final = (
    "SELECT seq, hash FROM journal WHERE partition_id = $1 ORDER BY seq DESC LIMIT 1"
)
_BACKEND_START: Final = "SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()"
# pg_terminate_backend(pid, timeout) waits until the backend has exited; matching the start
# time as well never ends an unrelated session that was given a recycled pid.
END_BACKEND: Final = (
    "SELECT pg_terminate_backend(pid, $3) FROM pg_stat_activity "
    "WHERE pid = $1 AND backend_start = $2"
)


def default_owner() -> str:
    """Name this process as a partition owner: host and pid, as operators look for it."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class Writer:
    """The writer connection and how to find its backend later, from another session."""

    conn: Connection[Record]
    pid: int
    backend_start: datetime


async def open_writer(
    dsn: str,
    settings: SessionSettings,
    owner: str,
    partition: int,
    timeout: float,
    query_logger: QueryLogger | None,
) -> Writer:
    """Open the partition's writer connection and note what identifies its backend, which
    `END_BACKEND` needs should an append on it be left in doubt."""
    conn = await connect_writer(dsn, settings, f"ordergate {owner} p{partition} writer", timeout)
    try:
        backend_start = await conn.fetchval(_BACKEND_START, timeout=timeout)
    except BaseException:
        conn.terminate()
        raise
    if query_logger is not None:
        conn.add_query_logger(query_logger)
    return Writer(conn, conn.get_server_pid(), backend_start)


async def take_partition_over(
    conn: Connection[Any], partition: int, owner: str
) -> tuple[int, int, bytes]:
    """Raise the partition's epoch (creating its head at genesis if it has none) and check
    that the head is the journal's last record."""
    row = await conn.fetchrow(_TAKE_OVER, partition, owner, GENESIS)
    if row is None:  # INSERT ... ON CONFLICT DO UPDATE ... RETURNING always returns the row
        raise JournalError(f"taking partition {partition} over returned nothing")
    epoch, head_seq, head_hash = int(row["epoch"]), int(row["head_seq"]), bytes(row["head_hash"])
    tip = await conn.fetchrow(_JOURNAL_TIP, partition)
    tip_seq, tip_hash = (0, GENESIS) if tip is None else (int(tip["seq"]), bytes(tip["hash"]))
    if (tip_seq, tip_hash) != (head_seq, head_hash):
        raise JournalCorrupted(
            f"partition {partition}: the head says seq {head_seq}, the journal ends at {tip_seq}"
            + ("" if tip_seq != head_seq else " with another hash")
        )
    return epoch, head_seq, head_hash
