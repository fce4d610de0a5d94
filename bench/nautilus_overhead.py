"""ordergate's overhead on top of NautilusTrader's simulated exchange, as a ratio.

One workload, three ways, each in a child process of its own (so each peak RSS is its
own, and NautilusTrader's process-wide kernel state never carries over):

- ordergate: `Engine.place` on the `nautilus` venue (`venues.nautilus`: one
  `BacktestEngine` stepped once per bar), in-memory journal; latency is place → journaled
  (the call returns once the order's events are journaled).
- bare, one run: NautilusTrader alone, as a NautilusTrader user would write it: every
  quote loaded, one `BacktestEngine.run()`, a strategy submitting the same orders from
  `on_quote_tick`; latency is submit → the order's first event.
- bare, stepped: the same strategy, but the engine driven one `run(streaming=True)` per
  bar as the venue drives it: what stepping alone costs.

Workload (as `bench/engine_throughput.py` builds it): N orders on BTCUSDT over real
1-minute bars (each bar's O→H/L→L/H→C path as quotes, the paper venue's own path), half
market, half limit a few ticks from the touch, sides alternating, one bar every
`--advance-every` orders. The venue and the bare engine are configured alike (MARGIN,
NETTING, L1 book, no message queue, the same quote size and fees).

    python -m bench.nautilus_overhead --orders 5000
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import resource
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from multiprocessing import get_context
from typing import Any

from bench.engine_throughput import ACCOUNT, btc_series, commands, limit_price, place_all
from ordergate.app.observability.metrics import EngineMetrics, MetricsBook
from ordergate.cli.process import tune_garbage_collector
from ordergate.domain.instruments import Instrument
from ordergate.domain.values import Side
from ordergate.engine.commands import AdjustBalance, PlaceOrder
from ordergate.engine.engine import Engine
from ordergate.engine.state import OmsState
from ordergate.matching.feed import FeedStep, ReplayFeed
from ordergate.matching.market import load_demo_market
from ordergate.store.memory import MemoryStore

CASH = Decimal(
    10_000_000
)  # within f64 precision: NautilusTrader checks total - locked == free in floats


def market() -> tuple[Instrument, Callable[[], ReplayFeed], str]:
    """The BTCUSDT instrument (the demo's grid and fees), a maker of fresh feeds, the source."""
    demo = load_demo_market(loop=True)
    btc = next(i for i in demo.instruments if i.symbol == "BTCUSDT")
    series, source = btc_series()
    if series is None:
        return btc, lambda: load_demo_market(loop=True, symbols=["BTCUSDT"]).feed, source
    return btc, lambda: ReplayFeed({"BTCUSDT": series}, loop=True), source


def summary(latencies: list[float], seconds: float, n: int, **extra: float) -> dict[str, float]:
    latencies.sort()
    return {
        "orders_per_s": n / seconds,
        "p50_ms": latencies[len(latencies) // 2] * 1e3,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1e3,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **extra,
    }


# --- (a) through ordergate ---------------------------------------------------------------


def through_ordergate(n: int, window: int, advance_every: int) -> dict[str, float]:
    tune_garbage_collector()  # as `ordergate serve` does
    return asyncio.run(_through_ordergate(n, window, advance_every))


async def _through_ordergate(n: int, window: int, advance_every: int) -> dict[str, float]:
    from ordergate.venues.nautilus import NautilusVenue

    btc, feed, _ = market()
    venue = NautilusVenue([btc], feed(), {ACCOUNT: {"USDT": CASH}}, session="bench")
    await venue.connect()
    venue.advance()
    store = MemoryStore()
    engine = Engine(
        state=OmsState(),
        instruments=[btc],
        journal=store,
        venue=venue,
        clock=venue,
        market_data=venue,
        watch_interval=None,
        observer=EngineMetrics(MetricsBook(), venue.name, 0, None),
    )
    await engine.start()
    await engine.adjust_balance(AdjustBalance(ACCOUNT, "USDT", CASH, "bench"))
    latencies, seconds = await place_all(
        engine, venue, commands(n), window, advance_every, btc.tick_size
    )
    await engine.settle()
    filled = sum(1 for o in engine.state.orders.values() if o.filled_qty > 0)
    events = engine.state.event_count
    await engine.stop()
    await store.close()
    venue.close()
    return summary(latencies, seconds, n, filled=filled, events=events)


# --- (b) NautilusTrader alone ------------------------------------------------------------


def bare(n: int, advance_every: int, stepped: bool) -> dict[str, float]:
    """The same orders, submitted by a strategy straight to a `BacktestEngine`."""
    tune_garbage_collector()
    from nautilus_trader.backtest.engine import BacktestEngine
    from nautilus_trader.config import BacktestEngineConfig, LoggingConfig, RiskEngineConfig
    from nautilus_trader.model.enums import AccountType, BookType, OmsType, OrderSide
    from nautilus_trader.model.enums import TimeInForce as NautilusTif
    from nautilus_trader.model.events import (
        OrderAccepted,
        OrderCanceled,
        OrderDenied,
        OrderEvent,
        OrderFilled,
        OrderRejected,
    )
    from nautilus_trader.model.identifiers import ClientOrderId, Venue
    from nautilus_trader.trading.config import StrategyConfig
    from nautilus_trader.trading.strategy import Strategy

    from ordergate.venues.nautilus import DEFAULT_QUOTE_SIZE
    from ordergate.venues.nautilus.convert import money, perpetual, to_price, to_quantity

    answers = (OrderAccepted, OrderFilled, OrderRejected, OrderDenied, OrderCanceled)
    btc, feed, _ = market()
    venue_id = Venue("OG1")
    instrument = perpetual(btc, venue_id)
    price_precision, size_precision = instrument.price_precision, instrument.size_precision
    size = to_quantity(DEFAULT_QUOTE_SIZE, size_precision)
    work = commands(n)
    batches = [work[i : i + advance_every] for i in range(0, n, advance_every)]
    replay = feed()
    # A bar before each batch, and one after the last (the ordergate leg's last advance).
    steps = [step for step in (replay.next_step() for _ in range(len(batches) + 1)) if step]

    from nautilus_trader.model.data import QuoteTick

    def quotes(step: FeedStep) -> list[Any]:
        return [
            QuoteTick(
                instrument.id,
                to_price(btc.round_price(p.bid), price_precision),
                to_price(btc.round_price(p.ask), price_precision),
                size,
                size,
                step.ts,
                step.ts,
            )
            for update in step.updates
            for p in update.points
        ]

    class Submitter(Strategy):  # type: ignore[misc]
        """Submits the next batch once each bar's last quote is in."""

        def __init__(self) -> None:
            super().__init__(StrategyConfig(strategy_id="Bench-001", log_events=False))
            self.latencies: list[float] = []
            self.first_event: float | None = None
            self.batch = 0
            self.seen: dict[int, int] = {}
            self.points = [sum(len(u.points) for u in s.updates) for s in steps]

        def on_start(self) -> None:
            self.subscribe_quote_ticks(instrument.id)

        def on_quote_tick(self, tick: Any) -> None:
            b = self.batch
            if b >= len(batches):
                return
            self.seen[b] = self.seen.get(b, 0) + 1
            if self.seen[b] < self.points[b]:
                return  # the bar's path goes on
            self.batch += 1
            for number, (command, offset) in enumerate(batches[b]):
                self.submit(b * advance_every + number, command, offset, tick)

        def submit(self, i: int, command: PlaceOrder, offset: int, tick: Any) -> None:
            side = OrderSide.BUY if command.side is Side.BUY else OrderSide.SELL
            qty = to_quantity(command.qty, size_precision)
            coid = ClientOrderId(f"B-{i}")
            factory = self.order_factory
            if offset:
                bid, ask = Decimal(str(tick.bid_price)), Decimal(str(tick.ask_price))
                price = limit_price(command.side, bid, ask, offset, btc.tick_size)
                order = factory.limit(
                    instrument.id, side, qty, to_price(price, price_precision), client_order_id=coid
                )
            else:
                order = factory.market(
                    instrument.id, side, qty, time_in_force=NautilusTif.GTC, client_order_id=coid
                )
            self.first_event = None
            start = time.perf_counter()
            self.submit_order(order)
            answered = self.first_event if self.first_event is not None else time.perf_counter()
            self.latencies.append(answered - start)

        def on_order_event(self, event: OrderEvent) -> None:
            # The exchange's answer (OrderInitialized and OrderSubmitted come before it).
            if self.first_event is None and isinstance(event, answers):
                self.first_event = time.perf_counter()

    engine = BacktestEngine(
        BacktestEngineConfig(
            trader_id="BENCH-001",
            logging=LoggingConfig(bypass_logging=True),
            risk_engine=RiskEngineConfig(max_order_submit_rate="100000/00:00:01"),
            run_analysis=False,
        )
    )
    engine.add_venue(
        venue=venue_id,
        oms_type=OmsType.NETTING,
        account_type=AccountType.MARGIN,
        base_currency=None,
        starting_balances=[money(CASH, "USDT")],
        default_leverage=Decimal(1),
        book_type=BookType.L1_MBP,
        use_message_queue=False,
        bar_execution=False,
    )
    engine.add_instrument(instrument)
    strategy = Submitter()
    engine.add_strategy(strategy)
    gc.collect()
    if stepped:
        now = steps[0].ts - 1
        started = time.perf_counter()
        for step in steps:
            engine.clear_data()
            engine.add_data(quotes(step), validate=False, sort=False)
            engine.run(start=now, end=step.ts, streaming=True)
            now = step.ts
    else:
        engine.add_data([q for step in steps for q in quotes(step)], validate=False, sort=False)
        started = time.perf_counter()
        engine.run()
    seconds = time.perf_counter() - started
    filled = sum(1 for o in engine.cache.orders() if o.filled_qty.as_double() > 0)
    engine.dispose()
    return summary(
        strategy.latencies,
        seconds,
        len(strategy.latencies),
        filled=filled,
        orders=len(strategy.latencies),
    )


def in_child(function: Callable[..., dict[str, float]], *args: Any) -> dict[str, float]:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=5_000)
    parser.add_argument("--advance-every", type=int, default=10, help="orders per market bar")
    parser.add_argument("--window", type=int, default=1, help="ordergate: placements in flight")
    args = parser.parse_args()
    _, _, source = market()
    n, every = args.orders, args.advance_every
    print(f"{n} orders on BTCUSDT, half market half limit, one bar per {every}; bars: {source}")
    rows = {
        f"ordergate (window {args.window})": in_child(through_ordergate, n, args.window, every),
        "bare, one run": in_child(bare, n, every, False),
        "bare, stepped": in_child(bare, n, every, True),
    }
    print(f"{'':26} {'orders/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'peak MiB':>9} {'filled':>7}")
    for name, r in rows.items():
        print(
            f"{name:26} {r['orders_per_s']:9.0f} {r['p50_ms']:8.3f} {r['p99_ms']:8.3f} "
            f"{r['peak_rss_mib']:9.0f} {r['filled']:7.0f}"
        )
    ours = next(iter(rows.values()))["orders_per_s"]
    for name in ("bare, one run", "bare, stepped"):
        print(f"ordergate's overhead vs {name}: {rows[name]['orders_per_s'] / ours:.2f}x")


if __name__ == "__main__":
    main()
