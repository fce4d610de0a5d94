"""The runner's examples end to end on paper, in each mode, read back from the journal.

- live: the orders are sent and filled (also on NautilusTrader's simulated exchange);
- dry-run: every decision is journaled with its risk verdict (PLANNED, or DENIED) and
  nothing is sent: no fill, no position;
- shadow: the orders fill in the shadow book (venue ids `shadow-...`), fed by the paper
  venue's quotes.

Live and dry-run step a held paper market bar by bar (`paper_bars_per_second = 0`), so
each run is the same. Shadow wraps the paper venue in a book only its own feed reads: it
runs on a paced market (fast), and the assertions hold whatever the pace.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ordergate.config.settings import Settings
from ordergate.domain.values import OrderStatus
from ordergate.engine.views import FillView, OrderView, PositionView
from ordergate.oms import BlockingOms
from ordergate.unified.engines import settings_for
from ordergate.unified.runner import RunOptions, RunSummary, load_strategy, run_strategy

EXAMPLES = Path(__file__).parents[3] / "examples"

REBALANCE: dict[str, Any] = {"weights": {"BTCUSDT": 0.5, "EURUSD": 0.3}, "every": 5}
FOLLOW: dict[str, Any] = {
    "symbols": ["BTCUSDT"],
    "qty": {"BTCUSDT": 0.01},
    "fast": 3,
    "slow": 8,
}
CASES = {
    "rebalance": ("rebalance.py:Rebalancer", REBALANCE, 12),
    "signal_follower": ("signal_follower.py:SignalFollower", FOLLOW, 60),
}


@dataclass
class Journal:
    orders: list[OrderView]
    fills: list[FillView]
    positions: list[PositionView]


def settings_of(db: Path, mode: str, engine: str = "paper") -> Settings:
    # Shadow reads a moving market; the others step a held one. The runner steps a held
    # market only on the paper venue (`app.market_steps`): NautilusTrader's moves.
    pace = 25.0 if mode == "shadow" or engine != "paper" else 0.0
    return settings_for(engine, mode, db=str(db), paper_bars_per_second=pace)


def run_example(name: str, mode: str, db: Path, engine: str = "paper") -> RunSummary:
    spec, config, bars = CASES[name]
    strategy = load_strategy(str(EXAMPLES / spec))
    options = RunOptions(config=config, bars=bars, poll_interval=0.005)
    return run_strategy(settings_of(db, mode, engine), strategy, options, say=lambda _: None)


@contextmanager
def reopened(db: Path, mode: str, engine: str = "paper") -> Iterator[BlockingOms]:
    """The run's journal, opened again (in its own mode, the market held still)."""
    settings = settings_for(engine, mode, db=str(db), paper_bars_per_second=0)
    with BlockingOms(settings) as oms:
        yield oms


def journal_of(db: Path, mode: str, strategy: str, engine: str = "paper") -> Journal:
    with reopened(db, mode, engine) as oms:
        orders = oms.orders(strategy=strategy, limit=1000).items
        fills = oms.fills(limit=1000).items
        return Journal(orders, fills, oms.positions())


@pytest.mark.parametrize("name", list(CASES))
def test_example_live_sends_orders_that_fill(name: str, isolated_environment: Path) -> None:
    db = isolated_environment / "live.db"

    summary = run_example(name, "live", db)

    assert (summary.stopped_by, summary.mode) == ("bars", "live")
    journal = journal_of(db, "live", summary.strategy)
    assert journal.orders, "the example placed no order"
    assert {o.status for o in journal.orders} == {OrderStatus.FILLED}
    assert {f.order_id for f in journal.fills} == {o.order_id for o in journal.orders}
    assert summary.orders == {"FILLED": len(journal.orders)}


@pytest.mark.parametrize("name", list(CASES))
def test_example_live_on_nautilus_sends_orders_that_fill(
    name: str, isolated_environment: Path
) -> None:
    # The same run on NautilusTrader's simulated exchange (a moving market), reopened
    # there (a restart).
    db = isolated_environment / "nautilus.db"

    summary = run_example(name, "live", db, engine="nautilus")

    assert (summary.stopped_by, summary.mode) == ("bars", "live")
    journal = journal_of(db, "live", summary.strategy, engine="nautilus")
    assert journal.orders, "the example placed no order"
    assert {o.status for o in journal.orders} == {OrderStatus.FILLED}
    assert {f.order_id for f in journal.fills} == {o.order_id for o in journal.orders}


@pytest.mark.parametrize("name", list(CASES))
def test_example_dry_run_journals_decisions_and_sends_nothing(
    name: str, isolated_environment: Path
) -> None:
    db = isolated_environment / "dry.db"

    summary = run_example(name, "dry-run", db)

    assert summary.stopped_by == "bars"
    journal = journal_of(db, "dry-run", summary.strategy)
    assert journal.orders, "the example decided nothing"
    assert {o.status for o in journal.orders} <= {OrderStatus.PLANNED, OrderStatus.DENIED}
    assert all(o.venue_order_id is None for o in journal.orders)
    assert (journal.fills, journal.positions) == ([], [])


@pytest.mark.parametrize("name", list(CASES))
def test_example_shadow_fills_in_the_shadow_book(name: str, isolated_environment: Path) -> None:
    db = isolated_environment / "shadow.db"

    summary = run_example(name, "shadow", db)

    assert summary.stopped_by == "bars"
    journal = journal_of(db, "shadow", summary.strategy)
    filled = [o for o in journal.orders if o.status is OrderStatus.FILLED]
    assert filled, f"no order filled in the shadow book: {summary.orders}"
    assert all((o.venue_order_id or "").startswith("shadow-") for o in filled)


def test_example_rebalance_holds_its_weights_on_the_step(isolated_environment: Path) -> None:
    db = isolated_environment / "live.db"

    run_example("rebalance", "live", db)

    with reopened(db, "live") as oms:
        held = {p.symbol: p.qty for p in oms.positions()}
    assert set(held) == {"BTCUSDT", "EURUSD"}
    # Sized to its weight and rounded down to the instrument's step, by the example and
    # by ordergate: 0.5 of ~100,000 at ~47,000 a BTC, 0.3 at ~1.09 a 100,000-EUR lot.
    assert held["BTCUSDT"] % Decimal("0.001") == 0
    assert held["EURUSD"] % Decimal("0.01") == 0
    assert Decimal("0.9") < held["BTCUSDT"] < Decimal("1.2")
    assert Decimal("0.2") < held["EURUSD"] < Decimal("0.3")
