"""The `ordergate` command: serve, replay, verify-journal, keys, signals, simulate."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import NoReturn

import click
import uvicorn
from rich.console import Console
from rich.markup import escape

from ordergate.api.app import create_app
from ordergate.auth.keys import ApiKey, IssuedKey, Scope
from ordergate.auth.ports import KeyStore
from ordergate.auth.provision import ensure_first_key, local_actor, open_key_store
from ordergate.auth.sqlite import SqliteKeyStore
from ordergate.cli_journal import replay, verify_journal
from ordergate.cli_signals import signals
from ordergate.domain.errors import (
    Conflict,
    InvalidRequest,
    JournalError,
    NotFound,
    OrderGateError,
)
from ordergate.logs import configure_logging
from ordergate.runtime import tune_garbage_collector
from ordergate.settings import Settings, is_postgres_url
from ordergate.venues.simulators.bybit import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    DEFAULT_PORT,
    DEFAULT_RATE_LIMITS,
    BybitSimulator,
    SimulatorConfig,
)

console = Console(stderr=True)


@click.group()
def main() -> None:
    """ordergate: an order management system for trading bots."""


@main.command()
@click.option("--host", default=None, help="interface to bind (ORDERGATE_HOST)")
@click.option("--port", type=int, default=None, help="port (ORDERGATE_PORT)")
@click.option(
    "--db",
    default=None,
    help="SQLite journal path, ':memory:', or a postgresql:// URL (a cluster node) (ORDERGATE_DB)",
)
@click.option(
    "--venue",
    type=click.Choice(["paper", "bybit-sim", "ccxt"]),
    default=None,
    help="paper (default), bybit-sim (ccxt against an in-process Bybit simulator), "
    "or ccxt (ORDERGATE_CCXT_*) (ORDERGATE_VENUE)",
)
@click.option("--node-id", default=None, help="PostgreSQL: this node's name (ORDERGATE_NODE_ID)")
@click.option(
    "--partitions",
    type=int,
    default=None,
    help="PostgreSQL: partitions the accounts hash to, the same on every node "
    "(ORDERGATE_PARTITIONS)",
)
@click.option(
    "--amqp-url",
    default=None,
    help="RabbitMQ URL: consume signals and publish journaled events (ORDERGATE_AMQP_URL)",
)
@click.option(
    "--sim-url",
    default=None,
    help="bybit-sim: trade on a simulator already running at this URL "
    "(`ordergate simulate bybit`) instead of starting one (ORDERGATE_SIM_URL)",
)
@click.option(
    "--bars-per-second",
    type=float,
    default=None,
    help="market-data pace of the paper venue (ORDERGATE_PAPER_BARS_PER_SECOND) or of "
    "the simulator's replay under bybit-sim (ORDERGATE_SIM_BARS_PER_SECOND)",
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
    venue: str | None,
    node_id: str | None,
    partitions: int | None,
    amqp_url: str | None,
    sim_url: str | None,
    bars_per_second: float | None,
    paper_data: Path | None,
) -> None:
    """Run the OMS: engine, venue and REST API in one process."""
    overrides: dict[str, object] = {
        key: value
        for key, value in (
            ("host", host),
            ("port", port),
            ("db", db),
            ("venue", venue),
            ("node_id", node_id),
            ("partitions", partitions),
            ("amqp_url", amqp_url),
            ("sim_url", sim_url),
            ("paper_data", paper_data),
        )
        if value is not None
    }
    settings = Settings(**overrides)  # type: ignore[arg-type]
    if bars_per_second is not None:
        pace = "sim_bars_per_second" if settings.venue == "bybit-sim" else "paper_bars_per_second"
        settings = Settings(**overrides, **{pace: bars_per_second})  # type: ignore[arg-type]
    configure_logging(settings.log_level, settings.log_json)
    tune_garbage_collector()
    key_store: KeyStore | None = None
    try:
        key_store = open_key_store(settings.db)
        first_key = ensure_first_key(key_store, actor="serve")
    except JournalError as exc:  # a database that cannot be reached: say so, no traceback
        if key_store is not None:
            key_store.close()
        console.print(f"[red]cannot start:[/] {escape(exc.message)}")
        sys.exit(1)
    base = f"http://{settings.host}:{settings.port}"
    console.print(
        f"[bold]ordergate[/] on {base}  journal: {settings.db}  venue: {settings.venue}\n"
        f"  API docs: {base}/docs   health: {base}/health"
    )
    if first_key is not None:
        announce_first_key(first_key, base)
    uvicorn.run(
        create_app(settings, key_store),
        host=settings.host,
        port=settings.port,
        log_level=uvicorn_log_level(settings.log_level),
        access_log=False,  # off: no request line, header or key ever reaches a log
    )


def announce_first_key(issued: IssuedKey, base: str) -> None:
    """Print the first admin key, once, on the console (stderr); never to the logs."""
    console.print(
        f"[bold]API key[/] ({issued.key.scope.value}, label {issued.key.label}), "
        "shown only this once:"
    )
    # No markup, highlighting or wrapping: the key must come out whole, to copy.
    console.print(f"  {issued.plaintext}", markup=False, highlight=False, soft_wrap=True)
    console.print(
        f"  curl -H 'X-API-Key: {issued.plaintext}' {base}/v1/account",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def uvicorn_log_level(level: str) -> str:
    """uvicorn's level: ours, but never below debug (its trace level logs headers)."""
    level = level.lower()
    return "debug" if level == "trace" else level


