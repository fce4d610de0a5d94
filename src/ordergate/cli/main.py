"""The `ordergate` command: one group, a module per command group beside it."""

from __future__ import annotations

import click

from ordergate.cli.config import config
from ordergate.cli.journal import export, replay, verify_journal
from ordergate.cli.keys import keys
from ordergate.cli.serve import serve
from ordergate.cli.signals import signals
from ordergate.cli.simulate import simulate
from ordergate.cli.views import orders, positions, tail


@click.group()
def main() -> None:
    """ordergate: an order management system for trading bots."""


for command in (
    config,
    serve,
    replay,
    verify_journal,
    export,
    keys,
    signals,
    simulate,
    orders,
    positions,
    tail,
):
    main.add_command(command)
