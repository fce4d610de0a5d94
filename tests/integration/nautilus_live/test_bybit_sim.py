"""ordergate on NautilusTrader's live Bybit adapter, against ordergate's Bybit simulator.

The whole path of `--venue nautilus-live`: `Oms` with its engine and journal, the
NautilusTrader `TradingNode` in the same process and event loop, its bridge strategy,
NautilusTrader's risk and execution engines and its Bybit execution client (REST,
the private websocket and, in one test, the trade websocket), over loopback to a
simulator started here. The tests move the simulator's market as an operator would
and hold ordergate to the venue: one venue order per client order id, every execution
booked once with the venue's trade id, quantity and price, and the venue's position.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.oms_watch import OmsWatch

from ordergate.config.settings import Settings
from ordergate.domain.values import OrderStatus, OrderType, Side
from ordergate.engine.views import OrderView
from ordergate.oms import Oms
from ordergate.simulators.bybit import BybitSimulator, SimulatorConfig

D = Decimal
SYMBOL = "BTCUSDT"
CREATE = "/v5/order/create"
_STATUS_AT_BYBIT = {
    "New": OrderStatus.ACCEPTED,
    "PartiallyFilled": OrderStatus.PARTIALLY_FILLED,
    "Filled": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELED,
}


def live_settings(sim: BybitSimulator, db: str = ":memory:", **overrides: Any) -> Settings:
    """NautilusTrader's Bybit client on the simulator (its URLs and key follow `sim_url`)."""
    fields: dict[str, Any] = {
        "venue": "nautilus-live",
        "db": db,
        "sim_url": sim.rest_url,
        "nautilus_symbols": [SYMBOL],
        "quote_poll_interval": 0.05,
        "reconcile_interval_seconds": 3600,
        "node_id": "node-under-test",
        **overrides,
    }
    return Settings(**fields)


@dataclass
class Rig(OmsWatch):
    sim: BybitSimulator

    async def quote(self, bid: str, ask: str) -> None:
        """Move the market and wait until ordergate's ticker poll has seen it."""
        self.sim.set_quote(SYMBOL, bid=D(bid), ask=D(ask))
        await self.quote_seen(SYMBOL, D(bid))


@pytest.fixture
async def sim() -> AsyncIterator[BybitSimulator]:
    simulator = BybitSimulator(SimulatorConfig(market="manual"))
    await simulator.start(port=0)
    simulator.set_quote(SYMBOL, bid=D("50000.0"), ask=D("50010.0"))
    yield simulator
    await simulator.stop()


@pytest.fixture
async def rig(sim: BybitSimulator) -> AsyncIterator[Rig]:
    async with Oms(live_settings(sim)) as oms:
        rig = Rig(oms, sim)
        await rig.quote("50000.0", "50010.0")
        yield rig


async def assert_agrees_with_the_venue(rig: Rig) -> None:
    """Each ordergate order is one venue order in the venue's state; its fills are the
    venue's executions (trade id, quantity, price); the position is the venue's."""
    orders = (await rig.oms.orders(symbol=SYMBOL, limit=1000)).items
    assert orders, "no order was placed"
    ours = {order.client_order_id for order in orders}
    assert [o.order_link_id for o in rig.sim.orders(SYMBOL) if o.order_link_id not in ours] == []
    for order in orders:
        at_venue = [o for o in rig.sim.orders(SYMBOL) if o.order_link_id == order.client_order_id]
        assert len(at_venue) == 1, f"{order.order_id}: {len(at_venue)} venue orders"
        [truth] = at_venue
        assert (order.status, order.filled_qty) == (
            _STATUS_AT_BYBIT[truth.status.value],
            truth.cum_exec_qty,
        ), order.order_id
        booked = sorted(
            (f.trade_id, f.qty, f.price)
            for f in (await rig.oms.fills(order_id=order.order_id)).items
        )
        executed = sorted(
            (e.exec_id, e.exec_qty, e.exec_price)
            for e in rig.sim.executions(SYMBOL, order_id=truth.order_id)
        )
        assert booked == executed, order.order_id
    [position] = await rig.oms.positions() or [None]
    held = D(0) if position is None else position.qty
    assert held == rig.sim.position(SYMBOL).size


async def trade(rig: Rig) -> dict[str, OrderView]:
    """A market buy; a limit buy that rests until the market falls through it; a limit
    sell that rests and is cancelled."""
    market = await rig.oms.place(SYMBOL, Side.BUY, D("0.010"), idempotency_key="m1")
    await rig.ended(market.order_id)
    limit = await rig.oms.place(
        SYMBOL, Side.BUY, D("0.020"), OrderType.LIMIT, price=D("49900.0"), idempotency_key="l1"
    )
    await rig.resting(limit.order_id)
    resting = await rig.oms.place(
        SYMBOL, Side.SELL, D("0.005"), OrderType.LIMIT, price=D("51000.0"), idempotency_key="s1"
    )
    await rig.resting(resting.order_id)
    await rig.quote("49800.0", "49850.0")
    await rig.oms.cancel(resting.order_id)
    for order in (limit, resting):
        await rig.ended(order.order_id)
    await rig.clean()
    await assert_agrees_with_the_venue(rig)
    return {v.idempotency_key or "": v for v in (await rig.oms.orders(limit=10)).items}