@main.group()
def keys() -> None:
    """Create, revoke and list API keys (stored hashed beside the journal)."""


_DB_OPTION = click.option(
    "--db",
    default=None,
    help="SQLite journal file, or PostgreSQL URL (postgresql://...), holding the keys "
    "(ORDERGATE_DB)",
)


def _key_store(db: str | None, *, create: bool) -> KeyStore:
    path = Settings().db if db is None else db
    if path == ":memory:":
        raise click.BadParameter(
            "an in-memory journal keeps no keys; name a file", param_hint="--db"
        )
    if is_postgres_url(path):
        try:
            return open_key_store(path)
        except JournalError as exc:
            _key_command_failed(exc)
    if not create and not Path(path).exists():
        raise click.BadParameter(f"{path} does not exist", param_hint="--db")
    return SqliteKeyStore(path)


def _key_command_failed(exc: OrderGateError) -> NoReturn:
    console.print(f"[red]{escape(exc.message)}[/]")
    sys.exit(1)


@keys.command("create")
@click.option(
    "--scope",
    type=click.Choice([s.value for s in Scope]),
    required=True,
    help="read, trade (includes read) or admin (includes trade)",
)
@click.option("--label", default="", help="what the key is for, shown by `keys list`")
@_DB_OPTION
def keys_create(scope: str, label: str, db: str | None) -> None:
    """Create a key and print it (alone on stdout); it is shown this once only."""
    store = _key_store(db, create=True)
    try:
        issued = store.create(Scope(scope), label, actor=local_actor("cli"))
    except InvalidRequest as exc:
        raise click.BadParameter(exc.message, param_hint="--label") from exc
    except JournalError as exc:
        _key_command_failed(exc)
    finally:
        store.close()
    click.echo(issued.plaintext)
    console.print(
        f"created {issued.key.scope.value} key {issued.key.key_id}; "
        "it is shown only this once, keep it"
    )


@keys.command("revoke")
@click.argument("key_id")
@_DB_OPTION
def keys_revoke(key_id: str, db: str | None) -> None:
    """Revoke a key by its id (`keys list`); the server refuses it within a second."""
    store = _key_store(db, create=False)
    try:
        key = store.revoke(key_id, actor=local_actor("cli"))
    except (NotFound, Conflict, JournalError) as exc:
        _key_command_failed(exc)
    finally:
        store.close()
    click.echo(f"revoked {key.key_id} ({key.scope.value}, {key.label or 'no label'})")


