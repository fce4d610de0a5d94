"""Journal store tests against real files and a real server.

PostgreSQL: each test gets a schema of its own (`pg_dsn`), and the stores it opens closed
(`open_store`).

The in-memory and SQLite journals behind one fixture (test_stores.py runs every test against
each): `store` and `session` are loaded once per module and per store kind, for the tests
that only read; a test that appends asks for `empty_store`, its own fresh store.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.integration.store.pg_rigs import OpenStore
from tests.pg_support import isolated_schema
from tests.unit.store.scenario import Session, load

from ordergate.store.memory import MemoryStore
from ordergate.store.postgres import PostgresStore
from ordergate.store.sqlite import SqliteStore

STORE_KINDS = ["memory", "sqlite"]


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


def open_journal(kind: str, directory: Path) -> MemoryStore | SqliteStore:
    return MemoryStore() if kind == "memory" else SqliteStore(directory / "j.db")


@pytest.fixture(scope="module", params=STORE_KINDS)
def loaded_session(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[MemoryStore | SqliteStore, Session]]:
    store = open_journal(request.param, tmp_path_factory.mktemp(request.param))
    session = asyncio.run(load(store))
    yield store, session
    asyncio.run(store.close())


@pytest.fixture
def store(loaded_session: tuple[MemoryStore | SqliteStore, Session]) -> MemoryStore | SqliteStore:
    return loaded_session[0]


@pytest.fixture
def session(loaded_session: tuple[MemoryStore | SqliteStore, Session]) -> Session:
    return loaded_session[1]


@pytest.fixture(params=STORE_KINDS)
async def empty_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[MemoryStore | SqliteStore]:
    store = open_journal(request.param, tmp_path)
    yield store
    await store.close()
