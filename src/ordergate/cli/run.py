"""`ordergate run`: a strategy on an engine, in a mode, through seed 004's interface."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import NoReturn

import click
from rich.console import Console
from rich.markup import escape

from ordergate.cli.process import configure_logging
from ordergate.config.settings import Settings
from ordergate.domain.errors import ConfigurationError, OrderGateError
from ordergate.unified.engines import ENGINE_NAMES, settings_for
from ordergate.unified.runner import (
    RunOptions,
    RunSummary,
    load_config,
    load_strategy,
    run_strategy,
)

console = Console(stderr=True)

EXIT_FAILED = 1
EXIT_MISCONFIGURED = 2


@click.command()
@click.option(
    "--engine",
    default=None,
    help=f"{' | '.join(ENGINE_NAMES)} (default: ORDERGATE_VENUE, else paper)",
)
@click.option(
    "--mode",
    type=click.Choice(["live", "shadow", "dry-run"]),
    default=None,
    help="live sends orders; shadow fills them in a paper book fed by the venue's quotes; "
    "dry-run journals each decision and its risk verdict, sending nothing "
    "(default: ORDERGATE_MODE, else live)",
)
@click.option("--strategy", "spec", required=True, help="module:callable or path/file.py:callable")
@click.option("--strategy-name", default=None, help="the name its orders carry (default: callable)")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="the strategy's configuration, TOML or JSON (ctx.config)",
)
@click.option("--symbols", default=None, help="comma-separated (default: config's, else all)")
@click.option("--bars", type=click.IntRange(min=1), default=None, help="stop after N bars")
@click.option("--duration", type=click.FloatRange(min=0), default=None, help="stop after N seconds")
@click.option(
    "--bar-seconds",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    help="a bar's interval of market time",
)
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0, min_open=True),
    default=0.5,
    show_default=True,
    help="seconds between quote samples of a market that moves by itself",
)
@click.option(
    "--db",
    default=None,
    help="the journal (ORDERGATE_DB; default: ordergate-<mode>.db, a journal keeps its mode)",
)
@click.option(
    "--bars-per-second",
    type=click.FloatRange(min=0),
    default=None,
    help="paper (ORDERGATE_PAPER_BARS_PER_SECOND) or bybit-sim replay pace; on paper 0 "
    "lets the runner step the market bar by bar",
)
@click.option(
    "--paper-data",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="market TOML for the paper venue (ORDERGATE_PAPER_DATA)",
)
@click.option("--sim-url", default=None, help="bybit-sim: a simulator already running")
def run(
    engine: str | None,
    mode: str | None,
    spec: str,
    strategy_name: str | None,
    config_file: Path | None,
    symbols: str | None,
    bars: int | None,
    duration: float | None,
    bar_seconds: float,
    poll_interval: float,
    db: str | None,
    bars_per_second: float | None,
    paper_data: Path | None,
    sim_url: str | None,
) -> None:
    """Run a strategy through seed 004's unified interface: live, shadow or dry-run.

    A strategy is a class (or any callable making one) with any of start(ctx),
    on_quote(ctx, quote), on_bar(ctx, bars) and stop(ctx); it acts through ctx.engine
    or ctx.set_targets (docs/runner.md). Exit status: 0 done, 2 misconfigured (an unknown
    engine among them), 1 failed.
    """
    try:
        settings = _settings(engine, mode, db, bars_per_second, paper_data, sim_url)
        strategy = load_strategy(spec, strategy_name)
        options = RunOptions(
            config=load_config(config_file),
            symbols=None if symbols is None else tuple(s.strip() for s in symbols.split(",")),
            bar_seconds=bar_seconds,
            bars=bars,
            duration=duration,
            poll_interval=poll_interval,
        )
    except ConfigurationError as exc:
        _refuse(exc)
    configure_logging(settings.log_level, settings.log_json, settings.service_name)
    console.print(
        f"[bold]ordergate run[/] {escape(strategy.name)} on {escape(settings.venue)} "
        f"({escape(settings.mode)})  journal: {escape(settings.db)}"
    )
    stop = threading.Event()
    with _stopping_on_signals(stop):
        try:
            summary = run_strategy(
                settings, strategy, options, stop=stop, confirm=_read_line, say=_say
            )
        except ConfigurationError as exc:
            _refuse(exc)
        except OrderGateError as exc:
            console.print(f"[red]run failed ({exc.code}):[/] {escape(exc.message)}")
            sys.exit(EXIT_FAILED)
        except Exception as exc:  # the strategy's own error: say it, exit non-zero
            console.print(f"[red]run failed:[/] {escape(repr(exc))}")
            sys.exit(EXIT_FAILED)
    _report(summary)


def _settings(
    engine: str | None,
    mode: str | None,
    db: str | None,
    bars_per_second: float | None,
    paper_data: Path | None,
    sim_url: str | None,
) -> Settings:
    """The settings as `serve` reads them, the flags over them, and a journal per mode
    when none is named anywhere."""
    overrides = {
        key: value
        for key, value in (("db", db), ("paper_data", paper_data), ("sim_url", sim_url))
        if value is not None
    }
    settings = settings_for(engine, mode, **overrides)
    changes: dict[str, object] = {}
    if bars_per_second is not None:  # validated by its option: a number, at least 0
        pace = "sim_bars_per_second" if settings.venue == "bybit-sim" else "paper_bars_per_second"
        changes[pace] = bars_per_second
    if "db" not in settings.model_fields_set:
        changes["db"] = f"ordergate-{settings.mode}.db"
    return settings.model_copy(update=changes)


def _refuse(exc: ConfigurationError) -> NoReturn:
    console.print(f"[red]cannot run ({exc.code}):[/] {escape(exc.message)}")
    sys.exit(EXIT_MISCONFIGURED)


def _say(message: str) -> None:
    console.print(message, markup=False, highlight=False, soft_wrap=True)


def _read_line() -> str | None:
    line = sys.stdin.readline()
    return line or None


def _report(summary: RunSummary) -> None:
    orders = ", ".join(f"{status} {n}" for status, n in summary.orders.items()) or "none"
    console.print(
        f"done ({summary.stopped_by}): {summary.bars} bars; orders of "
        f"{escape(summary.strategy)}: {escape(orders)}"
    )


class _stopping_on_signals:  # noqa: N801 (a context manager, named as one is used)
    """SIGINT and SIGTERM set `stop`: the run ends after the current step, the strategy's
    `stop` runs and the engine disconnects. A second signal stops at once."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.previous: dict[int, object] = {}

    def __enter__(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signals reach the main thread only (a test's runner, say)
        for signum in (signal.SIGINT, signal.SIGTERM):
            self.previous[signum] = signal.signal(signum, self._handle)

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.stop.is_set():
            raise KeyboardInterrupt
        console.print(f"{signal.Signals(signum).name}: stopping after this step")
        self.stop.set()
