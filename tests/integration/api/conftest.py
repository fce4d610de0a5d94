"""Fixtures of the REST API tests: an isolated environment, a tiny market, a running app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.integration.api.support import Api, make_settings, running, write_market


@pytest.fixture(autouse=True)
def _isolated(isolated_environment: Path) -> None:
    """Every test here runs without the developer's configuration (tests/conftest.py)."""


@pytest.fixture
def market(tmp_path: Path) -> Path:
    """The market TOML of `support` (EURUSD and BTCUSDT with known closes)."""
    directory = tmp_path / "market"
    directory.mkdir()
    return write_market(directory)


@pytest.fixture
async def api(market: Path) -> AsyncIterator[Api]:
    """A running app: in-memory journal, still market, accounts `default` and `alt`."""
    async with running(make_settings(market)) as client:
        yield client
