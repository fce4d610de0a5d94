"""The `ordergate` group: every command listed with its own summary, and none of them
imported until it runs."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from ordergate.cli.main import COMMANDS, main


@pytest.mark.parametrize("name", list(COMMANDS))
def test_cli_group_each_command_is_found_under_its_name_with_its_own_summary(name: str) -> None:
    module, attribute, summary = COMMANDS[name]
    command = getattr(importlib.import_module(module), attribute)

    assert isinstance(command, click.Command)
    assert command.name == name
    assert summary == command.get_short_help_str(limit=200)
    assert main.get_command(click.Context(main), name) is command


def test_cli_group_help_lists_every_command() -> None:
    shown = CliRunner().invoke(main, ["--help"])
    section = shown.output.split("Commands:")[1]

    assert shown.exit_code == 0
    assert re.findall(r"^  (\S+)", section, re.MULTILINE) == list(COMMANDS)


def test_cli_group_imports_no_command_until_it_runs() -> None:
    """`ordergate orders` must not load the server (FastAPI, the routers, the stores)."""
    probe = (
        "import sys; from ordergate.cli.main import main; "
        "main.get_command(None, 'orders'); "
        "print(sorted(m for m in ('fastapi', 'ordergate.api.app', 'ordergate.cli.serve', "
        "'ordergate.store.sqlite.journal') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()

    assert loaded == "[]"
