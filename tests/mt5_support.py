"""The MT5 EA simulator for socket tests: started on free loopback ports, heartbeats
every 50 ms (so a subscriber knows quickly that it receives), EURUSD quoted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from ordergate.simulators.mt5.server import Mt5SimConfig, Mt5Simulator


@asynccontextmanager
async def running_simulator(heartbeat_ms: int = 50, **config: Any) -> AsyncIterator[Mt5Simulator]:
    """A started simulator (`config` overrides `Mt5SimConfig`), stopped on exit."""
    simulator = Mt5Simulator(Mt5SimConfig(heartbeat_ms=heartbeat_ms, **config))
    await simulator.start()
    simulator.set_quote("EURUSD", Decimal("1.10000"), Decimal("1.10002"))
    try:
        yield simulator
    finally:
        await simulator.stop()
