"""ccxt.pro's private streams against the simulator: orders, trades, positions, balance."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from tests.integration.simulators.bybit.support import BTC, ETH, WAIT_SECONDS, D
from tests.waiting import eventually

from ordergate.matching import ExecutionRules
from ordergate.simulators.bybit import OrderStatus, SimulatorConfig


@pytest.fixture
def config() -> SimulatorConfig:
    """A resting BTCUSDT order fills at most 0.01 per market step: partial fills."""
    return SimulatorConfig(
        execution_rules={"BTCUSDT": ExecutionRules(max_passive_qty_per_step=D("0.01"))}
    )


async def collect(
    watch: Callable[[], Awaitable[list[dict[str, Any]]]],
    done: Callable[[list[dict[str, Any]]], bool],
) -> list[dict[str, Any]]:
    """Call a ccxt watch method until what it delivered satisfies `done`."""
    seen: list[dict[str, Any]] = []

    async def run() -> None:
        while not done(seen):
            seen.extend(await watch())

    await asyncio.wait_for(run(), WAIT_SECONDS)
    return seen


async def subscribed(sim, *topics: str) -> None:
    await eventually(
        lambda: set(topics) <= sim.subscriptions(), message=f"subscriptions to {topics}"
    )


async def test_watch_orders_and_my_trades_receive_a_market_fill(sim, exchange):
    orders = asyncio.create_task(collect(exchange.watch_orders, lambda seen: len(seen) >= 1))
    trades = asyncio.create_task(collect(exchange.watch_my_trades, lambda seen: len(seen) >= 1))
    await subscribed(sim, "order", "execution")

    placed = await exchange.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "w1"})

    (order,) = await orders
    (trade,) = await trades
    # A market order that fills at once is streamed as Filled only, as Bybit does.
    assert (order["id"], order["clientOrderId"], order["status"]) == (placed["id"], "w1", "closed")
    assert (order["filled"], order["remaining"]) == (0.01, 0.0)
    assert (trade["order"], trade["price"], trade["amount"]) == (placed["id"], 50000.1, 0.01)
    assert trade["info"]["seq"] == 1


async def test_watch_positions_receives_the_position_after_a_fill(sim, exchange):
    snapshot = await exchange.watch_positions()  # ccxt answers its REST snapshot first
    assert snapshot == []
    updates = asyncio.create_task(collect(exchange.watch_positions, lambda seen: len(seen) >= 1))
    await subscribed(sim, "position")

    await exchange.create_order(ETH, "market", "sell", 0.5)

    (position,) = await updates
    assert (position["symbol"], position["side"], position["contracts"]) == (ETH, "short", 0.5)
    assert position["entryPrice"] == 3000.0
    assert position["info"]["seq"] == 1


async def test_watch_balance_receives_the_wallet_when_an_order_reserves_margin(sim, exchange):
    balance = asyncio.create_task(exchange.watch_balance())
    await subscribed(sim, "wallet")

    await exchange.create_order(BTC, "limit", "buy", 0.1, 45000)

    update = await asyncio.wait_for(balance, WAIT_SECONDS)
    assert update["USDT"]["total"] == 100_000.0
    assert update["USDT"]["free"] == 100_000.0 - float(D("0.1") * D(45000) / 10)
    # Bybit's wallet topic carries `locked` (what spot orders hold; 0 here), and ccxt.pro
    # reports it as `used` whenever it is there, rather than the order and position margin.
    assert update["USDT"]["used"] == 0.0


async def test_partial_fill_then_fill_streams_both_with_increasing_seq(sim, exchange):
    placed = await exchange.create_order(BTC, "limit", "buy", 0.02, 49990)
    trades = asyncio.create_task(collect(exchange.watch_my_trades, lambda seen: len(seen) >= 2))
    partial = asyncio.create_task(collect(exchange.watch_orders, lambda seen: len(seen) >= 1))
    await subscribed(sim, "order", "execution")

    sim.set_quote("BTCUSDT", bid=D("49989.9"), ask=D("49990.0"))
    (first,) = await partial
    # ccxt updates its cached order in place: read the first update before the next.
    assert (first["status"], first["filled"], first["remaining"]) == ("open", 0.01, 0.01)
    assert sim.order(order_id=placed["id"]).status is OrderStatus.PARTIALLY_FILLED
    sim.set_quote("BTCUSDT", bid=D("49989.8"), ask=D("49989.9"))

    (last,) = await collect(exchange.watch_orders, lambda seen: len(seen) >= 1)
    # The second step jumped through the limit: that fill is at the limit too.
    assert (last["status"], last["filled"], last["average"]) == ("closed", 0.02, 49990.0)
    fills = await trades
    assert [(t["amount"], t["price"], t["takerOrMaker"]) for t in fills] == [
        (0.01, 49990.0, "maker"),
        (0.01, 49990.0, "maker"),
    ]
    assert [t["info"]["seq"] for t in fills] == [1, 2]
    truth = sim.executions(order_id=placed["id"])
    assert [execution.seq for execution in truth] == [1, 2]
    assert [execution.leaves_qty for execution in truth] == [D("0.01"), D(0)]
