"""A simulator run as its own process (`ordergate simulate bybit`), from asyncio code.

For benchmarks and tests that want the venue on another core, or a venue that outlives
the ordergate under test. The process is started on `port` with the CLI's `flags`,
waited for until it serves, and stopped with SIGINT, which it must survive cleanly.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ordergate.domain.errors import VenueError
from ordergate.simulators.bybit.ccxt_settings import RemoteSimulator

_START_SECONDS = 30.0
_STOP_SECONDS = 20.0


@asynccontextmanager
async def simulator_process(port: int, *flags: str) -> AsyncIterator[RemoteSimulator]:
    """`ordergate simulate bybit --port PORT FLAGS...` until the block ends."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from ordergate.cli.main import main; main()",
        "simulate",
        "bybit",
        "--port",
        str(port),
        *flags,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        banner = await asyncio.wait_for(process.stderr.readline(), _START_SECONDS)
        url = f"http://127.0.0.1:{port}"
        if url not in banner.decode():
            raise VenueError(f"the simulator did not start on {url}: {banner.decode()!r}")
        yield RemoteSimulator(url)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.wait(), _STOP_SECONDS)
    if process.returncode != 0:
        raise VenueError(f"the simulator exited with {process.returncode}")
