"""Both journal stores behind one fixture: every store test runs against each.

`store` and `session` are loaded once per module and per store kind: the tests that use
them only read. A test that appends asks for `empty_store`, its own fresh store.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ordergate.store.memory import MemoryStore
from ordergate.store.sqlite import SqliteStore

from .scenario import Session, load

STORE_KINDS = ["memory", "sqlite"]


def open_store(kind: str, directory: Path) -> MemoryStore | SqliteStore:
    return MemoryStore() if kind == "memory" else SqliteStore(directory / "j.db")


@pytest.fixture(scope="module", params=STORE_KINDS)
def loaded_session(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[MemoryStore | SqliteStore, Session]]:
    store = open_store(request.param, tmp_path_factory.mktemp(request.param))
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
    store = open_store(request.param, tmp_path)
    yield store
    await store.close()
