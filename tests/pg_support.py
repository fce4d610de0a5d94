"""Helpers for tests against a real PostgreSQL: where it is, whether it is up, and a schema
of a test's own.

Several test runs share one database at once, so every test works in a fresh schema with a
random name (`isolated_schema`), reached through a DSN whose connections search only that
schema, and dropped afterwards. Without PostgreSQL a test is skipped, with the reason; with
CI=true it fails instead, so a CI run cannot pass by skipping.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import pytest

from tests.waiting import eventually

PG_DSN: Final = os.environ.get("ORDERGATE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")

_reachability: dict[str, str | None] = {}  # DSN -> None when reachable, else why not


async def postgres_unreachable(dsn: str = PG_DSN) -> str | None:
    """Why PostgreSQL at `dsn` cannot be used, or None when it can (asked once per run)."""
    if dsn not in _reachability:
        try:
            conn = await asyncpg.connect(dsn, timeout=3)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
            _reachability[dsn] = f"PostgreSQL is not reachable at {dsn}: {exc!r}"
        else:
            await conn.close()
            _reachability[dsn] = None
    return _reachability[dsn]


def skip_or_fail(reason: str) -> None:
    """Skip the test, or fail it when CI=true: in CI a missing service is an error."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: PostgreSQL is required)")
    pytest.skip(reason)


async def require_postgres(dsn: str = PG_DSN) -> None:
    """Skip (or, in CI, fail) the calling test when PostgreSQL is not reachable."""
    reason = await postgres_unreachable(dsn)
    if reason is not None:
        skip_or_fail(reason)


def dsn_with_search_path(dsn: str, schema: str) -> str:
    """`dsn` whose connections use `schema` alone: PostgreSQL's `options` startup parameter
    (`-c search_path=...`), kept by asyncpg and by libpq alike."""
    parts = urlsplit(dsn)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-csearch_path={schema}"))
    return urlunsplit(parts._replace(query=urlencode(query)))


@asynccontextmanager
async def isolated_schema(dsn: str = PG_DSN, prefix: str = "og_test") -> AsyncIterator[str]:
    """Create a uniquely named schema, yield a DSN that works in it, then drop the schema
    with everything in it. Skips (or fails under CI) when PostgreSQL is not reachable."""
    await require_postgres(dsn)
    schema = f"{prefix}_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(dsn, timeout=10)
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield dsn_with_search_path(dsn, schema)
        finally:
            # A session the test left in a transaction would hold the drop up: fail instead.
            await admin.execute("SET lock_timeout = '10s'")
            await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        await admin.close()


async def wait_until_blocked(dsn: str, application_name: str) -> None:
    """Return once the session named `application_name` waits for a lock."""
    admin = await asyncpg.connect(dsn)
    try:

        async def blocked() -> bool:
            waiting = await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE application_name = $1 AND wait_event_type = 'Lock'",
                application_name,
            )
            return bool(waiting)

        await eventually(blocked, message=f"{application_name!r} to wait for a lock")
    finally:
        await admin.close()


async def terminate_sessions(dsn: str, application_name: str) -> int:
    """End the server sessions named `application_name` (from a connection of our own);
    how many there were."""
    admin = await asyncpg.connect(dsn)
    try:
        ended = await admin.fetch(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
            "WHERE application_name = $1",
            application_name,
        )
    finally:
        await admin.close()
    return len(ended)
