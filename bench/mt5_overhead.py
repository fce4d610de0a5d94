"""What ordergate adds on top of the MT5 bridge: place → the EA's acceptance.

The EA simulator runs as its own process (`ordergate simulate mt5`, replaying EURUSD at
one bar a second on the wall clock, a large balance) and both clients speak to it on
loopback:

- bare pyzmq: `submit_order` frames on REQ sockets (one socket per order in flight, as
  a REQ socket carries one request at a time), with unique client order ids; latency
  is the round trip to the reply, which is the trade server's decision: `placed`.
- ordergate: `Oms.place(..., wait=True)` with `venue="mt5"`: risk checks, the journal
  write before the request (write-ahead), the command through the bridge client (Lazy
  Pirate, one REQ socket), then the acceptance journaled before `place` returns. The
  journal is SQLite with synchronous=FULL (the default) or in memory.

Each order is a resting buy limit far below the market (it never fills), so the EA's
work per order is the same for both. Open orders are canceled between passes, outside
the timing. Each run measures every client in turn, one order in flight and then
`--concurrency`, so the ratios of one run compare like with like; the medians over
`--runs` are printed last, then the peak resident memory of this process (both clients)
and of the simulator.

    python -m bench.mt5_overhead --orders 300 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import resource
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import zmq
import zmq.asyncio

from bench.overhead import (
    Figures,
    Results,
    arguments,
    free_port,
    journals_of,
    peak_rss_mib,
    print_medians,
    print_table,
    ratios,
    simulator_process,
    timed,
)
from ordergate.cli.process import configure_logging, tune_garbage_collector
from ordergate.config.settings import Settings
from ordergate.domain.values import OrderStatus, OrderType, Side
from ordergate.oms import Oms

SYMBOL = "EURUSD"
QTY = Decimal("0.01")
PRICE = Decimal("0.90000")  # far below the replayed market: the order rests
BARE = "bare pyzmq submit_order"
_run_ids = itertools.count(1)


@dataclass
class Endpoints:
    rep_url: str
    pub_url: str
    pid: int


@contextlib.contextmanager
def simulator() -> Iterator[Endpoints]:
    """`ordergate simulate mt5` as its own process, until the benchmark is done."""
    rep, pub = free_port(), free_port()
    with tempfile.TemporaryDirectory() as ids:
        arguments = ("mt5", "--rep-port", str(rep), "--pub-port", str(pub))
        options = ("--bars-per-second", "1", "--balance", "100000000", "--id-dir", ids)
        with simulator_process(*arguments, *options, ready=b"MT5 EA simulator") as pid:
            yield Endpoints(f"tcp://127.0.0.1:{rep}", f"tcp://127.0.0.1:{pub}", pid)


class BareClient:
    """Bridge commands over REQ sockets, one per request in flight (docs/mt5-bridge.md)."""

    def __init__(self, endpoints: Endpoints, sockets: int) -> None:
        self.context = zmq.asyncio.Context()
        self.free: asyncio.Queue[zmq.asyncio.Socket] = asyncio.Queue()
        for _ in range(sockets):
            sock = self.context.socket(zmq.REQ)
            sock.setsockopt(zmq.LINGER, 0)
            sock.connect(endpoints.rep_url)
            self.free.put_nowait(sock)
        self.ids = itertools.count(1)

    async def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        sock = await self.free.get()
        try:
            frame = {"v": 1, "req_id": f"b{next(self.ids)}", "cmd": cmd, "args": args}
            await sock.send(json.dumps(frame).encode())
            reply: dict[str, Any] = json.loads(await sock.recv())
        finally:
            self.free.put_nowait(sock)
        if not reply["ok"]:
            raise RuntimeError(f"{cmd}: {reply['error']}")
        result: dict[str, Any] = reply["result"]
        return result

    async def cancel_everything(self) -> None:
        for order in (await self.call("get_open_orders", symbol=SYMBOL))["orders"]:
            await self.call("cancel_order", ticket=order["ticket"])

    def close(self) -> None:
        self.context.destroy(linger=0)


async def bare_pyzmq(endpoints: Endpoints, tag: str, n: int, concurrency: int) -> Figures:
    client = BareClient(endpoints, concurrency)
    try:
        await client.call("hello", client="bench", versions=[1])

        async def place(i: int) -> None:
            result = await client.call(
                "submit_order",
                client_order_id=f"{tag}-{i}",
                symbol=SYMBOL,
                side="buy",
                type="limit",
                volume=str(QTY),
                price=str(PRICE),
                time_in_force="GTC",
            )
            assert result["state"] == "placed", result

        latencies, elapsed = await timed(n, concurrency, place)
        await client.cancel_everything()
        return Figures.of(latencies, elapsed)
    finally:
        client.close()


def ordergate_settings(endpoints: Endpoints, db: str) -> Settings:
    return Settings(
        venue="mt5",
        db=db,
        mt5_rep_url=endpoints.rep_url,
        mt5_pub_url=endpoints.pub_url,
        mt5_symbols=[SYMBOL],
        mt5_timeout=10.0,
        reconcile_interval_seconds=3600,
        api_wait_ms=30_000,
    )


async def ordergate(endpoints: Endpoints, db: str, n: int, concurrency: int) -> Figures:
    """place → accepted through `Oms.place` (the EA's reply is the acceptance)."""
    async with Oms(ordergate_settings(endpoints, db)) as oms:

        async def place(i: int) -> None:
            order = await oms.place(SYMBOL, Side.BUY, QTY, OrderType.LIMIT, price=PRICE)
            assert order.status is OrderStatus.ACCEPTED, order

        latencies, elapsed = await timed(n, concurrency, place)
        return Figures.of(latencies, elapsed)


async def one_run(endpoints: Endpoints, n: int, concurrency: int, journals: list[str]) -> Results:
    results: Results = {}
    sweeper = BareClient(endpoints, 1)
    try:
        for load in (1, concurrency):
            results[(BARE, load)] = await bare_pyzmq(endpoints, f"r{next(_run_ids)}", n, load)
            for journal in journals:
                with tempfile.TemporaryDirectory() as tmp:
                    db = ":memory:" if journal == "memory" else str(Path(tmp) / "bench.db")
                    figures = await ordergate(endpoints, db, n, load)
                results[(f"ordergate ({journal}) → accepted", load)] = figures
                await sweeper.cancel_everything()
    finally:
        sweeper.close()
    return results


async def first_quote(endpoints: Endpoints) -> None:
    """Wait until the simulator's replay has priced the symbol (orders need a quote)."""
    client = BareClient(endpoints, 1)
    try:
        deadline = time.monotonic() + 30
        while not (await client.call("get_quotes", symbols=[SYMBOL]))["quotes"]:
            if time.monotonic() > deadline:
                raise RuntimeError("the simulator never quoted " + SYMBOL)
            await asyncio.sleep(0.05)
    finally:
        client.close()


async def main_async(args: argparse.Namespace, endpoints: Endpoints) -> None:
    journals = journals_of(args.journal)
    await first_quote(endpoints)
    runs: list[Results] = []
    for run in range(args.runs):
        results = await one_run(endpoints, args.orders, args.concurrency, journals)
        print_table(f"run {run + 1}", results, ratios(results, BARE))
        runs.append(results)
    print_medians(runs, BARE)


def main() -> None:
    parser = arguments(__doc__, "orders per pass", runs=1)
    args = parser.parse_args()
    if args.orders < 1 or args.concurrency < 1 or args.runs < 1:
        parser.error("--orders, --concurrency and --runs must be positive")
    configure_logging("WARNING", json=False)
    tune_garbage_collector()  # as `ordergate serve` does
    with simulator() as endpoints:
        asyncio.run(main_async(args, endpoints))
        simulator_mib = peak_rss_mib(endpoints.pid)
    this_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: this process (both clients) {this_mib:.0f} MiB, ", end="")
    print(f"the simulator {simulator_mib:.0f} MiB (pid {endpoints.pid}, VmHWM)")


if __name__ == "__main__":
    main()
