"""A venue simulator on its own (`ordergate simulate`), served until cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ordergate.simulators.bybit import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    DEFAULT_PORT,
    DEFAULT_RATE_LIMITS,
    BybitSimulator,
    SimulatorConfig,
)

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_API_SECRET",
    "DEFAULT_PORT",
    "DEFAULT_RATE_LIMITS",
    "BybitSimulator",
    "SimulatorConfig",
    "serve_bybit_simulator",
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
