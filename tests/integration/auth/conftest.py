"""Fixtures of the API key tests: an isolated environment and the tiny test market."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.integration.api.support import write_market


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ORDERGATE_* / OMS_* variable and no `.env` file of the developer leaks in."""
    for name in list(os.environ):
        if name.upper().startswith(("ORDERGATE_", "OMS_")):
            monkeypatch.delenv(name)
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)


@pytest.fixture
def market(tmp_path: Path) -> Path:
    directory = tmp_path / "market"
    directory.mkdir()
    return write_market(directory)
