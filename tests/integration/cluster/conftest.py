"""The cluster tests' shared fixture: a fresh PostgreSQL schema for their journals.

A schema isolates tables only: advisory locks and the sessions that mark nodes present are
database-wide, so each test also names its cluster uniquely.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tests.pg_support import PG_DSN, isolated_schema, require_postgres


@pytest.fixture
async def dsn() -> AsyncIterator[str]:
    await require_postgres()
    async with isolated_schema(PG_DSN) as schema_dsn:
        yield schema_dsn
