"""What ordergate's history costs: memory, start-up and verification against orders ever placed.

    python -m bench.history [--filled 200000] [--resting 20000] [--starts 3]
    make bench-history

For the whole history and for half of it, on a fresh SQLite journal (synchronous=FULL,
the paper venue, the bundled demo market held still). Half the history is half the
filled orders beside the same resting ones: the history is what was traded and is done,
the resting orders are what is open now, and issue 13 asks for a footprint that follows
the second, not the first.

1. **build**: a process places `--filled` market orders (buys and sells alternating,
   each filled at once and finished) and `--resting` limit buys far below the market
   (they rest, open), through `Oms`, 256 in flight; then reports its resident memory;
2. **restart**: a new process enters `Oms` on that journal (the time from process start
   to entered, and its resident memory), and `ordergate serve` on it is timed from
   process start to `/ready`; each `--starts` times (3), the median kept: a start is two
   seconds or so, and one on this noisy machine strayed by half a second either way;
3. **verify**: `ordergate verify-journal` on the journal, timed; events a second.

Each figure is printed for both sizes, with their ratio: a footprint that depends on
what is open, not on everything ever traded, shows ratios near 1.0 for restart time and
memory. Bytes per open order come from a third build of `--resting` orders alone; the
growth per finished order is the whole build's memory over the half's, less the extra
open orders at that price, over the extra finished orders. Issue 13 is judged on these
figures (its retention window: `ORDERGATE_RETENTION_MAX_FINISHED`, 10,000 by default).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

WINDOW = 256
PYTHON = sys.executable
ORDERGATE = str(Path(sys.executable).parent / "ordergate")


def rss_bytes() -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024  # type: ignore[union-attr]


def settings(db: Path) -> Any:
    from ordergate.config.settings import Settings

    return Settings(
        db=str(db),
        paper_bars_per_second=0,  # the market held still: fills at the first bar's prices
        api_rate_per_second=1e9,
        api_rate_burst=10**9,
        reconcile_interval_seconds=None,
    )


async def build(db: Path, filled: int, resting: int) -> dict[str, float]:
    from ordergate.cli.process import tune_garbage_collector
    from ordergate.domain.values import OrderType, Side
    from ordergate.oms.embedded import Oms

    tune_garbage_collector()
    started = time.perf_counter()
    async with Oms(settings(db)) as oms:
        empty = rss_bytes()

        async def place(i: int) -> None:
            if i < filled:
                side = Side.BUY if i % 2 == 0 else Side.SELL
                await oms.place("BTCUSDT", side, Decimal("0.001"))
            else:
                await oms.place(
                    "BTCUSDT", Side.BUY, Decimal("0.005"), OrderType.LIMIT, price=Decimal("1000.0")
                )

        total = filled + resting
        for start in range(0, total, WINDOW):
            await asyncio.gather(*(place(i) for i in range(start, min(start + WINDOW, total))))
        await oms.app.partition.engine.settle()
        built = rss_bytes()
        open_orders = oms.app.trading.open_order_count
    return {
        "build_seconds": time.perf_counter() - started,
        "rss_empty": empty,
        "rss_built": built,
        "open_orders": open_orders,
    }


async def restart(db: Path, process_started: float) -> dict[str, float]:
    from ordergate.oms.embedded import Oms

    async with Oms(settings(db)):
        entered = time.time() - process_started
        return {"oms_seconds": entered, "rss_restarted": rss_bytes()}


def child(argv: list[str]) -> None:
    """The measured process: `build DB FILLED RESTING` or `restart DB STARTED`."""
    if argv[0] == "build":
        result = asyncio.run(build(Path(argv[1]), int(argv[2]), int(argv[3])))
    else:
        result = asyncio.run(restart(Path(argv[1]), float(argv[2])))
    print(json.dumps(result))


def run_child(*args: str) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORDERGATE_", "OMS_"))}
    env["ORDERGATE_LOG_LEVEL"] = "WARNING"
    done = subprocess.run(
        [PYTHON, "-m", "bench.history", "--child", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{args[0]} failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_seconds(db: Path) -> float:
    """`ordergate serve` on `db`: seconds from process start to `/ready` answering 200."""
    port, admin = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORDERGATE_", "OMS_"))}
    env |= {"ORDERGATE_LOG_LEVEL": "WARNING", "ORDERGATE_PAPER_BARS_PER_SECOND": "0"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [ORDERGATE, "serve", "--db", str(db), "--port", str(port), "--admin-port", str(admin)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while process.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", admin), timeout=1) as probe:
                    probe.sendall(b"GET /ready HTTP/1.1\r\nHost: x\r\n\r\n")
                    if probe.recv(64).startswith(b"HTTP/1.1 200"):
                        return time.perf_counter() - started
            except OSError:
                pass
            time.sleep(0.02)
        raise SystemExit("serve exited before it was ready")
    finally:
        process.terminate()
        process.wait(60)


def verify_seconds(db: Path) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run(
        [ORDERGATE, "verify-journal", "--db", str(db)], capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"verify-journal failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    events = int(re.search(r"^events\s+(\d+)", done.stdout, re.MULTILINE).group(1))  # type: ignore[union-attr]
    return elapsed, events


def measure(filled: int, resting: int, starts: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as workdir:
        db = Path(workdir) / "history.db"
        figures = run_child("build", str(db), str(filled), str(resting))
        restarts = [run_child("restart", str(db), repr(time.time())) for _ in range(starts)]
        for key in ("oms_seconds", "rss_restarted"):
            figures[key] = statistics.median(r[key] for r in restarts)
        figures["serve_seconds"] = statistics.median(serve_seconds(db) for _ in range(starts))
        figures["verify_seconds"], events = verify_seconds(db)
        figures["events"] = events
        figures["journal_bytes"] = db.stat().st_size
    figures["filled"], figures["resting"] = filled, resting
    return figures


def measure_open(resting: int) -> float:
    """Bytes per open order (engine and paper venue together): a build of resting orders
    only, its resident memory over an empty `Oms`."""
    with tempfile.TemporaryDirectory() as workdir:
        figures = run_child("build", str(Path(workdir) / "open.db"), "0", str(resting))
    return (figures["rss_built"] - figures["rss_empty"]) / resting


def report(half: dict[str, float], whole: dict[str, float], per_open: float) -> None:
    mib = 1024 * 1024
    rows = [
        ("orders filled / resting", lambda f: f"{f['filled']:,.0f} / {f['resting']:,.0f}"),
        ("open orders after build", lambda f: f"{f['open_orders']:,.0f}"),
        ("journal events", lambda f: f"{f['events']:,.0f}"),
        ("journal file", lambda f: f"{f['journal_bytes'] / mib:,.0f} MiB"),
        ("build", lambda f: f"{f['build_seconds']:.1f} s"),
        ("RSS after build", lambda f: f"{f['rss_built'] / mib:,.0f} MiB"),
        (
            "  per order placed, over an empty Oms",
            lambda f: f"{(f['rss_built'] - f['rss_empty']) / (f['filled'] + f['resting']):,.0f} B",
        ),
        ("RSS after restart", lambda f: f"{f['rss_restarted'] / mib:,.0f} MiB"),
        ("start: process to Oms entered", lambda f: f"{f['oms_seconds']:.2f} s"),
        ("start: `serve` to /ready", lambda f: f"{f['serve_seconds']:.2f} s"),
        ("verify-journal", lambda f: f"{f['verify_seconds']:.1f} s"),
        ("  events verified a second", lambda f: f"{f['events'] / f['verify_seconds']:,.0f}"),
    ]
    print(f"{'':40} {'half history':>16} {'whole history':>16}")
    for name, shown in rows:
        print(f"{name:40} {shown(half):>16} {shown(whole):>16}")
    for key, name in (
        ("rss_restarted", "RSS after restart"),
        ("oms_seconds", "start to Oms entered"),
        ("serve_seconds", "start to /ready"),
        ("verify_seconds", "verify-journal"),
    ):
        print(f"ratio whole / half, {name}: {whole[key] / half[key]:.2f}")
    print(
        f"RSS per open order (a build of {whole['resting']:,.0f} resting only): {per_open:,.0f} B"
    )
    # Should the two builds hold different open orders, take those out first.
    extra_open = (whole["resting"] - half["resting"]) * per_open
    growth = (whole["rss_built"] - half["rss_built"] - extra_open) / (
        whole["filled"] - half["filled"]
    )
    print(f"RSS growth per extra finished order (whole vs half build): {growth:,.0f} B")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filled", type=int, default=200_000)
    parser.add_argument("--resting", type=int, default=20_000)
    parser.add_argument("--starts", type=int, default=3, help="starts timed per size (median)")
    options = parser.parse_args()
    half = measure(options.filled // 2, options.resting, options.starts)
    whole = measure(options.filled, options.resting, options.starts)
    report(half, whole, measure_open(options.resting))


if __name__ == "__main__":
    main()
