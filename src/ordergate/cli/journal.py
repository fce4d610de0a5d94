"""`ordergate replay` and `ordergate verify-journal`: a journal checked by replaying it,
SQLite or PostgreSQL (every partition, read in one snapshot). The checks are
`app.journal_tools`; this module shows them."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ordergate.app.journal_tools import (
    replay_cluster,
    replay_file,
    verify_cluster,
    verify_file,
)
from ordergate.config.settings import is_postgres_url
from ordergate.domain.errors import JournalError

console = Console(stderr=True)
T = TypeVar("T")


@contextmanager
def _progress() -> Iterator[Callable[[str, int], Callable[[int], None]]]:
    """A transient progress bar on the console, one task per call of what it yields. The
    bar appears with its first task: a command that fails before (an unreachable
    database) prints its one line of error alone."""
    with ExitStack() as stack:
        bars: list[Progress] = []

        def start(description: str, total: int) -> Callable[[int], None]:
            if not bars:
                bars.append(
                    stack.enter_context(
                        Progress(
                            TextColumn("{task.description}"),
                            BarColumn(),
                            MofNCompleteColumn(),
                            TimeRemainingColumn(),
                            console=console,
                            transient=True,
                        )
                    )
                )
            progress = bars[0]
            task = progress.add_task(description, total=total)
            return lambda n: progress.advance(task, n)

        yield start


def _on_file(db: str, work: Callable[[Path], Coroutine[Any, Any, T]]) -> T:
    try:
        return asyncio.run(work(Path(db)))
    except FileNotFoundError as exc:
        raise click.BadParameter(f"{db} does not exist", param_hint="--db") from exc


_JOURNAL_DB_HELP = (
    "the journal: a SQLite file, or a postgresql:// URL (a cluster's journal: every "
    "partition, read in one snapshot)"
)


@click.command()
@click.option("--db", required=True, help=_JOURNAL_DB_HELP)
@click.option(
    "--partition",
    type=click.IntRange(min=0),
    default=None,
    help="PostgreSQL: replay only this partition (default: every partition)",
)
def replay(db: str, partition: int | None) -> None:
    """Rebuild the state from the journal alone and print its digest.

    On PostgreSQL each partition is replayed on its own and printed with its digest, then a
    total. Every partition is read in one REPEATABLE READ, READ ONLY transaction: a
    consistent snapshot of a live cluster, read without taking a partition over, locking,
    writing or migrating anything.
    """
    if is_postgres_url(db):
        _run_on_postgres(_replay_postgres(db, partition))
        return
    if partition is not None:
        raise click.BadParameter("applies to a PostgreSQL journal only", param_hint="--partition")
    with _progress() as progress:
        replayed = _on_file(db, lambda path: replay_file(path, progress))
    report, state = replayed.report, replayed.state
    if not report.ok:
        console.print(f"[red]replay stopped:[/] {report.problems[0]}")
        sys.exit(1)
    click.echo(f"events     {report.events}")
    click.echo(f"head       {report.head_seq} {report.head_hash}")
    click.echo(f"orders     {len(state.orders)} ({len(state.open_orders)} open)")
    click.echo(f"positions  {replayed.open_positions} open")
    click.echo(f"digest     {report.digest}")


@click.command("verify-journal")
@click.option("--db", required=True, help=_JOURNAL_DB_HELP)
def verify_journal(db: str) -> None:
    """Check the hash chain and that replay reproduces the stored read models.

    On PostgreSQL every partition's chain is checked (and its head row against the chain's
    end), and the shared read models must be exactly the union of the partitions' replays.
    Journals and read models are read in one REPEATABLE READ, READ ONLY transaction, so a
    live cluster's appends cannot show as differences; nothing is taken over, locked,
    written or migrated. Exit 1 on any problem.
    """
    if is_postgres_url(db):
        _run_on_postgres(_verify_postgres(db))
        return
    with _progress() as progress:
        report = _on_file(db, lambda path: verify_file(path, progress))
    click.echo(f"events     {report.events}")
    click.echo(f"head       {report.head_seq} {report.head_hash}")
    click.echo(f"digest     {report.digest}")
    if report.ok:
        click.echo("verified   chain intact; read models match the replay")
        return
    _echo_problems(report.problems)
    sys.exit(1)


def _echo_problems(problems: list[str]) -> None:
    for problem in problems[:50]:
        click.echo(f"PROBLEM    {problem}")
    if len(problems) > 50:
        click.echo(f"... and {len(problems) - 50} more")


def _run_on_postgres(work: Coroutine[Any, Any, bool]) -> None:
    """Run a PostgreSQL journal command; exit 1 when it found a problem or could not read
    (a `JournalError`: unreachable database, bad URL, no schema), with one line, no trace."""
    try:
        ok = asyncio.run(work)
    except JournalError as exc:
        console.print(f"[red]{escape(exc.message)}[/]", soft_wrap=True)
        sys.exit(1)
    if not ok:
        sys.exit(1)


async def _replay_postgres(dsn: str, only: int | None) -> bool:
    with _progress() as progress:
        replays = await replay_cluster(dsn, only, progress)
    events = orders = open_orders = positions = 0
    ok = True
    for replayed in replays:
        p, state, report = replayed.partition, replayed.state, replayed.report
        click.echo(f"partition  {p}")
        click.echo(f"  events     {report.events}")
        click.echo(f"  head       {report.head_seq} {report.head_hash}")
        click.echo(f"  orders     {len(state.orders)} ({len(state.open_orders)} open)")
        click.echo(f"  positions  {replayed.open_positions} open")
        click.echo(f"  digest     {report.digest}")
        if not report.ok:
            ok = False
            console.print(f"[red]partition {p}: replay stopped:[/] {escape(report.problems[0])}")
        events += report.events
        orders += len(state.orders)
        open_orders += len(state.open_orders)
        positions += replayed.open_positions
    click.echo(
        f"total      {len(replays)} partitions, {events} events, "
        f"{orders} orders ({open_orders} open), {positions} positions open"
    )
    return ok


async def _verify_postgres(dsn: str) -> bool:
    with _progress() as progress:
        verification = await verify_cluster(dsn, progress)
    for p, report in sorted(verification.reports.items()):
        click.echo(f"partition  {p}")
        click.echo(f"  events     {report.events}")
        click.echo(f"  head       {report.head_seq} {report.head_hash}")
        click.echo(f"  digest     {report.digest}")
    if verification.ok:
        click.echo(
            f"verified   {len(verification.reports)} partitions: chains intact; read models "
            "match the replays (one snapshot)"
        )
        return True
    _echo_problems(verification.problems)
    return False
