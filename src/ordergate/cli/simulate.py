"""`ordergate simulate`: a venue simulator on its own, a local server speaking a venue's API."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import click
from rich.console import Console

from ordergate.app.simulator import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    DEFAULT_PORT,
    DEFAULT_RATE_LIMITS,
    ROBINHOOD_PASSWORD,
    ROBINHOOD_PORT,
    ROBINHOOD_TOTP_SECRET,
    ROBINHOOD_USERNAME,
    BybitSimulator,
    Mt5SimConfig,
    Mt5Simulator,
    RobinhoodSimConfig,
    RobinhoodSimulator,
    SimulatorConfig,
    serve_bybit_simulator,
    serve_mt5_simulator,
    serve_robinhood_simulator,
)
from ordergate.domain.errors import InvalidRequest

console = Console(stderr=True)


@click.group()
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
        asyncio.run(serve_bybit_simulator(config, host, port, _announce))
    except KeyboardInterrupt:
        console.print("simulator stopped")


@simulate.command("mt5")
@click.option("--host", default="127.0.0.1", show_default=True, help="interface to bind")
@click.option("--rep-port", type=int, default=8866, show_default=True, help="commands (REP)")
@click.option("--pub-port", type=int, default=8867, show_default=True, help="events (PUB)")
@click.option(
    "--account",
    type=click.Choice(["netting", "hedging"]),
    default="netting",
    show_default=True,
    help="the account's margin mode",
)
@click.option(
    "--market",
    type=click.Choice(["replay", "manual"]),
    default="replay",
    show_default=True,
    help="replay: the bundled EURUSD and GBPUSD bars, looped; manual: no prices of its own",
)
@click.option("--bars-per-second", type=float, default=2.0, show_default=True, help="replay pace")
@click.option("--balance", type=str, default="10000", show_default=True, help="USD balance")
@click.option(
    "--id-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="where the EA keeps its client order id map (default: a temporary directory)",
)
def simulate_mt5(
    host: str,
    rep_port: int,
    pub_port: int,
    account: str,
    market: str,
    bars_per_second: float,
    balance: str,
    id_dir: Path | None,
) -> None:
    """Serve the MetaTrader 5 EA simulator (docs/mt5-bridge.md) until Ctrl-C.

    It binds the sockets the expert advisor binds and speaks the bridge protocol, over a
    simulated trade server with a netting or hedging account.
    """
    try:
        config = Mt5SimConfig(margin_mode=account, balance=Decimal(balance), id_dir=id_dir)
    except ArithmeticError as exc:
        raise click.BadParameter(str(exc)) from exc
    pace = bars_per_second if market == "replay" else None
    try:
        asyncio.run(serve_mt5_simulator(config, host, rep_port, pub_port, pace, _announce_mt5))
    except KeyboardInterrupt:
        console.print("simulator stopped")


@simulate.command("robinhood")
@click.option("--host", default="127.0.0.1", show_default=True, help="interface to bind")
@click.option("--port", type=int, default=ROBINHOOD_PORT, show_default=True, help="port")
@click.option(
    "--market",
    type=click.Choice(["replay", "manual"]),
    default="replay",
    show_default=True,
    help="replay: bundled bars shaped into AAPL, MSFT, SPY prices, looped; manual: fixed quotes",
)
@click.option("--bars-per-second", type=float, default=2.0, show_default=True, help="replay pace")
@click.option("--cash", type=str, default="100000", show_default=True, help="starting USD cash")
@click.option("--username", default=ROBINHOOD_USERNAME, show_default=True, help="login name")
@click.option("--password", default=ROBINHOOD_PASSWORD, show_default=True, help="login password")
@click.option(
    "--mfa",
    type=click.Choice(["none", "code", "workflow"]),
    default="none",
    show_default=True,
    help="code: a TOTP of --totp-secret is required; workflow: logins need a person (never)",
)
@click.option(
    "--totp-secret", default=ROBINHOOD_TOTP_SECRET, show_default=True, help="base32 TOTP secret"
)
@click.option(
    "--hours",
    type=click.Choice(["always", "us_equities"]),
    default="always",
    show_default=True,
    help="us_equities: orders trade only in their New York session, queued outside it",
)
def simulate_robinhood(
    host: str,
    port: int,
    market: str,
    bars_per_second: float,
    cash: str,
    username: str,
    password: str,
    mfa: str,
    totp_secret: str,
    hours: str,
) -> None:
    """Serve a Robinhood REST simulator for robin_stocks until Ctrl-C.

    It answers api.robinhood.com's paths at its root and phoenix.robinhood.com's under
    /phoenix; a client redirects robin_stocks' session there. The defaults are public
    test credentials: the simulator holds no real money.
    """
    try:
        config = RobinhoodSimConfig(
            market="replay" if market == "replay" else "manual",
            bars_per_second=bars_per_second,
            cash=Decimal(cash),
            username=username,
            password=password,
            mfa="code" if mfa == "code" else "workflow" if mfa == "workflow" else "none",
            totp_secret=totp_secret,
            hours="us_equities" if hours == "us_equities" else "always",
        )
    except (ArithmeticError, InvalidRequest) as exc:
        raise click.BadParameter(str(exc)) from exc
    try:
        asyncio.run(serve_robinhood_simulator(config, host, port, _announce_robinhood))
    except KeyboardInterrupt:
        console.print("simulator stopped")


def _announce_robinhood(simulator: RobinhoodSimulator) -> None:
    origins = "\n".join(f"  {real} -> {local}" for real, local in simulator.origins.items())
    console.print(
        f"[bold]Robinhood simulator[/] {simulator.base_url}  "
        f"(mfa {simulator.config.mfa}, hours {simulator.config.hours})\n{origins}"
    )


def _announce_mt5(simulator: Mt5Simulator) -> None:
    console.print(
        f"[bold]MT5 EA simulator[/] commands {simulator.rep_url}  events {simulator.pub_url}  "
        f"({simulator.config.margin_mode} account {simulator.config.login})"
    )


def _announce(simulator: BybitSimulator) -> None:
    console.print(
        f"[bold]Bybit simulator[/] REST {simulator.rest_url}  "
        f"private stream {simulator.ws_private_url}  control {simulator.rest_url}/sim\n"
        "  ccxt: ordergate.simulators.bybit.ccxt_settings(...) lists the settings"
    )
