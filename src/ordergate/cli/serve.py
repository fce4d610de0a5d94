"""`ordergate serve`: the OMS (engine, venue and REST API) in one process."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from ordergate.api.app import create_app
from ordergate.api.edge import server as api_server
from ordergate.app.key_stores import open_key_store
from ordergate.auth.keys import IssuedKey
from ordergate.auth.ports import KeyStore
from ordergate.auth.provision import ensure_first_key
from ordergate.cli.config import load_settings
from ordergate.cli.process import (
    StartupRefused,
    configure_logging,
    ensure_file_descriptors,
    tune_garbage_collector,
)
from ordergate.domain.errors import JournalError

console = Console(stderr=True)


@click.command()
@click.option("--host", default=None, help="interface to bind (ORDERGATE_HOST)")
@click.option("--port", type=int, default=None, help="port (ORDERGATE_PORT)")
@click.option(
    "--admin-port",
    type=int,
    default=None,
    help="the admin listener's port: health and the kill switch (ORDERGATE_ADMIN_PORT; "
    "default: --port + 1)",
)
@click.option(
    "--db",
    default=None,
    help="SQLite journal path, ':memory:', or a postgresql:// URL (a cluster node) (ORDERGATE_DB)",
)
@click.option(
    "--venue",
    type=click.Choice(
        ["paper", "bybit-sim", "ccxt", "nautilus", "nautilus-live", "mt5", "robinhood"]
    ),
    default=None,
    help="paper (default), bybit-sim (ccxt against an in-process Bybit simulator), "
    "ccxt (ORDERGATE_CCXT_*), nautilus (NautilusTrader's simulated exchange), "
    "nautilus-live (NautilusTrader's Bybit adapter, ORDERGATE_NAUTILUS_*), mt5 "
    "(MetaTrader 5 through the bridge EA, ORDERGATE_MT5_*) or robinhood (robin_stocks, "
    "ORDERGATE_ROBINHOOD_*) (ORDERGATE_VENUE)",
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
    admin_port: int | None,
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
            ("admin_port", admin_port),
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
    settings = load_settings(overrides, bars_per_second)
    configure_logging(settings.log_level, settings.log_json, settings.service_name)
    tune_garbage_collector()
    try:
        ensure_file_descriptors(settings.api_max_connections + settings.admin_max_connections)
    except StartupRefused as exc:
        console.print(f"[red]cannot start:[/] {escape(exc.message)}")
        sys.exit(1)
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
    admin = f"http://{settings.admin_host}:{settings.admin_listener_port}"
    console.print(
        f"[bold]ordergate[/] on {base}  journal: {settings.db}  venue: {settings.venue}\n"
        f"  blotter: [bold]{base}/[/] (the web page: log in with your key)\n"
        f"  API docs: {base}/docs   health: {base}/health\n"
        f"  admin listener (health, kill switch): {admin}"
    )
    if first_key is not None:
        announce_first_key(first_key, base)
    api_server.serve(
        create_app(settings, key_store), settings, uvicorn_log_level(settings.log_level)
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
