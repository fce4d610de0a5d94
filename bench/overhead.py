"""What the "ordergate beside the bare client" benchmarks share: timing a client placing
orders with some in flight, its figures, and the ratios of one run.

`bench.ccxt_overhead` (ccxt against the Bybit simulator) and `bench.mt5_overhead`
(pyzmq against the MT5 EA simulator) build on it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Figures:
    orders_per_s: float
    p50_ms: float
    p99_ms: float

    @classmethod
    def of(cls, latencies: list[float], elapsed: float) -> Figures:
        ordered = sorted(latencies)
        return cls(
            len(ordered) / elapsed,
            ordered[len(ordered) // 2] * 1e3,
            ordered[min(int(len(ordered) * 0.99), len(ordered) - 1)] * 1e3,
        )


Results = dict[tuple[str, int], Figures]
Ratios = dict[tuple[str, int], tuple[float, float]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def timed(
    n: int, concurrency: int, place: Callable[[int], Awaitable[None]]
) -> tuple[list[float], float]:
    """Call `place(i)` for i < n with `concurrency` calls in flight; latencies, elapsed."""
    latencies: list[float] = []

    async def client(first: int) -> None:
        for i in range(first, n, concurrency):
            start = time.perf_counter()
            await place(i)
            latencies.append(time.perf_counter() - start)

    started = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(concurrency)))
    return latencies, time.perf_counter() - started


def ratios(results: Results, bare: str) -> Ratios:
    """Per ordergate client (named "... accepted") and load: (the bare client's orders/s
    ÷ its orders/s, its p50 ÷ the bare client's p50)."""
    out: Ratios = {}
    for (client, load), f in results.items():
        if client.endswith("accepted"):
            base = results[(bare, load)]
            out[(client, load)] = (base.orders_per_s / f.orders_per_s, f.p50_ms / base.p50_ms)
    return out


def print_table(title: str, results: Results, overhead: Ratios) -> None:
    print(title)
    print(f"  {'client':34} {'in flight':>9} {'orders/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for (client, load), f in results.items():
        print(f"  {client:34} {load:9d} {f.orders_per_s:9.0f} {f.p50_ms:8.2f} {f.p99_ms:8.2f}")
    for (client, load), (fewer, slower) in overhead.items():
        print(
            f"  {load} in flight, {client}: {fewer:.2f}x fewer orders/s, "
            f"p50 {slower:.2f}x the bare call's"
        )


def print_medians(runs: list[Results], bare: str) -> None:
    """The median of each figure over the runs, and the median of each run's own ratios."""
    median = {
        key: Figures(
            statistics.median(r[key].orders_per_s for r in runs),
            statistics.median(r[key].p50_ms for r in runs),
            statistics.median(r[key].p99_ms for r in runs),
        )
        for key in runs[0]
    }
    per_run = [ratios(r, bare) for r in runs]
    median_ratios = {
        key: (
            statistics.median(r[key][0] for r in per_run),
            statistics.median(r[key][1] for r in per_run),
        )
        for key in per_run[0]
    }
    title = f"median of {len(runs)} runs (ratios: the median of each run's own)"
    print_table(title, median, median_ratios)


def arguments(description: str | None, orders_help: str, runs: int) -> argparse.ArgumentParser:
    """The options every such benchmark takes: orders per pass, orders in flight when
    loaded, runs, and the journal (SQLite, in memory, or both)."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=300, help=orders_help)
    parser.add_argument("--concurrency", type=int, default=16, help="orders in flight, loaded")
    parser.add_argument("--runs", type=int, default=runs)
    parser.add_argument("--journal", choices=["sqlite", "memory", "both"], default="both")
    return parser


def journals_of(choice: str) -> list[str]:
    return ["sqlite", "memory"] if choice == "both" else [choice]


ORDERGATE = Path(sys.executable).with_name("ordergate")


@contextlib.contextmanager
def simulator_process(*arguments: str, ready: bytes) -> Iterator[int]:
    """`ordergate simulate ...` as its own process, once it has printed `ready`; its pid.
    Stopped with SIGINT (its Ctrl-C) on exit."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [str(ORDERGATE), "simulate", *arguments], stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 30
            while ready not in _read(log):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the simulator did not start: {_read(log).decode()}")
                time.sleep(0.05)
            yield process.pid
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(20)


def _read(log: Any) -> bytes:
    log.seek(0)
    data: bytes = log.read()
    return data


def peak_rss_mib(pid: int) -> float:
    """A live process's peak resident memory (VmHWM), in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else float("nan")
