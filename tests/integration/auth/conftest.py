"""Fixtures of the API key tests: an isolated environment and the tiny test market."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.integration.api.support import write_market


@pytest.fixture(autouse=True)
def _isolated(isolated_environment: Path) -> None:
    """Every test here runs without the developer's configuration (tests/conftest.py)."""


@pytest.fixture
def market(tmp_path: Path) -> Path:
    directory = tmp_path / "market"
    directory.mkdir()
    return write_market(directory)
