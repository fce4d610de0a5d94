"""Orders through engine + paper venue: orders/s and place → journaled latency.

Workload: N orders on BTCUSDT over real 1-minute bars, half market (they fill at once),
half limit a few ticks from the touch (some fill as the market moves: one bar every
`--advance-every` orders), sides alternating. Latency is measured from the call of
`Engine.place` to its return, which happens only once the order's events are journaled.
Each journal (in-memory; SQLite in WAL mode with synchronous=FULL, an fsync per group
commit; PostgreSQL with `--pg-dsn`, a fresh schema per run, one fenced statement per group
commit and the server's synchronous_commit) runs twice:

- loaded: `--window` clients keep placements in flight (throughput; the latency is then
  mostly the queue: about window / throughput);
- one at a time: a single client, one order in flight (the latency of one placement).

    python -m bench.engine_throughput --orders 30000 --runs 3
    python -m bench.engine_throughput --journal durable --pg-dsn postgresql://postgres@127.0.0.1/test

The bars are the real BTC perpetual file of ../shared/reference; without it, the bundled
demo's BTCUSDT bars.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import secrets
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Protocol

import asyncpg

from ordergate.app.observability.metrics import EngineMetrics, MetricsBook
from ordergate.cli.process import tune_garbage_collector
from ordergate.domain.instruments import Instrument
from ordergate.domain.limits import LimitsBook
from ordergate.domain.values import OrderStatus, OrderType, Side
from ordergate.engine.commands import AdjustBalance, PlaceOrder
from ordergate.engine.engine import Engine
from ordergate.engine.state import OmsState
from ordergate.engine.venue_reports import Quote
from ordergate.matching.feed import ReplayFeed
from ordergate.matching.market import load_demo_market
from ordergate.matching.marketdata import PriceSeries, load_bar_series
from ordergate.store.memory import MemoryStore
from ordergate.store.postgres import PostgresStore
from ordergate.store.sqlite import SqliteStore
from ordergate.venues.paper.venue import PaperVenue

REFERENCE_BARS = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "reference"
    / "market-data"
    / "btc-perp-20211231-20220201_1m.csv"
)
ACCOUNT = "bench"


def btc_series() -> tuple[PriceSeries | None, str]:
    """The reference BTC bars, or None to use the bundled demo market."""
    if REFERENCE_BARS.exists():
        return load_bar_series(REFERENCE_BARS), REFERENCE_BARS.name
    return None, "bundled demo bars (../shared/reference is absent)"


def paper_venue(series: PriceSeries | None) -> tuple[PaperVenue, Instrument]:
    """A fresh venue (feeds are stateful) and the BTCUSDT instrument it trades.

    The instrument is the bundled demo's (Bybit-like grid and fees); the bars are the
    reference file's when it is there.
    """
    balances = {ACCOUNT: {"USDT": Decimal(10) ** 12}}
    market = load_demo_market(loop=True)
    btc = next(i for i in market.instruments if i.symbol == "BTCUSDT")
    if series is not None:
        feed = ReplayFeed({"BTCUSDT": series})
        return PaperVenue([btc], feed, balances, session="bench"), btc
    return PaperVenue.from_market(market, balances, session="bench"), btc


def commands(n: int) -> list[tuple[PlaceOrder, int]]:
    """(command, limit offset in ticks or 0 for market); prices are set at send time."""
    out = []
    for i in range(n):
        side = Side.BUY if i % 2 == 0 else Side.SELL
        qty = Decimal("0.001") * (1 + i % 5)
        if i % 4 < 2:
            out.append((PlaceOrder(ACCOUNT, "BTCUSDT", side, qty), 0))
        else:
            offset = 1 + (i * 7) % 20
            out.append(
                (
                    PlaceOrder(ACCOUNT, "BTCUSDT", side, qty, OrderType.LIMIT, price=Decimal(1)),
                    offset,
                )
            )
    return out


async def run_once(
    journal: str,
    n: int,
    window: int,
    advance_every: int,
    series: PriceSeries | None,
    limits: LimitsBook | None = None,
    pg_dsn: str | None = None,
    metrics: bool = True,
) -> dict[str, float]:
    venue, btc = paper_venue(series)
    venue.advance()
    tmp = tempfile.TemporaryDirectory()
    schema = f"og_bench_{secrets.token_hex(6)}"
    store: MemoryStore | SqliteStore | PostgresStore
    if journal == "memory":
        store = MemoryStore()
    elif journal == "sqlite":
        store = SqliteStore(Path(tmp.name) / "bench.db")
    else:
        assert pg_dsn is not None
        store = await PostgresStore.open(await _schema(pg_dsn, schema), owner="bench")
    engine = Engine(
        state=OmsState(),
        instruments=[btc],
        journal=store,
        venue=venue,
        clock=venue,
        market_data=venue,
        limits=limits,
        watch_interval=None,
        # As `ordergate serve` runs it: the metrics observer counts every journaled event.
        observer=EngineMetrics(MetricsBook(), venue.name, 0, None) if metrics else None,
    )
    await engine.start()
    await engine.adjust_balance(AdjustBalance(ACCOUNT, "USDT", Decimal(10) ** 12, "bench"))
    latencies, placed_s = await place_all(
        engine, venue, commands(n), window, advance_every, btc.tick_size
    )
    await engine.settle()
    state = engine.state
    fills = sum(1 for o in state.orders.values() if o.filled_qty > 0)
    denied = sum(1 for o in state.orders.values() if o.status is OrderStatus.DENIED)
    events = state.event_count
    await engine.stop()
    await store.close()
    tmp.cleanup()
    if journal == "postgres":
        assert pg_dsn is not None
        await _drop(pg_dsn, schema)
    latencies.sort()
    return {
        "orders_per_s": n / placed_s,
        "events": events,
        "filled_orders": fills,
        "denied_orders": denied,
        "p50_ms": latencies[len(latencies) // 2] * 1e3,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1e3,
        "max_ms": latencies[-1] * 1e3,
    }


class SteppedMarket(Protocol):
    """A venue the bench prices limits from and moves a bar at a time."""

    def quote(self, symbol: str) -> Quote | None: ...

    def advance(self) -> bool: ...


async def place_all(
    engine: Engine,
    venue: SteppedMarket,
    work: list[tuple[PlaceOrder, int]],
    window: int,
    advance_every: int,
    tick: Decimal,
) -> tuple[list[float], float]:
    """Place `work` from `window` concurrent clients, a limit `offset` ticks from the
    touch, one bar every `advance_every` orders; (each placement's latency, seconds)."""
    latencies: list[float] = []
    placed = 0

    async def client(k: int) -> None:
        nonlocal placed
        for i in range(k, len(work), window):
            command, offset = work[i]
            if offset:
                quote = venue.quote("BTCUSDT")
                assert quote is not None
                price = limit_price(command.side, quote.bid, quote.ask, offset, tick)
                command = PlaceOrder(
                    ACCOUNT, "BTCUSDT", command.side, command.qty, OrderType.LIMIT, price=price
                )
            start = time.perf_counter()
            await engine.place(command)
            latencies.append(time.perf_counter() - start)
            placed += 1
            if placed % advance_every == 0:
                venue.advance()

    gc.collect()
    started = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(window)))
    return latencies, time.perf_counter() - started


