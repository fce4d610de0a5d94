"""What ordergate adds on top of ccxt: place → venue acknowledgement, against the simulator.

The Bybit simulator runs as its own process (`ordergate simulate bybit --market manual
--no-rate-limits`, so Bybit's 10 creates a second do not cap the figures) and both
clients speak to it on loopback with the same ccxt settings:

- bare ccxt: a `create_order` loop (`ccxt.async_support.bybit`, REST); latency is the
  call to its return, which carries Bybit's order id: the venue's acknowledgement.
- ordergate: `Oms.place(..., wait=True)` with `venue="bybit-sim"` on that simulator:
  risk checks, the journal write before the request (write-ahead), the REST call
  through the adapter, then the acknowledgement, which the adapter takes from the
  private websocket and the engine journals before `place` returns. Two figures:
  place → submitted (the REST answer journaled) and place → accepted (what `place`
  waits for). The journal is SQLite with synchronous=FULL (the default) or in memory.

Each order is a resting limit buy far below the market (it never fills), so the venue's
work per order is the same for both. Open orders are cancelled between passes (Bybit
allows 500 per symbol), outside the timing. Each run measures every client in turn,
one order in flight and then `--concurrency` in flight, so the ratios of one run
compare like with like; the medians over `--runs` are printed last.

    python -m bench.ccxt_overhead --orders 300 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import ccxt.async_support as ccxt_rest

from bench.overhead import (
    Figures,
    arguments,
    free_port,
    journals_of,
    print_medians,
    print_table,
    ratios,
    timed,
)
from ordergate.cli.process import configure_logging, tune_garbage_collector
from ordergate.config.settings import Settings
from ordergate.domain.events import OrderAccepted, OrderSubmitted
from ordergate.domain.values import OrderStatus, OrderType, Side
from ordergate.engine.subscriptions import JournaledEvent
from ordergate.oms import Oms
from ordergate.simulators.bybit import RemoteSimulator, ccxt_settings
from ordergate.simulators.bybit.process import simulator_process

SYMBOL = "BTCUSDT"
CCXT_SYMBOL = "BTC/USDT:USDT"
QTY = Decimal("0.001")
PRICE = Decimal("40000.0")  # far below the simulated market: the order rests
TIMEOUT_MS = 10_000
BARE = "bare ccxt create_order"


@contextlib.asynccontextmanager
async def simulator() -> AsyncIterator[RemoteSimulator]:
    """The simulator as its own process, a still market, no rate limits."""
    flags = ("--market", "manual", "--no-rate-limits", "--usdt", "1000000000")
    async with simulator_process(free_port(), *flags) as remote, aiohttp.ClientSession() as http:
        quote = {"symbol": SYMBOL, "bid": "50000.0", "ask": "50010.0"}
        async with http.post(f"{remote.rest_url}/sim/quote", json=quote) as answer:
            answer.raise_for_status()
        yield remote


async def cancel_everything(exchange: Any) -> None:
    await exchange.cancel_all_orders(CCXT_SYMBOL)


async def bare_ccxt(exchange: Any, tag: str, n: int, concurrency: int) -> Figures:
    async def place(i: int) -> None:
        order = await exchange.create_order(
            CCXT_SYMBOL, "limit", "buy", str(QTY), str(PRICE), {"orderLinkId": f"{tag}-{i}"}
        )
        assert order["id"]

    latencies, elapsed = await timed(n, concurrency, place)
    return Figures.of(latencies, elapsed)


def ordergate_settings(remote: RemoteSimulator, db: str) -> Settings:
    return Settings(
        venue="bybit-sim",
        sim_url=remote.rest_url,
        db=db,
        venue_request_rate=Decimal(1_000_000),
        venue_request_burst=1_000_000,
        venue_request_timeout=TIMEOUT_MS / 1000,
        reconcile_interval_seconds=3600,
        api_wait_ms=30_000,
    )


async def ordergate(
    remote: RemoteSimulator, db: str, n: int, concurrency: int
) -> tuple[Figures, Figures]:
    """(place → submitted, place → accepted) through `Oms.place`."""
    async with Oms(ordergate_settings(remote, db)) as oms:
        started: dict[str, float] = {}
        submitted: dict[str, float] = {}

        def on_event(item: JournaledEvent) -> None:
            event = item.event
            if isinstance(event, OrderSubmitted | OrderAccepted):
                submitted.setdefault(event.order_id, time.perf_counter())

        oms.subscribe(on_event)

        async def place(i: int) -> None:
            start = time.perf_counter()
            order = await oms.place(SYMBOL, Side.BUY, QTY, OrderType.LIMIT, price=PRICE)
            started[order.order_id] = start
            assert order.status is OrderStatus.ACCEPTED, order

        latencies, elapsed = await timed(n, concurrency, place)
        to_submitted = [submitted[oid] - start for oid, start in started.items()]
        return Figures.of(to_submitted, elapsed), Figures.of(latencies, elapsed)


async def one_run(
    remote: RemoteSimulator, run: int, n: int, concurrency: int, journals: list[str]
) -> dict[tuple[str, int], Figures]:
    results: dict[tuple[str, int], Figures] = {}
    exchange = ccxt_rest.bybit(ccxt_settings(remote, timeout_ms=TIMEOUT_MS))
    try:
        await exchange.load_markets()
        for load in (1, concurrency):
            await cancel_everything(exchange)
            results[(BARE, load)] = await bare_ccxt(exchange, f"r{run}c{load}", n, load)
            for journal in journals:
                await cancel_everything(exchange)
                with tempfile.TemporaryDirectory() as tmp:
                    db = ":memory:" if journal == "memory" else str(Path(tmp) / "bench.db")
                    to_submitted, to_accepted = await ordergate(remote, db, n, load)
                results[(f"ordergate ({journal}) → submitted", load)] = to_submitted
                results[(f"ordergate ({journal}) → accepted", load)] = to_accepted
        await cancel_everything(exchange)
    finally:
        await exchange.close()
    return results


async def main_async(args: argparse.Namespace) -> None:
    journals = journals_of(args.journal)
    runs: list[dict[tuple[str, int], Figures]] = []
    async with simulator() as remote:
        for run in range(args.runs):
            results = await one_run(remote, run, args.orders, args.concurrency, journals)
            print_table(f"run {run + 1}", results, ratios(results, BARE))
            runs.append(results)
    print_medians(runs, BARE)


def main() -> None:
    parser = arguments(__doc__, "orders per pass (≤ 500)", runs=3)
    args = parser.parse_args()
    if not 0 < args.orders <= 500:
        parser.error("--orders must be in 1..500: Bybit keeps at most 500 open orders a symbol")
    configure_logging("WARNING", json=False)
    tune_garbage_collector()  # as `ordergate serve` does
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
