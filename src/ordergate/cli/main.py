"""The `ordergate` command: one group, a module per command group beside it."""

from __future__ import annotations

import click

from ordergate.cli.config import config
from ordergate.cli.journal import export, import_journal, replay, verify_journal
from ordergate.cli.keys import keys
from ordergate.cli.serve import serve
from ordergate.cli.signals import signals
from ordergate.cli.simulate import simulate


@click.group()
def main() -> None:
    """ordergate: an order management system for trading bots."""


for command in (
    config,
    serve,
    replay,
    verify_journal,
    export,
    import_journal,
    keys,
    signals,
    simulate,
):
    main.add_command(command)
