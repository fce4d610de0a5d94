"""`POST /v1/orders` through `ordergate serve`: what the REST edge costs per request.

    python -m bench.api_requests [--requests 6000] [--connections 32] [--runs 3]
                                 [--baseline DIR]

The server is a real subprocess on the embedded default (a SQLite journal with
synchronous=FULL, the paper venue), waiting for the venue's answer as by default, with
the per-key rate limit lifted. `--connections` clients, each on one keep-alive
connection, send market orders one after another (raw HTTP/1.1 over asyncio streams:
a Python HTTP client would be the bottleneck). Printed per run: orders a second, latency
p50/p99 per request, and the server's peak resident memory (VmHWM).

`--baseline DIR`: a checkout of another revision (`git worktree add DIR REV`), run from
its `src/` by the same interpreter, alternating with this tree, so both are measured in
one run on the same machine. The medians of the runs close the report, with their ratio.
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
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
LAUNCH = "import sys; from ordergate.cli.main import main; sys.exit(main())"


@dataclass(frozen=True)
class Run:
    tree: str
    orders_per_second: float
    p50_ms: float
    p99_ms: float
    peak_rss_mib: float


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(source: Path, workdir: Path) -> tuple[subprocess.Popen[bytes], int, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORDERGATE_", "OMS_"))}
    env |= {
        "PYTHONPATH": str(source / "src"),
        "ORDERGATE_LOG_LEVEL": "WARNING",
        "ORDERGATE_API_RATE_PER_SECOND": "1000000",
        "ORDERGATE_API_RATE_BURST": "1000000",
        "ORDERGATE_ADMIN_PORT": str(free_port()),  # ignored by a tree without one
    }
    log = workdir / "server.log"
    command = [sys.executable, "-c", LAUNCH, "serve", "--db", str(workdir / "og.db")]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        cwd=workdir,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"og_[A-Za-z0-9]+_[A-Za-z0-9_-]+", log.read_text())
        if found and _answers(port):
            return process, port, found.group()
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the server did not start:\n{log.read_text()[-2000:]}")


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
            probe.sendall(b"GET /live HTTP/1.1\r\nHost: x\r\n\r\n")
            return probe.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def order_request(key: str, i: int) -> bytes:
    body = json.dumps(
        {"symbol": "EURUSD", "side": "BUY" if i % 2 else "SELL", "qty": "0.01", "type": "MARKET"}
    ).encode()
    head = (
        "POST /v1/orders HTTP/1.1\r\nHost: bench\r\ncontent-type: application/json\r\n"
        f"x-api-key: {key}\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def client(port: int, key: str, count: int, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for i in range(count):
        started = time.perf_counter()
        writer.write(order_request(key, i))
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"content-length: (\d+)", head, re.IGNORECASE).group(1))  # type: ignore[union-attr]
        await reader.readexactly(length)
        if not head.startswith((b"HTTP/1.1 200", b"HTTP/1.1 201")):
            raise SystemExit(f"an order was refused: {head!r}")
        latencies.append(time.perf_counter() - started)
    writer.close()


async def drive(port: int, key: str, requests: int, connections: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    await client(port, key, 200, [])  # warm-up
    started = time.perf_counter()
    each = requests // connections
    await asyncio.gather(*(client(port, key, each, latencies) for _ in range(connections)))
    return len(latencies) / (time.perf_counter() - started), latencies


def peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]


def measure(tree: str, source: Path, requests: int, connections: int) -> Run:
    with tempfile.TemporaryDirectory() as workdir:
        process, port, key = start_server(source, Path(workdir))
        try:
            rate, latencies = asyncio.run(drive(port, key, requests, connections))
            peak = peak_rss_mib(process.pid)
        finally:
            process.terminate()
            process.wait(30)
    latencies.sort()
    return Run(
        tree=tree,
        orders_per_second=rate,
        p50_ms=latencies[len(latencies) // 2] * 1000,
        p99_ms=latencies[int(len(latencies) * 0.99)] * 1000,
        peak_rss_mib=peak,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", type=Path, default=None)
    options = parser.parse_args()
    trees = [("this tree", HERE)]
    if options.baseline is not None:
        trees.append(("baseline", options.baseline.resolve()))
    runs: list[Run] = []
    for number in range(1, options.runs + 1):
        for name, source in trees:
            run = measure(name, source, options.requests, options.connections)
            runs.append(run)
            print(
                f"run {number} {name:9}  {run.orders_per_second:7.0f} orders/s  "
                f"p50 {run.p50_ms:6.2f} ms  p99 {run.p99_ms:6.2f} ms  "
                f"peak RSS {run.peak_rss_mib:5.0f} MiB",
                flush=True,
            )
    medians = {
        name: statistics.median(r.orders_per_second for r in runs if r.tree == name)
        for name, _ in trees
    }
    for name, _ in trees:
        mine = [r for r in runs if r.tree == name]
        print(
            f"median {name:9} {medians[name]:7.0f} orders/s  "
            f"p50 {statistics.median(r.p50_ms for r in mine):6.2f} ms  "
            f"p99 {statistics.median(r.p99_ms for r in mine):6.2f} ms  "
            f"peak RSS {statistics.median(r.peak_rss_mib for r in mine):5.0f} MiB"
        )
    if "baseline" in medians:
        print(f"this tree / baseline: {medians['this tree'] / medians['baseline']:.2f}x orders/s")


if __name__ == "__main__":
    main()
