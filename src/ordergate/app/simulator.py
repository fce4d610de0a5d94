"""A venue simulator on its own (`ordergate simulate`), served until cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final

from ordergate.matching.market import load_demo_market
from ordergate.simulators import robinhood
from ordergate.simulators.bybit import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    DEFAULT_PORT,
    DEFAULT_RATE_LIMITS,
    BybitSimulator,
    SimulatorConfig,
)
from ordergate.simulators.mt5.server import Mt5SimConfig, Mt5Simulator
from ordergate.simulators.robinhood import RobinhoodSimConfig, RobinhoodSimulator

ROBINHOOD_PORT: Final = robinhood.DEFAULT_PORT
ROBINHOOD_USERNAME: Final = robinhood.DEFAULT_USERNAME
ROBINHOOD_PASSWORD: Final = robinhood.DEFAULT_PASSWORD
ROBINHOOD_TOTP_SECRET: Final = robinhood.DEFAULT_TOTP_SECRET

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_API_SECRET",
    "DEFAULT_PORT",
    "DEFAULT_RATE_LIMITS",
    "ROBINHOOD_PASSWORD",
    "ROBINHOOD_PORT",
    "ROBINHOOD_TOTP_SECRET",
    "ROBINHOOD_USERNAME",
    "BybitSimulator",
    "Mt5SimConfig",
    "Mt5Simulator",
    "RobinhoodSimConfig",
    "RobinhoodSimulator",
    "SimulatorConfig",
    "serve_bybit_simulator",
    "serve_mt5_simulator",
    "serve_robinhood_simulator",
]


async def serve_bybit_simulator(
    config: SimulatorConfig, host: str, port: int, on_ready: Callable[[BybitSimulator], None]
) -> None:
    """Start the Bybit simulator, tell `on_ready`, serve until cancelled, then stop it."""
    simulator = BybitSimulator(config)
    await simulator.start(host=host, port=port)
    on_ready(simulator)
    try:
        await asyncio.Event().wait()
    finally:
        await simulator.stop()


async def serve_mt5_simulator(
    config: Mt5SimConfig,
    host: str,
    rep_port: int,
    pub_port: int,
    bars_per_second: float | None,
    on_ready: Callable[[Mt5Simulator], None],
) -> None:
    """Start the MT5 EA simulator, tell `on_ready`, replay the bundled EURUSD and GBPUSD
    bars at `bars_per_second` (None: prices only from the caller), serve until cancelled.

    The replay's ticks carry the wall clock in the broker's zone, as a live terminal's
    do: a client's feed gate and its reconciliation of today's deals work as they would
    against a broker."""
    simulator = Mt5Simulator(config)
    await simulator.start(host=host, rep_port=rep_port, pub_port=pub_port)
    on_ready(simulator)
    try:
        if bars_per_second is None:
            await asyncio.Event().wait()
            return
        symbols = [spec.symbol for spec in config.symbols]
        market = load_demo_market(align_start=True, loop=True, symbols=symbols)
        await simulator.replay(market.feed, bars_per_second, wall_clock=True)
    finally:
        await simulator.stop()


async def serve_robinhood_simulator(
    config: RobinhoodSimConfig,
    host: str,
    port: int,
    on_ready: Callable[[RobinhoodSimulator], None],
) -> None:
    """Start the Robinhood simulator (in replay mode it moves its own market), tell
    `on_ready`, serve until cancelled, then stop it."""
    simulator = RobinhoodSimulator(config)
    await simulator.start(host=host, port=port)
    on_ready(simulator)
    try:
        await asyncio.Event().wait()
    finally:
        await simulator.stop()
