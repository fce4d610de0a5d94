"""PostgreSQL store tests: each test gets a schema of its own, and its stores closed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from tests.integration.store.pg_rigs import OpenStore
from tests.pg_support import isolated_schema

from ordergate.store.postgres import PostgresStore


@pytest.fixture
async def pg_dsn() -> AsyncIterator[str]:
    async with isolated_schema() as dsn:
        yield dsn


@pytest.fixture
async def open_store(pg_dsn: str) -> AsyncIterator[OpenStore]:
    """Open `PostgresStore`s on the test's schema (`dsn=` to go another way, say through a
    proxy); every one is closed after the test."""
    stores: list[PostgresStore] = []

    async def open_(**options: Any) -> PostgresStore:
        dsn = options.pop("dsn", pg_dsn)
        store = await PostgresStore.open(dsn, **options)
        stores.append(store)
        return store

    yield open_
    for store in stores:
        await store.close()
