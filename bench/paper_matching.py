"""Paper venue matching throughput: `advance()` over a month of 1-minute BTC bars.

300 limit orders rest around the first close; the month's fall fills the buys one after
another. Reports steps/s over `--runs` runs (median). Needs the reference market data
(`../shared/reference/market-data/btc-perp-20211231-20220201_1m.csv`).

    python -m bench.paper_matching --runs 5
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from decimal import Decimal
from pathlib import Path

from ordergate.domain.instruments import Instrument
from ordergate.domain.values import OrderType, Side, TimeInForce
from ordergate.engine.venue_reports import VenueOrderRequest
from ordergate.matching import ReplayFeed, load_bar_series
from ordergate.venues.paper import PaperVenue

BTC_FILE = (
    Path(__file__).resolve().parents[2]
    / "shared/reference/market-data/btc-perp-20211231-20220201_1m.csv"
)
BTC = Instrument(
    symbol="BTCUSDT",
    base_currency="BTC",
    quote_currency="USDT",
    tick_size=Decimal("0.1"),
    lot_step=Decimal("0.001"),
    min_qty=Decimal("0.001"),
    contract_size=Decimal(1),
    margin_rate=Decimal("0.01"),
    maker_fee_rate=Decimal("0.0002"),
    taker_fee_rate=Decimal("0.00055"),
)


async def one_run(series_path: Path) -> tuple[int, float, int]:
    venue = PaperVenue(
        [BTC],
        ReplayFeed({"BTCUSDT": load_bar_series(series_path)}),
        {"acc": {"USDT": Decimal(10**9)}},
        session="bench",
    )
    await venue.connect()
    venue.advance()
    for number in range(300):
        buy = number < 150
        price = Decimal(33_000 + 87 * number) if buy else Decimal(46_400 + 100 * (number - 150))
        side = Side.BUY if buy else Side.SELL
        await venue.submit_order(
            VenueOrderRequest(
                f"c{number}",
                "acc",
                "BTCUSDT",
                side,
                OrderType.LIMIT,
                Decimal("0.001"),
                price,
                None,
                TimeInForce.GTC,
                False,
            )
        )
    started = time.perf_counter()
    steps = 0
    while venue.advance():
        steps += 1
    elapsed = time.perf_counter() - started
    return steps, elapsed, 300 - len(await venue.get_open_orders("acc"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--file", type=Path, default=BTC_FILE)
    args = parser.parse_args()
    if not args.file.is_file():
        parser.error(f"market data not found: {args.file}")
    rates = []
    for _ in range(args.runs):
        steps, elapsed, filled = asyncio.run(one_run(args.file))
        rates.append(steps / elapsed)
        print(f"{steps} steps in {elapsed:.2f} s = {steps / elapsed:,.0f} steps/s, {filled} filled")
    print(f"median: {statistics.median(rates):,.0f} steps/s over {args.runs} runs")


if __name__ == "__main__":
    main()
