"""`ordergate replay` and `ordergate verify-journal`: a journal checked by replaying it,
SQLite or PostgreSQL (every partition, read in one snapshot)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ordergate.config.settings import is_postgres_url
from ordergate.domain.errors import JournalError
from ordergate.engine.replay import (
    VerificationReport,
    replay_records,
    verify_partitions,
    verify_store,
)
from ordergate.engine.views import ReadModelChanges
from ordergate.store.postgres.snapshot import PartitionInfo, open_snapshot
from ordergate.store.sqlite import SqliteStore

console = Console(stderr=True)


def _open(db: Path) -> SqliteStore:
    if not db.exists():
        raise click.BadParameter(f"{db} does not exist", param_hint="--db")
    return SqliteStore(db)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


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
    store = _open(Path(db))
    with _progress() as progress:
        task = progress.add_task("replaying", total=store.count())
        state, report = asyncio.run(
            replay_records(
                store.records_after(), store.partition, lambda n: progress.advance(task, n)
            )
        )
    if not report.ok:
        console.print(f"[red]replay stopped:[/] {report.problems[0]}")
        sys.exit(1)
    click.echo(f"events     {report.events}")
    click.echo(f"head       {report.head_seq} {report.head_hash}")
    click.echo(f"orders     {len(state.orders)} ({len(state.open_orders)} open)")
    positions = [p for p in state.book if p.qty]
    click.echo(f"positions  {len(positions)} open")
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
    store = _open(Path(db))
    with _progress() as progress:
        task = progress.add_task("verifying", total=store.count())
        report = asyncio.run(verify_store(store, lambda n: progress.advance(task, n)))
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
    async with open_snapshot(dsn, application_name="ordergate replay") as snapshot:
        partitions = snapshot.partitions
        if only is not None:
            if only not in partitions:
                raise JournalError(
                    f"partition {only} has no journal; the database has "
                    f"{_partition_list(partitions)}"
                )
            partitions = {only: partitions[only]}
        with _progress() as progress:
            task = progress.add_task("replaying", total=sum(p.records for p in partitions.values()))
            replays = [
                await replay_records(
                    snapshot.journal(p).records_after(), p, lambda n: progress.advance(task, n)
                )
                for p in partitions
            ]
    events = orders = open_orders = positions = 0
    ok = True
    for p, (state, report) in zip(partitions, replays, strict=True):
        held = sum(1 for position in state.book if position.qty)
        click.echo(f"partition  {p}")
        click.echo(f"  events     {report.events}")
        click.echo(f"  head       {report.head_seq} {report.head_hash}")
        click.echo(f"  orders     {len(state.orders)} ({len(state.open_orders)} open)")
        click.echo(f"  positions  {held} open")
        click.echo(f"  digest     {report.digest}")
        if not report.ok:
            ok = False
            console.print(f"[red]partition {p}: replay stopped:[/] {escape(report.problems[0])}")
        events += report.events
        orders += len(state.orders)
        open_orders += len(state.open_orders)
        positions += held
    click.echo(
        f"total      {len(partitions)} partitions, {events} events, "
        f"{orders} orders ({open_orders} open), {positions} positions open"
    )
    return ok


async def _verify_postgres(dsn: str) -> bool:
    async with open_snapshot(dsn, application_name="ordergate verify-journal") as snapshot:
        partitions = snapshot.partitions
        journals = [snapshot.journal(p) for p in partitions]
        with _progress() as progress:
            task = progress.add_task("verifying", total=sum(p.records for p in partitions.values()))
            read_models = await snapshot.read_models()
            reports = await verify_partitions(
                journals, read_models, lambda n: progress.advance(task, n)
            )
    problems: list[str] = []
    model_problems: list[str] = []
    for p, report in sorted(reports.items()):
        click.echo(f"partition  {p}")
        click.echo(f"  events     {report.events}")
        click.echo(f"  head       {report.head_seq} {report.head_hash}")
        click.echo(f"  digest     {report.digest}")
        info = partitions[p]
        if report.events < info.records:  # the replay stopped at a broken record
            problems += [f"partition {p}: {problem}" for problem in report.problems]
        else:  # verify_partitions puts the read models' differences on the lowest partition
            model_problems += report.problems
            problems += [f"partition {p}: {problem}" for problem in _head_problems(info, report)]
    if not partitions and read_models != ReadModelChanges():
        model_problems.append("the read models hold rows, but no partition has a journal")
    problems += [f"read models: {problem}" for problem in model_problems]
    if not problems:
        click.echo(
            f"verified   {len(partitions)} partitions: chains intact; read models match "
            "the replays (one snapshot)"
        )
        return True
    _echo_problems(problems)
    return False


def _head_problems(info: PartitionInfo, report: VerificationReport) -> list[str]:
    """The partition's head row must name the last record of its chain."""
    if info.head_seq is None or info.head_hash is None:
        return ["it has journal records but no partition_head row"]
    if (info.head_seq, info.head_hash.hex()) != (report.head_seq, report.head_hash):
        return [
            f"partition_head says seq {info.head_seq} {info.head_hash.hex()}, "
            f"the chain ends at seq {report.head_seq} {report.head_hash}"
        ]
    return []


def _partition_list(partitions: dict[int, PartitionInfo]) -> str:
    if not partitions:
        return "none"
    return "partitions " + ", ".join(str(p) for p in partitions)
