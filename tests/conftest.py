"""Fixtures shared across the suite's directories."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Final

import pytest
from hypothesis import HealthCheck, settings

from tests.amqp_support import BrokerSession, broker_session

# The names `Settings` reads: its own, seed 002's and the seed's. ORDERGATE_TEST_* are the
# suite's own (where PostgreSQL and RabbitMQ are, which store the engine suite runs on).
SETTINGS_PREFIXES: Final = ("ORDERGATE_", "ORDERMANAGER_", "OMS_")
SUITE_PREFIX: Final = "ORDERGATE_TEST_"


def pytest_configure(config: pytest.Config) -> None:
    """Make the run independent of the machine's load and of how it was launched.

    - Hypothesis: no deadline and no "too slow" health check for any property test, said
      here once (a test's own `settings` name only what differs): a loaded machine is
      slow, not wrong.
    - SIGINT: a run started in the background by a non-interactive shell has SIGINT
      ignored, and every process it starts inherits that; a simulator process stopped
      with SIGINT (`simulator_process`) would then never stop. Python's own handler is
      put back, which its subprocesses get as the default.
    """
    settings.register_profile(
        "ordergate", deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    settings.load_profile("ordergate")
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def process_logging_left_alone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A command run in process (click's `CliRunner`: `ordergate run`, `shadow-report`,
    ...) configures logging as it does in its own process, and the next test finds
    structlog as this one did.

    `configure_logging` sets up a process: its lines go to the stderr of the moment, and
    structlog caches each logger on its first use from then on, so a logger first used
    after a command ran would keep that configuration, and a later test's `capture_logs`
    would never see its lines. In tests it configures without that cache; the commands'
    modules bind the function by name, so each binding is replaced (the ones imported
    later bind the replacement). The configuration is put back after the test.
    """
    import structlog

    import ordergate.cli.process as process

    configure = process.configure_logging

    def configure_uncached(*args: Any, **kwargs: Any) -> None:
        configure(*args, **kwargs)
        structlog.configure(cache_logger_on_first_use=False)

    monkeypatch.setattr(process, "configure_logging", configure_uncached)
    for name, module in list(sys.modules.items()):
        if name.startswith("ordergate.cli.") and hasattr(module, "configure_logging"):
            monkeypatch.setattr(module, "configure_logging", configure_uncached)
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


@pytest.fixture
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No ORDERGATE_* / ORDERMANAGER_* / OMS_* variable and no `.env` file of the developer
    leaks into `Settings`: the variables are cleared (but the suite's ORDERGATE_TEST_*) and
    the test runs in an empty directory of its own, which is returned.

    Autouse where a whole folder needs it (`integration/api`, `integration/auth`), asked
    for by name elsewhere."""
    for name in list(os.environ):
        upper = name.upper()
        if upper.startswith(SETTINGS_PREFIXES) and not upper.startswith(SUITE_PREFIX):
            monkeypatch.delenv(name)
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    return workdir


@pytest.fixture
async def broker() -> AsyncIterator[BrokerSession]:
    """The test broker (skipped without RabbitMQ, failed under CI=true), with names unique
    to the test and everything the test declared deleted afterwards."""
    async with broker_session() as session:
        yield session
