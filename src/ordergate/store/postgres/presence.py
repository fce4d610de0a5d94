"""Which nodes are alive: each node keeps one PostgreSQL session named for it.

A node's presence is a session whose `application_name` is `ordergate-node:<cluster>:<node>`,
kept busy by a heartbeat. The server ends it when the node dies (kill -9: at once), when
its link drops (keepalives, `tcp_user_timeout`) or when it freezes (`idle_session_timeout`:
a stopped process sends no heartbeat), so `pg_stat_activity` lists exactly the nodes that
can still act, within the same 6-7 s that frees their partition locks.

A presence whose session failed (the server ended it after a cut link, say, or no heartbeat
was answered for as long as a lease lasts) connects again on its next heartbeat: a node
that was cut off rejoins once the link is back, instead of running no partition for good.
Meanwhile `live_nodes` raises, so the node does not rebalance on a view it cannot have.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

import structlog
from asyncpg import Connection

from ordergate.domain.errors import InvalidRequest, JournalError
from ordergate.store.postgres.connection import DRIVER_ERRORS, SessionSettings, connect_writer
from ordergate.store.postgres.lease import LeaseTiming

log = structlog.get_logger("ordergate.cluster")

_PREFIX: Final = "ordergate-node:"
_MAX_NAME: Final = 63  # PostgreSQL truncates application_name beyond this


def presence_name(cluster: str, node_id: str) -> str:
    name = f"{_PREFIX}{cluster}:{node_id}"
    if len(name) > _MAX_NAME or ":" in node_id or not node_id.isprintable():
        raise InvalidRequest(
            f"cluster {cluster!r} and node id {node_id!r} must fit {_MAX_NAME} characters "
            "as 'ordergate-node:<cluster>:<node>', the node id without ':'"
        )
    return name


class Presence:
    """This node's presence, and the list of nodes present."""

    def __init__(
        self,
        connection: Connection[Any],
        cluster: str,
        timing: LeaseTiming,
        reconnect: Callable[[], Awaitable[Connection[Any]]],
    ) -> None:
        self._connection = connection
        self._cluster = cluster
        self._timing = timing
        self._reconnect = reconnect
        self._lock = asyncio.Lock()  # one query at a time on the connection
        self._heartbeat = asyncio.create_task(self._beat(), name="presence")

    @classmethod
    async def join(
        cls,
        dsn: str,
        cluster: str,
        node_id: str,
        *,
        timing: LeaseTiming | None = None,
        settings: SessionSettings | None = None,
    ) -> Presence:
        timing = timing or LeaseTiming()
        name = presence_name(cluster, node_id)
        session = settings or SessionSettings()

        async def connect() -> Connection[Any]:
            return await connect_writer(
                dsn, session, name, timing.connect_timeout, ends_when_idle=True
            )

        try:
            connection = await connect()
        except DRIVER_ERRORS as exc:
            raise JournalError(f"cannot join the cluster: {exc}") from exc
        return cls(connection, cluster, timing, connect)

    async def live_nodes(self) -> list[str]:
        """The ids of the nodes present now (this one included), sorted."""
        prefix = f"{_PREFIX}{self._cluster}:"
        try:
            async with self._lock:
                if self._connection.is_closed():
                    raise JournalError("this node's presence session is gone; rejoining")
                rows = await self._connection.fetch(
                    "SELECT DISTINCT substr(application_name, $2) AS node "
                    "FROM pg_stat_activity WHERE starts_with(application_name, $1)",
                    prefix,
                    len(prefix) + 1,
                    timeout=self._timing.heartbeat_timeout * 2,
                )
        except DRIVER_ERRORS as exc:
            raise JournalError(f"cannot list the cluster's nodes: {exc}") from exc
        return sorted(str(row["node"]) for row in rows)

    async def leave(self) -> None:
        self._heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._heartbeat
        with contextlib.suppress(*DRIVER_ERRORS):
            await asyncio.wait_for(self._connection.close(), 2.0)
        if not self._connection.is_closed():
            self._connection.terminate()

    async def _beat(self) -> None:
        answered = time.monotonic()
        while True:
            await asyncio.sleep(self._timing.heartbeat_interval)
            async with self._lock:
                try:
                    if self._connection.is_closed():
                        self._connection = await self._reconnect()
                        log.info("presence restored: rejoined the cluster")
                    await self._connection.execute(
                        "SELECT 1", timeout=self._timing.heartbeat_timeout
                    )
                    answered = time.monotonic()
                except DRIVER_ERRORS as exc:
                    log.warning("presence heartbeat failed", error=repr(exc))
                    # One slow answer is not a lost link: dropping the session would make
                    # the others see this node leave, and move partitions for nothing.
                    # Once none has been answered for as long as a lease lasts, the link is
                    # given up on (a query may hang on it for good): the next beat starts
                    # afresh.
                    if time.monotonic() - answered > self._timing.fence_after:
                        self._connection.terminate()