async def test_orders_fill_rest_and_cancel_as_the_venue_says(rig: Rig) -> None:
    views = await trade(rig)

    assert {k: (v.status, v.filled_qty) for k, v in views.items()} == {
        "m1": (OrderStatus.FILLED, D("0.010")),
        "l1": (OrderStatus.FILLED, D("0.020")),
        "s1": (OrderStatus.CANCELED, D(0)),
    }
    assert views["m1"].avg_fill_price == D("50010.0")  # the ask
    assert [p.qty for p in await rig.oms.positions()] == [D("0.030")]
    creates = rig.sim.requests(CREATE)
    assert len(creates) == 3  # one create per order: nothing resent


async def test_over_the_trade_websocket_orders_are_placed_and_cancelled_alike(
    sim: BybitSimulator,
) -> None:
    async with Oms(live_settings(sim, nautilus_bybit_use_ws_trade_api=True)) as oms:
        rig = Rig(oms, sim)
        await rig.quote("50000.0", "50010.0")

        views = await trade(rig)

    assert {k: v.status for k, v in views.items()} == {
        "m1": OrderStatus.FILLED,
        "l1": OrderStatus.FILLED,
        "s1": OrderStatus.CANCELED,
    }
    assert not [r for r in sim.requests() if r.path.startswith("/v5/order/c")]


async def test_a_restart_recovers_the_open_order_which_stays_cancellable(
    sim: BybitSimulator, tmp_path: Path
) -> None:
    settings = live_settings(sim, db=str(tmp_path / "og.db"))
    async with Oms(settings) as oms:
        rig = Rig(oms, sim)
        await rig.quote("50000.0", "50010.0")
        bought = await oms.place(SYMBOL, Side.BUY, D("0.010"), idempotency_key="m1")
        await rig.ended(bought.order_id)
        resting = await oms.place(
            SYMBOL, Side.BUY, D("0.020"), OrderType.LIMIT, price=D("49000.0"), idempotency_key="r1"
        )
        await rig.resting(resting.order_id)

    async with Oms(settings) as oms:  # the same journal, the same venue, a new node
        rig = Rig(oms, sim)
        await rig.clean()
        before = rig.view(resting.order_id).status
        open_orders = await oms.app.partition.wiring.venue.get_open_orders(settings.default_account)
        await oms.cancel(resting.order_id)
        after = await rig.ended(resting.order_id)
        await assert_agrees_with_the_venue(rig)

    assert (before, after.status) == (OrderStatus.ACCEPTED, OrderStatus.CANCELED)
    assert [o.client_order_id for o in open_orders] == [after.client_order_id]
    assert [o.status.value for o in sim.orders(SYMBOL)] == ["Filled", "Cancelled"]


async def test_a_stop_is_refused_before_anything_is_sent(rig: Rig) -> None:
    # NautilusTrader 1.221's Bybit client would send a linear STOP without its trigger
    # price (a plain market order): ordergate refuses it, and nothing reaches the venue.
    stop = await rig.oms.place(
        SYMBOL, Side.SELL, D("0.010"), OrderType.STOP, stop_price=D("49500.0")
    )
    stop_limit = await rig.oms.place(
        SYMBOL,
        Side.BUY,
        D("0.010"),
        OrderType.STOP_LIMIT,
        price=D("50600.0"),
        stop_price=D("50500.0"),
    )

    for placed in (stop, stop_limit):
        ended = await rig.ended(placed.order_id)
        assert (ended.status, ended.reason_code) == (
            OrderStatus.REJECTED,
            "UNSUPPORTED_ORDER_TYPE",
        )
        assert "drops a" in (ended.reason or "")
    assert rig.sim.requests(CREATE) == []
    assert rig.sim.orders(SYMBOL) == []


async def test_the_node_leaves_the_hosts_signal_handlers_loop_policy_and_debug_flag(
    sim: BybitSimulator,
) -> None:
    def ours(signum: int, frame: object) -> None:
        raise AssertionError("not to be called")

    loop = asyncio.get_running_loop()
    previous = {s: signal.signal(s, ours) for s in (signal.SIGINT, signal.SIGTERM)}
    policy, debug = asyncio.get_event_loop_policy(), loop.get_debug()
    try:
        async with Oms(live_settings(sim)) as oms:
            assert oms.app.partition.wiring.venue.connection_problem() is None
            during = {s: signal.getsignal(s) for s in previous}
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    assert during == {signal.SIGINT: ours, signal.SIGTERM: ours}
    assert (asyncio.get_event_loop_policy(), loop.get_debug()) == (policy, debug)
