"""`ordergate signals`: the dead-letter queue for operators (list, replay)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from ordergate.app.dead_letters import (
    DeadLetter,
    SignalTopology,
    list_dead_letters,
    resend_dead_letters,
)
from ordergate.cli.process import configure_logging
from ordergate.config.settings import Settings
from ordergate.domain.errors import OrderGateError

console = Console(stderr=True)
T = TypeVar("T")

_AMQP_OPTION = click.option(
    "--amqp-url", default=None, help="RabbitMQ (ORDERGATE_AMQP_URL)", metavar="URL"
)
_QUEUE_OPTION = click.option(
    "--queue",
    default=None,
    help="the signal queue; its dead letters are in <queue>.dlq (ORDERGATE_SIGNALS_QUEUE)",
)


@click.group()
def signals() -> None:
    """The signals' dead-letter queue: what is in it, and sending signals back."""


@signals.command("dead-letters")
@_AMQP_OPTION
@_QUEUE_OPTION
@click.option("--limit", type=click.IntRange(min=0), default=20, help="messages to show")
def dead_letters(amqp_url: str | None, queue: str | None, limit: int) -> None:
    """Show the dead letters: how many, and the first ones with their reason. Nothing is
    taken off the queue."""
    topology = _topology(queue)
    total, shown = _run(amqp_url, lambda url: list_dead_letters(url, topology, limit))
    click.echo(f"{total} dead letter(s) in {topology.dead_letter_queue}")
    for letter in shown:
        click.echo(_line(letter))
    if total > len(shown):
        click.echo(f"... and {total - len(shown)} more")


@signals.command("replay")
@_AMQP_OPTION
@_QUEUE_OPTION
@click.option("--reason", default=None, help="only dead letters of this reason code")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="at most this many")
def replay_signals(
    amqp_url: str | None, queue: str | None, reason: str | None, limit: int | None
) -> None:
    """Send dead letters back to the signal queue, in queue order.

    Safe for any of them: a signal already journaled places nothing again, and one still
    bad is dead-lettered again with its reason.
    """
    topology = _topology(queue)
    report = _run(amqp_url, lambda url: resend_dead_letters(url, topology, reason, limit))
    click.echo(
        f"replayed {report.replayed} to {topology.signal_queue}; "
        f"{report.kept} left in {topology.dead_letter_queue}"
    )


def _topology(queue: str | None) -> SignalTopology:
    return SignalTopology(signal_queue=queue or Settings().signals_queue)


def _run(amqp_url: str | None, work: Callable[[str], Coroutine[Any, Any, T]]) -> T:
    """Do `work` on the broker; a broker error is one line on stderr and exit 1. Logs go
    to stderr, so stdout is the answer alone."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    url = amqp_url
    if url is None:
        if settings.amqp_url is None:
            raise click.UsageError("no broker: pass --amqp-url or set ORDERGATE_AMQP_URL")
        url = settings.amqp_url.get_secret_value()
    try:
        return asyncio.run(work(url))
    except OrderGateError as exc:
        console.print(f"[red]{escape(exc.message)}[/]")
        sys.exit(1)


def _line(letter: DeadLetter) -> str:
    where = f" from {letter.queue}" if letter.queue else ""
    detail = f": {letter.detail}" if letter.detail else ""
    return f"{letter.signal_id or '-':<24}  {letter.reason:<28}{where}{detail}"
