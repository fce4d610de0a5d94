"""Seed 004's own usage of its interface, unchanged, on ordergate's paper venue, on
NautilusTrader's simulated exchange (`nautilus`) and on the Bybit simulator (ccxt against
it, in process): connect, the account, a market and a limit order, the positions, a
partial close, the emergency flatten, disconnect.

`seed_usage` is written as seed 004's runner would write it: against `ExecutionEngine`,
with floats, reading answers as floats.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.waiting import eventually_sync

from ordergate.unified import (
    AsyncOrdergateEngine,
    ExecutionEngine,
    OrdergateEngine,
    OrderSide,
    OrderType,
    UnifiedOrderRequest,
    connect,
    connect_async,
)

SYMBOL = "BTCUSDT"
D = Decimal


def seed_usage(engine: ExecutionEngine, far_below: float) -> None:
    """The seed's calls in the seed's order; `far_below` a limit price that rests."""
    engine.connect()  # connected already: a second connect does nothing
    state = engine.get_account_state()
    assert state.currency == "USDT"
    assert state.balance > 0
    assert state.equity == state.balance  # nothing held yet
    assert state.available_margin <= state.equity

    market = engine.submit_order(
        UnifiedOrderRequest(symbol=SYMBOL, side=OrderSide.BUY, quantity=0.02, ref_id="seed-m1")
    )
    assert market.status == "FILLED", market
    assert float(market.filled_qty) == 0.02
    assert market.avg_fill_price > 0
    assert market.error is None

    again = engine.submit_order(UnifiedOrderRequest(SYMBOL, OrderSide.BUY, 0.02, ref_id="seed-m1"))
    assert again.id == market.id  # ref_id is the idempotency key: one order

    limit = engine.submit_order(
        UnifiedOrderRequest(
            SYMBOL, OrderSide.BUY, 0.01, OrderType.LIMIT, price=far_below, ref_id="seed-l1"
        )
    )
    assert limit.status == "PENDING", limit
    assert limit.filled_qty == 0.0

    (position,) = engine.get_positions()
    assert (position.symbol, position.side, position.quantity) == (SYMBOL, OrderSide.BUY, 0.02)
    assert position.avg_price == market.avg_fill_price
    assert isinstance(float(position.unrealized_pnl), float)

    after = engine.get_account_state()
    assert after.used_margin > state.used_margin

    partial = engine.close_position(SYMBOL, 0.01)
    assert partial.status == "FILLED", partial
    assert partial.filled_qty == 0.01
    assert [p.quantity for p in engine.get_positions()] == [0.01]

    closed = engine.close_all()
    assert [(r.status, r.filled_qty) for r in closed] == [("FILLED", 0.01)], closed
    assert engine.get_positions() == []

    nothing = engine.close_position(SYMBOL)
    assert (nothing.status, nothing.reason_code) == ("REJECTED", "NO_POSITION")
    assert nothing.error is not None
    assert nothing.error.startswith("NO_POSITION: ")

    engine.disconnect()
    engine.disconnect()  # idempotent


def status_of(engine: OrdergateEngine, order_id: str) -> str:
    result = engine.get_order(order_id)
    assert result is not None
    return result.status


def test_seed_usage_on_paper(isolated_environment: Path) -> None:
    # The demo account holds 100,000 USD and USDT; BTCUSDT's margin is in USDT.
    engine = connect(
        engine="paper", db=":memory:", paper_bars_per_second=0, account_currency="USDT"
    )
    assert engine.get_account_state().currency == "USDT"
    try:
        seed_usage(engine, far_below=10000.0)
    finally:
        engine.disconnect()


def test_seed_usage_limit_canceled_by_close_all_on_paper(isolated_environment: Path) -> None:
    with connect(engine="paper", db=":memory:", paper_bars_per_second=0) as engine:
        limit = engine.submit_order(
            UnifiedOrderRequest(SYMBOL, OrderSide.SELL, 0.01, OrderType.LIMIT, price=99999.0)
        )
        assert limit.status == "PENDING"

        assert engine.close_all() == []  # no position: no closing order

        assert status_of(engine, limit.id) == "CANCELED"


def test_submit_order_a_risk_denial_is_rejected_with_its_reason(isolated_environment: Path):
    with connect(engine="paper", db=":memory:", paper_bars_per_second=0) as engine:
        result = engine.submit_order(UnifiedOrderRequest(SYMBOL, OrderSide.BUY, 1000))

        assert (result.status, result.ordergate_status) == ("REJECTED", "DENIED")
        assert result.reason_code == "INSUFFICIENT_MARGIN"
        assert result.error is not None
        assert result.error.startswith("INSUFFICIENT_MARGIN: ")


def test_submit_order_without_waiting_answers_pending_at_once(isolated_environment: Path):
    with connect(
        engine="paper", db=":memory:", paper_bars_per_second=0, wait_for_venue=False
    ) as engine:
        result = engine.submit_order(UnifiedOrderRequest(SYMBOL, OrderSide.BUY, 0.01))

        assert result.status == "PENDING"
        eventually_sync(lambda: status_of(engine, result.id) == "FILLED")


def test_cancel_order_then_cancel_again_answers_the_order_with_the_refusal(
    isolated_environment: Path,
) -> None:
    with connect(engine="paper", db=":memory:", paper_bars_per_second=0) as engine:
        limit = engine.submit_order(
            UnifiedOrderRequest(SYMBOL, OrderSide.BUY, 0.01, OrderType.LIMIT, price=10000.0)
        )

        canceled = engine.cancel_order(limit.id)
        again = engine.cancel_order(limit.id)

        assert (canceled.status, canceled.error) == ("CANCELED", None)
        assert (again.status, again.reason_code) == ("CANCELED", "ORDER_ALREADY_TERMINAL")
        assert engine.get_order("no-such-order") is None


def test_dry_run_submit_order_is_planned_never_sent(isolated_environment: Path) -> None:
    with connect(engine="paper", mode="dry-run", db=":memory:", paper_bars_per_second=0) as e:
        result = e.submit_order(UnifiedOrderRequest(SYMBOL, OrderSide.BUY, 0.01))

        assert (result.status, result.ordergate_status) == ("CANCELED", "PLANNED")
        assert result.error == "PLANNED: dry run, not sent"
        assert e.get_positions() == []


async def test_async_twin_speaks_the_same_interface(isolated_environment: Path) -> None:
    engine = await connect_async(engine="paper", db=":memory:", paper_bars_per_second=0)
    async with engine:
        assert isinstance(engine, AsyncOrdergateEngine)
        result = await engine.submit_order(UnifiedOrderRequest(SYMBOL, OrderSide.SELL, 0.01))
        assert result.status == "FILLED"
        (position,) = await engine.get_positions()
        assert (position.side, position.quantity) == (OrderSide.SELL, D("0.01"))
        closing = await engine.close_all()
        assert [r.status for r in closing] == ["FILLED"]
        assert await engine.get_positions() == []
    assert not engine.connected


# --- on the Bybit simulator ---------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def sim_overrides(port: int) -> dict[str, Any]:
    """A still simulated market (only /sim/quote moves it), quick polls, and a long wait
    for the venue's answer: a loaded machine answers late, not wrongly."""
    return {
        "db": ":memory:",
        "sim_port": port,
        "sim_bars_per_second": 0,
        "quote_poll_interval": 0.05,
        "venue_poll_interval": 0.1,
        "venue_confirm_after": 0.3,
        "reconcile_interval_seconds": 3600,
        "api_wait_ms": 30_000,
    }


