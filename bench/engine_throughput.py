"""Orders through engine + paper venue: orders/s and place → journaled latency.

Workload: N orders on BTCUSDT over real 1-minute bars, half market (they fill at once),
half limit a few ticks from the touch (some fill as the market moves: one bar every
`--advance-every` orders), sides alternating. Clients keep `--window` placements in
flight. Latency is measured from the call of `Engine.place` to its return, which happens
only once the order's events are journaled. Run once with the in-memory journal and once
with SQLite (WAL, synchronous=FULL: an fsync per group commit).

    python -m bench.engine_throughput --orders 100000 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from ordergate.domain.instruments import Instrument
from ordergate.domain.values import OrderType, Side
from ordergate.engine.commands import AdjustBalance, PlaceOrder
from ordergate.engine.engine import Engine
from ordergate.engine.state import OmsState
from ordergate.store.memory import MemoryStore
from ordergate.store.sqlite import SqliteStore
from ordergate.venues.paper.feed import ReplayFeed
from ordergate.venues.paper.market import load_demo_market
from ordergate.venues.paper.marketdata import PriceSeries, load_bar_series
from ordergate.venues.paper.venue import PaperVenue

REFERENCE_BARS = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "reference"
    / "market-data"
    / "btc-perp-20211231-20220201_1m.csv"
)
BTC = Instrument(
    symbol="BTCUSDT",
    base_currency="BTC",
    quote_currency="USDT",
    tick_size=Decimal("0.1"),
    lot_step=Decimal("0.001"),
    min_qty=Decimal("0.001"),
    min_notional=Decimal("5"),
    margin_rate=Decimal("0.01"),
    maker_fee_rate=Decimal("0.0002"),
    taker_fee_rate=Decimal("0.00055"),
)
ACCOUNT = "bench"


def btc_series() -> tuple[PriceSeries, str]:
    if REFERENCE_BARS.exists():
        return load_bar_series(REFERENCE_BARS), REFERENCE_BARS.name
    market = load_demo_market()
    return market.feed_series["BTCUSDT"], "bundled demo bars"  # type: ignore[attr-defined]


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
    journal: str, n: int, window: int, advance_every: int, series: PriceSeries
) -> dict[str, float]:
    venue = PaperVenue(
        [BTC],
        ReplayFeed({"BTCUSDT": series}),
        {ACCOUNT: {"USDT": Decimal(10) ** 12}},
        session="bench",
    )
    venue.advance()
    tmp = tempfile.TemporaryDirectory()
    store = MemoryStore() if journal == "memory" else SqliteStore(Path(tmp.name) / "bench.db")
    engine = Engine(
        state=OmsState(),
        instruments=[BTC],
        journal=store,
        venue=venue,
        clock=venue,
        market_data=venue,
    )
    await engine.start()
    await engine.adjust_balance(AdjustBalance(ACCOUNT, "USDT", Decimal(10) ** 12, "bench"))
    work = commands(n)
    latencies: list[float] = []
    placed = 0
    tick = BTC.tick_size

    async def client(k: int) -> None:
        nonlocal placed
        for i in range(k, n, window):
            command, offset = work[i]
            if offset:
                quote = venue.quote("BTCUSDT")
                assert quote is not None
                if command.side is Side.BUY:
                    price = quote.bid - offset * tick
                else:
                    price = quote.ask + offset * tick
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
    placed_s = time.perf_counter() - started
    await engine.settle()
    settled_s = time.perf_counter() - started
    state = engine.state
    fills = sum(1 for o in state.orders.values() if o.filled_qty > 0)
    events = state.event_count
    await engine.stop()
    await store.close()
    tmp.cleanup()
    latencies.sort()
    return {
        "orders_per_s": n / placed_s,
        "settled_orders_per_s": n / settled_s,
        "events": events,
        "filled_orders": fills,
        "p50_ms": latencies[len(latencies) // 2] * 1e3,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1e3,
        "max_ms": latencies[-1] * 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--window", type=int, default=256, help="placements in flight")
    parser.add_argument("--advance-every", type=int, default=200, help="orders per market bar")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--journal", choices=["memory", "sqlite", "both"], default="both")
    args = parser.parse_args()
    series, source = btc_series()
    journals = ["memory", "sqlite"] if args.journal == "both" else [args.journal]
    print(
        f"engine + paper venue, {args.orders} orders (half market, half limit), "
        f"window {args.window}, bars: {source}"
    )
    header = ("journal", "orders/s", "settled/s", "p50 ms", "p99 ms", "max ms", "events", "filled")
    print("{:8} {:>10} {:>10} {:>8} {:>8} {:>8} {:>8} {:>7}".format(*header))
    for journal in journals:
        results = [
            asyncio.run(run_once(journal, args.orders, args.window, args.advance_every, series))
            for _ in range(args.runs)
        ]
        for r in results:
            print(
                f"{journal:8} {r['orders_per_s']:10.0f} {r['settled_orders_per_s']:10.0f} "
                f"{r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {r['max_ms']:8.2f} "
                f"{r['events']:8.0f} {r['filled_orders']:7.0f}"
            )
        med = {k: statistics.median(r[k] for r in results) for k in results[0]}
        print(
            f"{'median':8} {med['orders_per_s']:10.0f} {med['settled_orders_per_s']:10.0f} "
            f"{med['p50_ms']:8.2f} {med['p99_ms']:8.2f} {med['max_ms']:8.2f}"
        )


if __name__ == "__main__":
    main()
