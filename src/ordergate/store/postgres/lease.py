"""A partition's lease: a PostgreSQL advisory lock held by a session of this node.

The lock says who *should* own the partition; it cannot stop a stale owner (a frozen or
cut-off node that wakes up still believing it owns it). Two things do that together
(notes/scale-out.md): the journal's epoch fence refuses a stale owner's append, and the
lease's own deadline makes a node stop trusting itself. A heartbeat runs on the lock's
connection every `heartbeat_interval`; once none has succeeded for `fence_after`
seconds, `valid` turns false (the node must send and append nothing more) and `on_lost`
is called once. `fence_after` (2 s) is well inside the time the server takes to free the
lock of a silent session (about 6-7 s with the connection settings below), so the old
owner has stopped before a new one can start.

The lock lives on a dedicated, direct connection (session-level locks do not survive a
transaction-pooling proxy), with the settings of `store.postgres.connection`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from asyncpg import Connection

from ordergate.domain.errors import JournalError
from ordergate.store.postgres.connection import DRIVER_ERRORS, SessionSettings, connect_writer

log = structlog.get_logger("ordergate.cluster")


@dataclass(frozen=True, slots=True)
class LeaseTiming:
    """How often the lease is renewed and when this node stops trusting it (seconds)."""

    heartbeat_interval: float = 0.5
    heartbeat_timeout: float = 1.0
    fence_after: float = 2.0
    connect_timeout: float = 5.0

    def __post_init__(self) -> None:
        if not 0 < self.heartbeat_interval < self.fence_after:
            raise JournalError("the heartbeat must come more often than fence_after")
        if not 0 < self.heartbeat_timeout <= self.fence_after:
            raise JournalError("a heartbeat must time out within fence_after")


def lock_namespace(cluster: str) -> int:
    """The advisory lock's first key: one per cluster, so clusters sharing a server (a
    schema each) never contend for each other's partitions."""
    digest = hashlib.blake2b(cluster.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") & 0x7FFF_FFFF


class PartitionLease:
    """This node's hold on one partition. Build it with `try_acquire`."""

    def __init__(
        self,
        connection: Connection[Any],
        namespace: int,
        partition: int,
        timing: LeaseTiming,
    ) -> None:
        self.partition = partition
        self._connection = connection
        self._namespace = namespace
        self._timing = timing
        self._renewed = time.monotonic()
        self._lost: str | None = None
        self._on_lost: list[Callable[[str], None]] = []
        self._heartbeat: asyncio.Task[None] | None = None

    @classmethod
    async def try_acquire(
        cls,
        dsn: str,
        cluster: str,
        partition: int,
        node_id: str,
        *,
        timing: LeaseTiming | None = None,
        settings: SessionSettings | None = None,
    ) -> PartitionLease | None:
        """Take the partition's lock if it is free; None if another session holds it."""
        timing = timing or LeaseTiming()
        namespace = lock_namespace(cluster)
        try:
            connection = await connect_writer(
                dsn,
                settings or SessionSettings(),
                f"ordergate-lease:{cluster}:{node_id}:p{partition}",
                timing.connect_timeout,
                ends_when_idle=True,
            )
        except DRIVER_ERRORS as exc:
            raise JournalError(f"cannot connect for the lease of p{partition}: {exc}") from exc
        try:
            taken = await connection.fetchval(
                "SELECT pg_try_advisory_lock($1, $2)",
                namespace,
                partition,
                timeout=timing.heartbeat_timeout * 4,
            )
        except DRIVER_ERRORS as exc:
            await _close(connection)
            raise JournalError(f"cannot ask for the lease of p{partition}: {exc}") from exc
        if not taken:
            await _close(connection)
            return None
        lease = cls(connection, namespace, partition, timing)
        lease._heartbeat = asyncio.create_task(lease._beat(), name=f"lease-p{partition}")
        return lease

    @property
    def valid(self) -> bool:
        """Whether this node may still act for the partition: send to the venue, append."""
        if self._lost is not None:
            return False
        if time.monotonic() - self._renewed > self._timing.fence_after:
            self._lose("no heartbeat answered within fence_after")
            return False
        return True

    @property
    def lost(self) -> str | None:
        """Why the lease was lost, or None while it holds."""
        return self._lost

    def on_lost(self, callback: Callable[[str], None]) -> None:
        """Call `callback(reason)` once when the lease is lost (at once if it already is)."""
        if self._lost is not None:
            callback(self._lost)
            return
        self._on_lost.append(callback)

    async def release(self) -> None:
        """Give the partition up: stop the heartbeat, unlock, close (best effort: closing
        the session frees the lock anyway)."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        if self._lost is None:
            with contextlib.suppress(*DRIVER_ERRORS):
                await self._connection.execute(
                    "SELECT pg_advisory_unlock($1, $2)",
                    self._namespace,
                    self.partition,
                    timeout=self._timing.heartbeat_timeout,
                )
            self._lose("released")
        await _close(self._connection)

    async def _beat(self) -> None:
        timing = self._timing
        while self._lost is None:
            await asyncio.sleep(timing.heartbeat_interval)
            try:
                # Holding the lock is what counts, not merely a live session. It held when
                # the question was asked, not when the answer is read: a process frozen in
                # between must not count the freeze as renewed time.
                asked = time.monotonic()
                held = await self._connection.fetchval(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND classid = $1 AND objid = $2 AND objsubid = 2 AND granted "
                    "AND pid = pg_backend_pid()",
                    self._namespace,
                    self.partition,
                    timeout=timing.heartbeat_timeout,
                )
            except DRIVER_ERRORS as exc:
                log.warning("lease heartbeat failed", partition=self.partition, error=repr(exc))
                if not self.valid:
                    return
                continue
            if not held:
                self._lose("the lock is no longer held by this session")
                return
            self._renewed = asked

    def _lose(self, reason: str) -> None:
        if self._lost is not None:
            return
        self._lost = reason
        if reason != "released":
            log.error("partition lease lost: fencing", partition=self.partition, reason=reason)
        callbacks, self._on_lost = self._on_lost, []
        for callback in callbacks:
            callback(reason)


async def _close(connection: Connection[Any]) -> None:
    with contextlib.suppress(*DRIVER_ERRORS):
        await asyncio.wait_for(connection.close(), 2.0)
    if not connection.is_closed():
        connection.terminate()
