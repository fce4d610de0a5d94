"""Fixtures: a started simulator (manual market), the real ccxt against it, a raw client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import ccxt.pro
import pytest
from tests.integration.simulators.bybit.support import D, RawBybit

from ordergate.simulators.bybit import BybitSimulator, SimulatorConfig, ccxt_settings


@pytest.fixture
def config() -> SimulatorConfig:
    """Override in a module to change the simulator a test gets."""
    return SimulatorConfig(balances={"USDT": D(100_000)})


@pytest.fixture
async def sim(config: SimulatorConfig) -> AsyncIterator[BybitSimulator]:
    simulator = BybitSimulator(config)
    await simulator.start()
    simulator.set_quote("BTCUSDT", bid=D("50000.0"), ask=D("50000.1"))
    simulator.set_quote("ETHUSDT", bid=D("3000.00"), ask=D("3000.05"))
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
async def exchange(sim: BybitSimulator) -> AsyncIterator[ccxt.pro.bybit]:
    """ccxt.pro's bybit (REST and websockets), markets loaded."""
    client = ccxt.pro.bybit(ccxt_settings(sim))
    try:
        await client.load_markets()
        yield client
    finally:
        await client.close()


@pytest.fixture
async def raw(sim: BybitSimulator) -> AsyncIterator[RawBybit]:
    async with aiohttp.ClientSession() as session:
        yield RawBybit(session, sim)