def limit_price(side: Side, bid: Decimal, ask: Decimal, offset: int, tick: Decimal) -> Decimal:
    """A passive limit `offset` ticks away from the touch."""
    return bid - offset * tick if side is Side.BUY else ask + offset * tick


async def _schema(dsn: str, schema: str) -> str:
    """A fresh schema, and a DSN whose connections use it."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await connection.close()
    separator = "&" if "?" in dsn else "?"
    return f"{dsn}{separator}options=-csearch_path%3D{schema}"


async def _drop(dsn: str, schema: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=30_000, help="orders per loaded run")
    parser.add_argument("--window", type=int, default=256, help="placements in flight, loaded")
    parser.add_argument(
        "--single-orders", type=int, default=3_000, help="orders per one-at-a-time run"
    )
    parser.add_argument("--advance-every", type=int, default=200, help="orders per market bar")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--journal",
        choices=["memory", "sqlite", "postgres", "both", "durable"],
        default="both",
        help="both: memory and sqlite; durable: sqlite and postgres (needs --pg-dsn)",
    )
    parser.add_argument("--pg-dsn", default=None, help="PostgreSQL for --journal postgres")
    parser.add_argument(
        "--no-metrics",
        action="store_true",
        help="run the engine without its metrics observer (to measure what it costs)",
    )
    args = parser.parse_args()
    tune_garbage_collector()  # as `ordergate serve` does
    series, source = btc_series()
    journals = {"both": ["memory", "sqlite"], "durable": ["sqlite", "postgres"]}.get(
        args.journal, [args.journal]
    )
    if "postgres" in journals and args.pg_dsn is None:
        parser.error("--journal postgres and durable need --pg-dsn")
    print(f"engine + paper venue, half market half limit orders on BTCUSDT; bars: {source}")
    header = ("journal", "load", "orders/s", "p50 ms", "p99 ms", "max ms", "events", "filled")
    print("{:8} {:>12} {:>9} {:>8} {:>8} {:>8} {:>8} {:>7}".format(*header))
    for journal in journals:
        for window, orders in ((args.window, args.orders), (1, args.single_orders)):
            load = f"{window} in flight"
            results = [
                asyncio.run(
                    run_once(
                        journal,
                        orders,
                        window,
                        args.advance_every,
                        series,
                        pg_dsn=args.pg_dsn,
                        metrics=not args.no_metrics,
                    )
                )
                for _ in range(args.runs)
            ]
            for r in results:
                print(
                    f"{journal:8} {load:>12} {r['orders_per_s']:9.0f} {r['p50_ms']:8.3f} "
                    f"{r['p99_ms']:8.3f} {r['max_ms']:8.3f} {r['events']:8.0f} "
                    f"{r['filled_orders']:7.0f}"
                )
            med = {k: statistics.median(r[k] for r in results) for k in results[0]}
            print(
                f"{'median':8} {load:>12} {med['orders_per_s']:9.0f} {med['p50_ms']:8.3f} "
                f"{med['p99_ms']:8.3f} {med['max_ms']:8.3f}"
            )


if __name__ == "__main__":
    main()
