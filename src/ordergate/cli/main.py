"""The `ordergate` command: one group, a module per command group beside it.

The group imports a command's module only when that command runs (or shows its own
help). Importing every one up front loaded the whole server (FastAPI, the routers, the
stores) for `ordergate orders` or `verify-journal`: about a second of every start.
"""

from __future__ import annotations

import importlib
from typing import Final

import click

# name -> (module, attribute, the one line `ordergate --help` shows). A test checks each
# line against the command's own docstring, so the two cannot drift.
COMMANDS: Final[dict[str, tuple[str, str, str]]] = {
    "config": (
        "ordergate.cli.config",
        "config",
        "The configuration: its reference, and a check of what is set.",
    ),
    "serve": (
        "ordergate.cli.serve",
        "serve",
        "Run the OMS: engine, venue and REST API in one process.",
    ),
    "replay": (
        "ordergate.cli.journal",
        "replay",
        "Rebuild the state from the journal alone and print its digest.",
    ),
    "verify-journal": (
        "ordergate.cli.journal",
        "verify_journal",
        "Check the hash chain and that replay reproduces the stored read models.",
    ),
    "export": (
        "ordergate.cli.journal",
        "export",
        "Write journal records as JSON lines with their hashes "
        "(`verify-journal --jsonl` checks such a file on its own).",
    ),
    "import": (
        "ordergate.cli.journal",
        "import_journal",
        "Restore a journal store from a whole JSON lines export.",
    ),
    "keys": (
        "ordergate.cli.keys",
        "keys",
        "Create, revoke and list API keys (stored hashed beside the journal).",
    ),
    "signals": (
        "ordergate.cli.signals",
        "signals",
        "The signals' dead-letter queue: what is in it, and sending signals back.",
    ),
    "simulate": (
        "ordergate.cli.simulate",
        "simulate",
        "Run a venue simulator: a local server speaking a venue's own API.",
    ),
    "orders": (
        "ordergate.cli.views",
        "orders",
        "The orders, newest first.",
    ),
    "positions": (
        "ordergate.cli.views",
        "positions",
        "The open positions, marked at the server's current prices.",
    ),
    "tail": (
        "ordergate.cli.views",
        "tail",
        "Follow orders and fills as they change, one line each (JSON lines with --json).",
    ),
    "shadow-report": (
        "ordergate.cli.shadow",
        "shadow_report_command",
        "What a shadow run would have sent, and its book against the real venue's.",
    ),
    "run": (
        "ordergate.cli.run",
        "run",
        "Run a strategy through seed 004's unified interface: live, shadow or dry-run.",
    ),
    "parity": (
        "ordergate.cli.parity",
        "parity",
        "Run one order stream on the paper venue and on NautilusTrader over the same bars, "
        "and explain every difference.",
    ),
}


class LazyGroup(click.Group):
    """A group whose commands are imported when asked for, not when it is built."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = COMMANDS.get(cmd_name)
        if found is None:
            return None
        module, attribute, _ = found
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, summary) for name, (_, _, summary) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup)
def main() -> None:
    """ordergate: an order management system for trading bots."""
