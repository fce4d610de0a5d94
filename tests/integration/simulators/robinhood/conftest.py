"""Fixtures: a started simulator (manual market, trading always open) and robin_stocks
redirected to it, logged out (`rs`) or logged in (`logged_in`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tests.integration.simulators.robinhood.robinhood_sim_support import (
    RobinStocks,
    robin_stocks_on,
)

from ordergate.simulators.robinhood import RobinhoodSimConfig, RobinhoodSimulator


@pytest.fixture
def config() -> RobinhoodSimConfig:
    """Override in a module to change the simulator a test gets."""
    return RobinhoodSimConfig()


@pytest.fixture
async def sim(config: RobinhoodSimConfig) -> AsyncIterator[RobinhoodSimulator]:
    simulator = RobinhoodSimulator(config)
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
def rs(sim: RobinhoodSimulator, tmp_path: Path) -> Iterator[RobinStocks]:
    with robin_stocks_on(sim, tmp_path) as client:
        yield client


@pytest.fixture
async def logged_in(rs: RobinStocks) -> RobinStocks:
    mfa_code = rs.totp() if rs.sim.config.mfa == "code" else None
    await rs.login(mfa_code=mfa_code)
    assert rs.authorised
    return rs
