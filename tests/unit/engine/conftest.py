"""The engine suite's run-wide teardown: drop the PostgreSQL schemas its journals used."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from tests.unit.engine.schema_stock import schema_stock


@pytest.fixture(scope="session", autouse=True)
def drop_journal_schemas() -> Iterator[None]:
    """Once every test has run, drop the schemas the run's journals used (kept, emptied,
    for the next journal until then)."""
    yield
    stock = schema_stock()
    if stock.made:
        asyncio.run(stock.drop_all())
