"""What ordergate adds on top of robin_stocks: place → Robinhood's confirmation.

The Robinhood simulator runs as its own process (`ordergate simulate robinhood --market
manual`, a large cash balance) and both clients speak to it on loopback through the
real robin_stocks, its one global session redirected to the simulator by ordergate's
own transport adapter (so both pay the same adapter):

- bare robin_stocks: `order_buy_limit` in a worker thread, as a bot would call it; the
  library reads the account, the instrument and the quote (twice) before it posts, and
  the answer is the order, `confirmed`. Latency is the call.
- ordergate: `Oms.place(..., wait=True)` with `venue="robinhood"`: risk checks, the
  journal write before the post (write-ahead), one post through robin_stocks' session
  (the account and instrument are read once at the start, the quote is ordergate's
  own), and the acceptance journaled before `place` returns. The journal is SQLite with
  synchronous=FULL (the default) or in memory.

Each order is a resting buy limit far below the market (it never fills). robin_stocks
keeps its session in module globals, one login for the process, so both clients send
one order at a time (`--concurrency` does not apply), in turn. The medians over `--runs`
are printed last, then the peak resident memory of this process and of the simulator.

    python -m bench.robinhood_overhead --orders 200 --runs 3
"""

from __future__ import annotations

import asyncio
import resource
import tempfile
from decimal import Decimal
from pathlib import Path

import robin_stocks.robinhood as rh
from robin_stocks.robinhood import globals as rh_globals
from robin_stocks.robinhood import helper as rh_helper

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
from ordergate.simulators.robinhood import DEFAULT_PASSWORD, DEFAULT_USERNAME
from ordergate.venues.robinhood.transport import Transport

SYMBOL = "AAPL"
QTY = 1
PRICE = Decimal("100.00")  # far below the simulated market: the order rests
BARE = "bare robin_stocks order_buy_limit"


async def bare_robin_stocks(base_url: str, n: int) -> Figures:
    def log_in() -> None:
        rh_helper.set_output(open("/dev/null", "w"))  # noqa: SIM115 - the process's
        rh_globals.SESSION.mount("https://", Transport(base_url, timeout=10.0))
        rh.login(DEFAULT_USERNAME, DEFAULT_PASSWORD, store_session=False, pickle_path=tokens)

    def buy() -> None:
        order = rh.order_buy_limit(SYMBOL, QTY, float(PRICE))
        assert order["state"] == "confirmed", order

    with tempfile.TemporaryDirectory() as tokens:
        await asyncio.to_thread(log_in)

        async def place(i: int) -> None:
            await asyncio.to_thread(buy)

        latencies, elapsed = await timed(n, 1, place)
    return Figures.of(latencies, elapsed)


def ordergate_settings(base_url: str, db: str) -> Settings:
    return Settings(
        venue="robinhood",
        db=db,
        robinhood_url=base_url,
        robinhood_username=DEFAULT_USERNAME,
        robinhood_password=DEFAULT_PASSWORD,
        robinhood_symbols=[SYMBOL],
        reconcile_interval_seconds=3600,
        api_wait_ms=30_000,
    )


async def ordergate(base_url: str, db: str, n: int) -> Figures:
    """place → accepted through `Oms.place` (the post's answer is the confirmation)."""
    async with Oms(ordergate_settings(base_url, db)) as oms:

        async def place(i: int) -> None:
            order = await oms.place(SYMBOL, Side.BUY, Decimal(QTY), OrderType.LIMIT, price=PRICE)
            assert order.status is OrderStatus.ACCEPTED, order

        latencies, elapsed = await timed(n, 1, place)
    return Figures.of(latencies, elapsed)


async def one_run(base_url: str, n: int, journals: list[str]) -> Results:
    results: Results = {(BARE, 1): await bare_robin_stocks(base_url, n)}
    for journal in journals:
        with tempfile.TemporaryDirectory() as tmp:
            db = ":memory:" if journal == "memory" else str(Path(tmp) / "bench.db")
            results[(f"ordergate ({journal}) → accepted", 1)] = await ordergate(base_url, db, n)
    return results


async def main_async(runs: int, orders: int, journals: list[str], base_url: str) -> None:
    every: list[Results] = []
    for run in range(runs):
        results = await one_run(base_url, orders, journals)
        print_table(f"run {run + 1}", results, ratios(results, BARE))
        every.append(results)
    print_medians(every, BARE)


def main() -> None:
    parser = arguments(__doc__, "orders per pass", runs=1)
    args = parser.parse_args()
    if args.orders < 1 or args.runs < 1:
        parser.error("--orders and --runs must be positive")
    configure_logging("WARNING", json=False)
    tune_garbage_collector()  # as `ordergate serve` does
    port = free_port()
    options = ("--port", str(port), "--market", "manual", "--cash", "1000000000")
    with simulator_process("robinhood", *options, ready=b"Robinhood simulator") as pid:
        base_url = f"http://127.0.0.1:{port}"
        asyncio.run(main_async(args.runs, args.orders, journals_of(args.journal), base_url))
        simulator_mib = peak_rss_mib(pid)
    this_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: this process (both clients) {this_mib:.0f} MiB, ", end="")
    print(f"the simulator {simulator_mib:.0f} MiB (pid {pid}, VmHWM)")


if __name__ == "__main__":
    main()
