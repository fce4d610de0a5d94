"""`ordergate config check` says what `ordergate serve` would say of the same settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ordergate.cli.main import main


@pytest.fixture(autouse=True)
def clean(isolated_environment: Path) -> Path:
    """No ORDERGATE_/ORDERMANAGER_ variable or `.env` of the caller's."""
    return isolated_environment


def test_config_check_a_usable_environment_exits_0() -> None:
    checked = CliRunner().invoke(main, ["config", "check"])

    assert checked.exit_code == 0, checked.output
    assert "the configuration is usable" in checked.output


def test_config_check_a_misspelt_variable_exits_2_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ORDERGATE_LIMITS__MAX_POSITON_QTY", "1")

    checked = CliRunner().invoke(main, ["config", "check"])

    assert checked.exit_code == 2
    assert "cannot start (UNKNOWN_SETTING)" in checked.output
    assert "ORDERGATE_LIMITS__MAX_POSITON_QTY" in checked.output
