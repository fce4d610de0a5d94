"""The `ordergate` command: serve, replay, verify-journal."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ordergate.api.app import create_app
from ordergate.logs import configure_logging
from ordergate.runtime import tune_garbage_collector
from ordergate.settings import Settings
from ordergate.store.sqlite import SqliteStore
from ordergate.store.verify import replay_records, verify_store

console = Console(stderr=True)


@click.group()
def main() -> None:
    """ordergate: an order management system for trading bots."""


@main.command()
@click.option("--host", default=None, help="interface to bind (ORDERGATE_HOST)")
@click.option("--port", type=int, default=None, help="port (ORDERGATE_PORT)")
@click.option("--db", default=None, help="SQLite journal path or ':memory:' (ORDERGATE_DB)")
@click.option(
    "--bars-per-second",
    type=float,
    default=None,
    help="paper market-data pace (ORDERGATE_PAPER_BARS_PER_SECOND)",
)
@click.option(
    "--paper-data",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="market TOML for the paper venue (ORDERGATE_PAPER_DATA); default: bundled demo",
)
def serve(
    host: str | None,
    port: int | None,
    db: str | None,
    bars_per_second: float | None,
    paper_data: Path | None,
) -> None:
    """Run the OMS: engine, paper venue and REST API in one process."""
    overrides: dict[str, object] = {
        key: value
        for key, value in (
            ("host", host),
            ("port", port),
            ("db", db),
            ("paper_bars_per_second", bars_per_second),
            ("paper_data", paper_data),
        )
        if value is not None
    }
    settings = Settings(**overrides)  # type: ignore[arg-type]
    configure_logging(settings.log_level, settings.log_json)
    tune_garbage_collector()
    base = f"http://{settings.host}:{settings.port}"
    console.print(
        f"[bold]ordergate[/] on {base}  journal: {settings.db}  venue: {settings.venue}\n"
        f"  API docs: {base}/docs   health: {base}/health"
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
    )


def _open(db: Path) -> SqliteStore:
    from ordergate.store.sqlite import SqliteStore

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


@main.command()
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), required=True)
def replay(db: Path) -> None:
    """Rebuild the state from the journal alone and print its digest."""
    store = _open(db)
    with _progress() as progress:
        task = progress.add_task("replaying", total=store.count())
        state, report = replay_records(
            store.records(), store.partition, lambda n: progress.advance(task, n)
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


@main.command("verify-journal")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), required=True)
def verify_journal(db: Path) -> None:
    """Check the hash chain and that replay reproduces the stored read models."""
    store = _open(db)
    with _progress() as progress:
        task = progress.add_task("verifying", total=store.count())
        report = verify_store(store, lambda n: progress.advance(task, n))
    click.echo(f"events     {report.events}")
    click.echo(f"head       {report.head_seq} {report.head_hash}")
    click.echo(f"digest     {report.digest}")
    if report.ok:
        click.echo("verified   chain intact; read models match the replay")
        return
    for problem in report.problems[:50]:
        click.echo(f"PROBLEM    {problem}")
    if len(report.problems) > 50:
        click.echo(f"... and {len(report.problems) - 50} more")
    sys.exit(1)
