"""`ordergate replay`, `ordergate verify-journal`, `ordergate export` and `ordergate import`: a
journal checked by replaying it, SQLite or PostgreSQL (every partition, read in one
snapshot), written out as JSON lines and checked from the file alone, or restored from such
a file. The work is `app.journal_tools` and `app.journal_import`; this module shows it."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ordergate.app.journal_import import import_jsonl
from ordergate.app.journal_tools import (
    Window,
    export_cluster,
    export_file,
    replay_cluster,
    replay_file,
    verify_cluster,
    verify_file,
    verify_jsonl,
)
from ordergate.cli.process import tune_garbage_collector
from ordergate.config.settings import is_postgres_url
from ordergate.domain.errors import JournalCorrupted, JournalError, RestoreRefused

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
@click.option(
    "--from-checkpoint",
    is_flag=True,
    help="go on from the newest checkpoint that matches the chain, as a start or a "
    "takeover does (default: from seq 1); on PostgreSQL, each partition's",
)
def replay(db: str, partition: int | None, from_checkpoint: bool) -> None:
    """Rebuild the state from the journal alone and print its digest.

    With `--from-checkpoint`, as a start (or a cluster's takeover of a partition) does: from
    the newest checkpoint that matches the chain, then the events after it; the digest must
    be the full replay's. A checkpoint that does not decode or match is passed over, with
    the reason, for an older one or the beginning.

    On PostgreSQL each partition is replayed on its own and printed with its digest, then a
    total. Every partition is read in one REPEATABLE READ, READ ONLY transaction: a
    consistent snapshot of a live cluster, read without taking a partition over, locking,
    writing or migrating anything.
    """
    tune_garbage_collector()  # a replay allocates as the engine does: collect as rarely
    if is_postgres_url(db):
        _run_on_postgres(_replay_postgres(db, partition, from_checkpoint))
        return
    if partition is not None:
        raise click.BadParameter("applies to a PostgreSQL journal only", param_hint="--partition")
    with _progress() as progress:
        replayed = _on_file(db, lambda path: replay_file(path, progress, from_checkpoint))
    report, state = replayed.report, replayed.state
    if not report.ok:
        console.print(f"[red]replay stopped:[/] {report.problems[0]}")
        sys.exit(1)
    for passed in replayed.passed_over:
        console.print(f"[yellow]checkpoint passed over:[/] {escape(passed)}")
    if from_checkpoint:
        click.echo(f"from checkpoint {replayed.checkpoint_seq or 'none: seq 1'}")
    click.echo(f"events     {report.events}")
    click.echo(f"head       {report.head_seq} {report.head_hash}")
    click.echo(f"orders     {len(state.orders)} ({len(state.open_orders)} open)")
    click.echo(f"positions  {replayed.open_positions} open")
    click.echo(f"digest     {report.digest}")


@click.command("verify-journal")
@click.option("--db", default=None, help=_JOURNAL_DB_HELP)
@click.option(
    "--jsonl",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="verify a file written by `ordergate export --jsonl` instead, on its own",
)
def verify_journal(db: str | None, jsonl: Path | None) -> None:
    """Check the hash chain and that replay reproduces the stored read models.

    Each checkpoint kept must be the replayed state at its seq. On PostgreSQL every
    partition's chain is checked (and its head row against the chain's end), and each of its
    checkpoints, and the shared read models must be exactly the union of the partitions'
    replays. Journals, checkpoints and read models are read in one REPEATABLE READ, READ
    ONLY transaction, so a live cluster's appends cannot show as differences; nothing is
    taken over, locked, written or migrated. With `--jsonl FILE`: every record's link and
    payload, and the heads its footer claims, from the file alone. Exit 1 on any problem.
    """
    if (db is None) == (jsonl is None):
        raise click.UsageError("give one of --db and --jsonl")
    tune_garbage_collector()
    if jsonl is not None:
        _verify_jsonl(jsonl)
        return
    assert db is not None
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
        if report.checkpoints:
            click.echo(f"           {report.checkpoints} checkpoints: each the replay at its seq")
        return
    _echo_problems(report.problems)
    sys.exit(1)


def _verify_jsonl(path: Path) -> None:
    try:
        report = verify_jsonl(path)
    except FileNotFoundError as exc:
        raise click.BadParameter(f"{path} does not exist", param_hint="--jsonl") from exc
    click.echo(f"records    {report.records}")
    for head in report.heads.values():
        start = report.starts[head.partition]
        click.echo(f"partition  {head.partition}: seq {start}..{head.seq}, head {head.hash.hex()}")
        if start > 1:
            click.echo(f"           starts after seq {start - 1}: its link to it is taken on trust")
    if report.ok:
        click.echo("verified   every link and payload; the footer's heads match")
        return
    _echo_problems(report.problems)
    sys.exit(1)


@click.command()
@click.option("--db", required=True, help=_JOURNAL_DB_HELP)
@click.option("--jsonl", "as_jsonl", is_flag=True, default=True, help="JSON lines (the format)")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="the file to write (default: standard output)",
)
@click.option("--from", "start", default=None, help="first seq, or a time (ISO 8601)")
@click.option("--to", "end", default=None, help="last seq, or a time (ISO 8601)")
@click.option(
    "--partition",
    type=click.IntRange(min=0),
    default=None,
    help="PostgreSQL: only this partition (default: every partition, one after another)",
)
def export(
    db: str,
    as_jsonl: bool,
    output: Path | None,
    start: str | None,
    end: str | None,
    partition: int | None,
) -> None:
    """Write journal records as JSON lines with their hashes (`verify-journal --jsonl`
    checks such a file on its own). A time window is cut at whole records: from the first
    at or after --from to the last before the first after --to."""
    del as_jsonl  # the one format there is
    window = _window(start, end)
    if partition is not None and not is_postgres_url(db):
        raise click.BadParameter("applies to a PostgreSQL journal only", param_hint="--partition")
    # A file is written beside its name and renamed when whole: a failed export never
    # leaves a half-written file, nor clobbers the one there.
    partial = None if output is None else output.with_name(output.name + ".partial")
    try:
        with ExitStack() as stack:
            out = stack.enter_context(partial.open("wb")) if partial else sys.stdout.buffer
            if is_postgres_url(db):
                try:
                    summary = asyncio.run(export_cluster(db, out, window, partition))
                except JournalError as exc:
                    console.print(f"[red]{escape(exc.message)}[/]", soft_wrap=True)
                    sys.exit(1)
            else:
                summary = _on_file(db, lambda path: export_file(path, out, window))
        if partial is not None and output is not None:
            partial.replace(output)
    finally:
        if partial is not None:
            partial.unlink(missing_ok=True)
    heads = ", ".join(f"partition {h.partition} to seq {h.seq}" for h in summary.heads)
    console.print(f"exported {summary.records} records" + (f" ({heads})" if heads else ""))


@click.command("import")
@click.option(
    "--jsonl",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="a whole export, written by `ordergate export --jsonl` without --from/--to",
)
@click.option(
    "--db",
    required=True,
    help="the new, empty journal: a SQLite file (partition 0 only), or a postgresql:// URL "
    "(every partition of the export)",
)
def import_journal(jsonl: Path, db: str) -> None:
    """Restore a journal store from a whole JSON lines export.

    The file must verify on its own (as `verify-journal --jsonl` checks it) and hold every
    partition's journal from seq 1; the store must be new or empty (a restore never merges).
    The records are written as exported, seqs, payloads and hashes, with the read models
    their replay gives (orders, fills, positions, balances, retired orders), in one
    transaction: the store ends with the whole journal or is left as it was. Checkpoints
    are not restored (a start replays from seq 1 and takes them again).

    API keys are not in the journal, so not in an export: none are restored (create them
    with `ordergate keys create --db` the same store). Exit 1, with the reason, on any
    refusal or failure.
    """
    tune_garbage_collector()
    try:
        with _progress() as progress:
            summary = asyncio.run(import_jsonl(jsonl, db, progress))
    except FileNotFoundError as exc:
        raise click.BadParameter(f"{jsonl} does not exist", param_hint="--jsonl") from exc
    except (JournalCorrupted, RestoreRefused) as exc:
        console.print(f"[red]import refused:[/] {escape(exc.message)}", soft_wrap=True)
        sys.exit(1)
    except JournalError as exc:  # the target failed: nothing of the import was committed
        console.print(f"[red]import failed:[/] {escape(exc.message)}", soft_wrap=True)
        sys.exit(1)
    click.echo(f"imported   {summary.records} records")
    for head in sorted(summary.heads.values(), key=lambda h: h.partition):
        click.echo(f"partition  {head.partition}: seq 1..{head.seq}, head {head.hash.hex()}")
    click.echo("api keys   none restored (not in the journal): `ordergate keys create --db ...`")


def _window(start: str | None, end: str | None) -> Window:
    first, first_ts = _bound(start, "--from")
    last, last_ts = _bound(end, "--to")
    return Window(from_seq=first, to_seq=last, from_ts=first_ts, to_ts=last_ts)


def _bound(value: str | None, option: str) -> tuple[int | None, int | None]:
    """(seq, None) for a number, (None, ns since the epoch) for a time."""
    if value is None:
        return None, None
    if value.isdigit():
        return int(value), None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter("a seq number or an ISO 8601 time", param_hint=option) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return None, int(moment.timestamp() * 1_000_000) * 1000


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


async def _replay_postgres(dsn: str, only: int | None, from_checkpoint: bool) -> bool:
    with _progress() as progress:
        replays = await replay_cluster(dsn, only, progress, from_checkpoint)
    events = orders = open_orders = positions = 0
    ok = True
    for replayed in replays:
        p, state, report = replayed.partition, replayed.state, replayed.report
        for passed in replayed.passed_over:
            console.print(
                f"[yellow]partition {p}: checkpoint passed over:[/] {escape(passed)}",
                soft_wrap=True,
            )
        click.echo(f"partition  {p}")
        if from_checkpoint:
            click.echo(f"  from checkpoint {replayed.checkpoint_seq or 'none: seq 1'}")
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
        click.echo(f"  checkpoints {report.checkpoints}")
    if verification.ok:
        click.echo(
            f"verified   {len(verification.reports)} partitions: chains intact; read models "
            "match the replays (one snapshot)"
        )
        checkpoints = sum(r.checkpoints for r in verification.reports.values())
        if checkpoints:
            click.echo(f"           {checkpoints} checkpoints: each the replay at its seq")
        return True
    _echo_problems(verification.problems)
    return False
