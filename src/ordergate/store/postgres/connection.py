"""Connections to PostgreSQL: the session settings that bound a dead peer, and the driver's
errors, which this package translates into `JournalError` and lets no further.

The settings were measured for leases and fencing (notes/scale-out.md §1): with the server's
defaults, a writer whose link drops keeps its backend, its locks and any open transaction
for up to two hours. Keepalives and `tcp_user_timeout` end a backend whose client is gone
(also when the server has unacknowledged data to send); `idle_session_timeout` ends one whose
client is frozen (SIGSTOP: the kernel still answers keepalives); and
`idle_in_transaction_session_timeout` ends a transaction left open.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Final

import asyncpg
from asyncpg import Connection, Pool

# Everything the driver raises for a failed query or connection: server errors
# (asyncpg.PostgresError), client-side ones (a closed connection, a protocol error), socket
# errors and timeouts.
DRIVER_ERRORS: Final = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
    asyncio.TimeoutError,
)


@dataclass(frozen=True, slots=True)
class SessionSettings:
    """Server-side session settings of the writer connection (seconds and milliseconds as
    PostgreSQL names them). The defaults are notes/scale-out.md §5's: the server frees a
    dead writer's backend, and with it the partition, within about 6-7 s."""

    keepalives_idle_s: int = 3
    keepalives_interval_s: int = 1
    keepalives_count: int = 3
    tcp_user_timeout_ms: int = 6000
    idle_session_timeout_ms: int = 6000
    idle_in_transaction_session_timeout_ms: int = 6000

    def server_settings(self, application_name: str, *, ends_when_idle: bool) -> dict[str, str]:
        """As asyncpg's `server_settings`. Only a session whose life is a lease (a partition
        lock, a node's presence) ends when idle, which is how a frozen node's lock is freed;
        it heartbeats to stay alive. A journal writer holds no lock (the epoch fence guards
        it), and ending it while idle would only race its next append; the pool's readers
        hold nothing others wait for and are closed by the pool."""
        settings = {
            "application_name": application_name[:63],  # PostgreSQL's NAMEDATALEN - 1
            "tcp_keepalives_idle": str(self.keepalives_idle_s),
            "tcp_keepalives_interval": str(self.keepalives_interval_s),
            "tcp_keepalives_count": str(self.keepalives_count),
            "tcp_user_timeout": str(self.tcp_user_timeout_ms),
            "idle_in_transaction_session_timeout": str(self.idle_in_transaction_session_timeout_ms),
        }
        if ends_when_idle:
            settings["idle_session_timeout"] = str(self.idle_session_timeout_ms)
        return settings


async def connect_writer(
    dsn: str,
    settings: SessionSettings,
    application_name: str,
    timeout: float,
    *,
    ends_when_idle: bool = False,
) -> Connection[Any]:
    """Open a direct connection for appends, or (`ends_when_idle`) for a lease. It must not
    go through a transaction-pooling proxy (pgbouncer in transaction mode): a session-level
    lock lives and dies with its backend."""
    return await asyncpg.connect(
        dsn,
        timeout=timeout,
        server_settings=settings.server_settings(application_name, ends_when_idle=ends_when_idle),
    )


async def create_read_pool(
    dsn: str, settings: SessionSettings, application_name: str, max_size: int, timeout: float
) -> Pool[Any]:
    """Open the small pool that answers queries and pages through the journal."""
    return await asyncpg.create_pool(
        dsn,
        min_size=1,
        max_size=max_size,
        timeout=timeout,
        server_settings=settings.server_settings(application_name, ends_when_idle=False),
    )