@pytest.fixture
def on_bybit_sim(isolated_environment: Path) -> Iterator[OrdergateEngine]:
    port = free_port()
    engine = connect(engine="bybit-sim", **sim_overrides(port))
    try:
        httpx.post(
            f"http://127.0.0.1:{port}/sim/quote",
            json={"symbol": SYMBOL, "bid": "50000.0", "ask": "50010.0"},
        ).raise_for_status()

        async def quoted(e: AsyncOrdergateEngine) -> bool:
            quote = e.oms.app.trading.quote(SYMBOL)
            return quote is not None and quote.bid == D("50000.0")

        eventually_sync(lambda: engine.call(quoted), message="ordergate to see the quote")
        yield engine
    finally:
        engine.disconnect()


def test_seed_usage_on_bybit_sim(on_bybit_sim: OrdergateEngine) -> None:
    seed_usage(on_bybit_sim, far_below=40000.0)


# --- on NautilusTrader's simulated exchange --------------------------------------------


def test_seed_usage_on_nautilus(isolated_environment: Path) -> None:
    # The demo market and account, as on paper: NautilusTrader fills the orders.
    engine = connect(
        engine="nautilus", db=":memory:", paper_bars_per_second=0, account_currency="USDT"
    )
    try:
        assert engine.get_account_state().currency == "USDT"
        seed_usage(engine, far_below=10000.0)
    finally:
        engine.disconnect()


def test_seed_usage_limit_canceled_by_close_all_on_nautilus(isolated_environment: Path) -> None:
    with connect(engine="nautilus", db=":memory:", paper_bars_per_second=0) as engine:
        limit = engine.submit_order(
            UnifiedOrderRequest(SYMBOL, OrderSide.SELL, 0.01, OrderType.LIMIT, price=99999.0)
        )
        assert limit.status == "PENDING"

        assert engine.close_all() == []

        assert status_of(engine, limit.id) == "CANCELED"
