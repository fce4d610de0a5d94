"""The place path with the whole risk pack enabled, beside the same path with none.

Same workload as `engine_throughput` (orders through engine + paper venue, in-memory
journal, place → journaled), run alternately with no limits and with every limit of
`RiskLimits` set, generously enough that every order passes every check: the figure is
the cost of running the checks, not of denying. Reported: orders/s and p50/p99 of each,
and the ratio, medians over `--runs` alternating pairs.

    python -m bench.risk_overhead --orders 20000 --runs 5
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from decimal import Decimal

from bench.engine_throughput import ACCOUNT, btc_series, run_once
from ordergate.cli.process import tune_garbage_collector
from ordergate.domain.limits import LimitsBook, Rate, RiskLimits
from ordergate.domain.values import OrderType

EVERY_LIMIT = RiskLimits(
    min_qty=Decimal("0.001"),
    max_order_qty=Decimal("10"),
    max_order_notional=Decimal("10000000"),
    max_order_size_ratio=Decimal("0.5"),
    max_position_qty=Decimal("100000"),
    max_gross_exposure=Decimal("10000000000"),
    fat_finger_bps=Decimal("500"),
    max_quote_age_ms=3_600_000,
    feed_stale_after_ms=3_600_000,
    allowed_symbols=frozenset({"BTCUSDT"}),
    allowed_order_types=frozenset({OrderType.MARKET, OrderType.LIMIT}),
    max_slippage_bps=Decimal("1000"),
    instrument_submit_rate=Rate(Decimal(1_000_000), 1_000_000),
    account_submit_rate=Rate(Decimal(1_000_000), 1_000_000),
    instrument_cancel_rate=Rate(Decimal(1_000_000), 1_000_000),
    account_cancel_rate=Rate(Decimal(1_000_000), 1_000_000),
    spam_window_ms=0,  # the bookkeeping runs; a zero window never denies
    one_pending_order_per_side=False,
    unrealized_loss_warning_pct=Decimal("50"),
)
EVERY_LEVEL = LimitsBook(
    global_limits=EVERY_LIMIT,
    accounts={ACCOUNT: RiskLimits(max_gross_exposure=Decimal("20000000000"))},
    instruments={"BTCUSDT": RiskLimits(max_position_qty=Decimal("200000"))},
    strategies={"bench": RiskLimits(fat_finger_bps=Decimal("600"))},
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--window", type=int, default=256)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    tune_garbage_collector()
    series, source = btc_series()
    print(f"place path, {args.orders} orders, {args.window} in flight, in-memory journal; {source}")
    print(f"{'risk pack':10} {'orders/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'denied':>7}")
    rows: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
    for _ in range(args.runs):
        for label, limits in (("off", None), ("on", EVERY_LEVEL)):
            r = asyncio.run(run_once("memory", args.orders, args.window, 200, series, limits))
            rows[label].append(r)
            print(
                f"{label:10} {r['orders_per_s']:9.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} "
                f"{r['denied_orders']:7.0f}"
            )
    med = {
        label: {k: statistics.median(r[k] for r in results) for k in results[0]}
        for label, results in rows.items()
    }
    for label in ("off", "on"):
        m = med[label]
        print(
            f"{'median ' + label:10} {m['orders_per_s']:9.0f} {m['p50_ms']:8.2f} {m['p99_ms']:8.2f}"
        )
    ratios = [
        on["orders_per_s"] / off["orders_per_s"]
        for off, on in zip(rows["off"], rows["on"], strict=True)
    ]
    ratio = statistics.median(ratios)
    print(f"throughput with the risk pack: {ratio:.1%} of without (median of the pairs)")


if __name__ == "__main__":
    main()