@keys.command("list")
@_DB_OPTION
def keys_list(db: str | None) -> None:
    """List keys: id, scope, created, revoked, label. Never a secret or a hash."""
    store = _key_store(db, create=False)
    try:
        listed = store.keys()
    except JournalError as exc:
        _key_command_failed(exc)
    finally:
        store.close()
    click.echo(f"{'KEY_ID':<12}  {'SCOPE':<5}  {'CREATED':<20}  {'REVOKED':<20}  LABEL")
    for key in listed:
        click.echo(_key_line(key))


def _key_line(key: ApiKey) -> str:
    revoked = "-" if key.revoked_at is None else _utc(key.revoked_at)
    return (
        f"{key.key_id:<12}  {key.scope.value:<5}  {_utc(key.created_at):<20}  "
        f"{revoked:<20}  {key.label}"
    )


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


main.add_command(replay)
main.add_command(verify_journal)
main.add_command(signals)


@main.group()
def simulate() -> None:
    """Run a venue simulator: a local server speaking a venue's own API."""


@simulate.command("bybit")
@click.option("--host", default="127.0.0.1", show_default=True, help="interface to bind")
@click.option("--port", type=int, default=DEFAULT_PORT, show_default=True, help="port")
@click.option("--api-key", default=DEFAULT_API_KEY, show_default=True, help="the accepted key")
@click.option(
    "--api-secret", default=DEFAULT_API_SECRET, show_default=True, help="the key's secret"
)
@click.option(
    "--market",
    type=click.Choice(["replay", "manual"]),
    default="replay",
    show_default=True,
    help="replay: bundled BTCUSDT bars, looped; manual: prices only via POST /sim/quote",
)
@click.option("--bars-per-second", type=float, default=2.0, show_default=True, help="replay pace")
@click.option("--usdt", type=str, default="100000", show_default=True, help="starting USDT balance")
@click.option("--seed", type=int, default=0, show_default=True, help="ids and fault dice")
@click.option(
    "--rate-limits/--no-rate-limits",
    default=True,
    show_default=True,
    help="enforce Bybit's per-endpoint request limits (off: for benchmarks)",
)
def simulate_bybit(
    host: str,
    port: int,
    api_key: str,
    api_secret: str,
    market: str,
    bars_per_second: float,
    usdt: str,
    seed: int,
    rate_limits: bool,
) -> None:
    """Serve a Bybit v5 simulator (REST, private websocket, /sim control) until Ctrl-C.

    The defaults are public test credentials: the simulator is a local test venue and
    holds no real money, so a fixed key lets tools and tests find it without setup.
    """
    try:
        balance = Decimal(usdt)
        config = SimulatorConfig(
            api_key=api_key,
            api_secret=api_secret,
            balances={"USDT": balance},
            market="replay" if market == "replay" else "manual",
            replay_bars_per_second=bars_per_second,
            seed=seed,
            rate_limits=dict(DEFAULT_RATE_LIMITS) if rate_limits else {},
        )
    except (ArithmeticError, InvalidRequest) as exc:
        raise click.BadParameter(str(exc)) from exc
    try:
        asyncio.run(_serve_simulator(BybitSimulator(config), host, port))
    except KeyboardInterrupt:
        console.print("simulator stopped")


async def _serve_simulator(simulator: BybitSimulator, host: str, port: int) -> None:
    await simulator.start(host=host, port=port)
    console.print(
        f"[bold]Bybit simulator[/] REST {simulator.rest_url}  "
        f"private stream {simulator.ws_private_url}  control {simulator.rest_url}/sim\n"
        "  ccxt: ordergate.venues.simulators.bybit.ccxt_settings(...) lists the settings"
    )
    try:
        await asyncio.Event().wait()
    finally:
        await simulator.stop()
