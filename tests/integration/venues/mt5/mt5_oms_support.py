"""ordergate whole against the MT5 EA simulator, for the tests beside this module: the
simulator in the test's process (so that a test sets its faults and reads its trade
server), `Oms(Settings(venue="mt5"))` over real ZeroMQ sockets on loopback, and the
comparison of ordergate with the trade server."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tests.mt5_support import running_simulator
from tests.oms_watch import OmsWatch

from ordergate.config.settings import Settings
from ordergate.domain.values import OrderStatus, OrderType, Side
from ordergate.oms import Oms
from ordergate.simulators.mt5.ids import token_of
from ordergate.simulators.mt5.model import Order
from ordergate.simulators.mt5.server import Mt5Simulator
from ordergate.simulators.mt5.trade_server import TradeServer
from ordergate.venues.mt5.translate import part_id

D = Decimal
SYMBOL = "EURUSD"
GMT_OFFSET_S = 7200  # the broker's clock: UTC+2
# The trade server's order states as ordergate's.
_STATUS_AT_MT5 = {
    "placed": OrderStatus.ACCEPTED,
    "partial": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.CANCELED,  # placed, then refused: ended by the server
}


def mt5_settings(sim: Mt5Simulator, **overrides: Any) -> Settings:
    """Short timeouts and fast polls: faults resolve quickly."""
    fields: dict[str, Any] = {
        "venue": "mt5",
        "db": ":memory:",
        "mt5_rep_url": sim.rep_url,
        "mt5_pub_url": sim.pub_url,
        "mt5_timeout": 0.3,
        "mt5_attempts": 3,
        "venue_retry_base_delay": 0.02,
        "venue_retry_max_delay": 0.2,
        "venue_retry_max_attempts": 4,
        "quote_poll_interval": 0.05,
        "reconcile_interval_seconds": 3600,
        **overrides,
    }
    return Settings(**fields)


@dataclass
class Rig(OmsWatch):
    sim: Mt5Simulator
    start_ms: int
    ticks: int = 0

    async def quote(self, bid: str, ask: str) -> None:
        """A tick at the trade server, a second after the last; wait until ordergate's
        quote poll has seen it."""
        self.ticks += 1
        self.sim.set_quote(SYMBOL, D(bid), D(ask), self.start_ms + self.ticks * 1000)
        await self.quote_seen(SYMBOL, D(bid))


@asynccontextmanager
async def started_rig(
    margin_mode: str = "netting", simulator: dict[str, Any] | None = None, **settings: Any
) -> AsyncIterator[Rig]:
    """The simulator on `margin_mode` (and `simulator`'s `Mt5SimConfig` fields), EURUSD
    at 1.10000/1.10002, and ordergate on it (`settings` override `mt5_settings`)."""
    # The trade server's clock is the wall clock in the broker's time zone: ordergate
    # reconciles the executions since its journal began.
    start_ms = time.time_ns() // 1_000_000 + GMT_OFFSET_S * 1000
    async with running_simulator(
        heartbeat_ms=50, gmt_offset_s=GMT_OFFSET_S, margin_mode=margin_mode, **(simulator or {})
    ) as sim:
        sim.set_quote(SYMBOL, D("1.10000"), D("1.10002"), start_ms)
        async with Oms(mt5_settings(sim, **settings)) as oms:
            yield Rig(oms, sim, start_ms)


def sim_net_position(sim: Mt5Simulator) -> Decimal:
    return sum(
        (p.volume if p.side == "buy" else -p.volume for p in sim.trade_server.open_positions()),
        D(0),
    )


def mt5_orders_of(server: TradeServer, client_order_id: str) -> list[Order]:
    """The MT5 orders an ordergate order made: one, or on a hedging account one per part
    (`<id>`, `<id>.2` ...); the server's own order for an adopted `mt5-<ticket>`."""
    if client_order_id.startswith("mt5-"):
        return [server.orders[int(client_order_id.removeprefix("mt5-"))]]
    found: list[Order] = []
    while True:
        token = token_of(part_id(client_order_id, len(found) + 1))
        made = [o for o in server.orders.values() if o.comment == token]
        assert len(made) <= 1, f"{client_order_id}: {len(made)} MT5 orders for one id"
        if not made:
            return found
        found += made


async def assert_agrees_with_the_venue(rig: Rig) -> None:
    """Every order ordergate knows as the trade server has it; deals and position too."""
    server = rig.sim.trade_server
    orders = (await rig.oms.orders(symbol=SYMBOL, limit=1000)).items
    assert orders, "no order was placed"
    for order in orders:
        at_venue = mt5_orders_of(server, order.client_order_id)
        if not at_venue:
            assert order.filled_qty == 0
            assert not order.status.is_open
            continue
        filled = sum((o.volume_initial - o.volume_current for o in at_venue), D(0))
        if len(at_venue) == 1:
            assert order.status is _STATUS_AT_MT5[at_venue[0].state], order.order_id
        assert order.filled_qty == filled, order.order_id
        tickets = {o.ticket for o in at_venue}
        booked = sorted(f.trade_id for f in (await rig.oms.fills(order_id=order.order_id)).items)
        expected = sorted(str(d.ticket) for d in server.deals if d.order in tickets)
        assert booked == expected, order.order_id
    [position] = await rig.oms.positions() or [None]
    held = D(0) if position is None else position.qty
    assert held == sim_net_position(rig.sim)


async def trade(rig: Rig) -> None:
    """A market buy; a limit buy that rests until the market falls through it; a limit
    sell that rests and is canceled. Each waits for the one before to settle and its
    instrument to be clean; then ordergate and the trade server are compared."""
    market = await rig.oms.place(SYMBOL, Side.BUY, D("0.10"), idempotency_key="m1")
    await rig.ended(market.order_id)
    await rig.clean()
    limit = await rig.oms.place(
        SYMBOL, Side.BUY, D("0.20"), OrderType.LIMIT, price=D("1.09900"), idempotency_key="l1"
    )
    await rig.resting(limit.order_id)
    resting = await rig.oms.place(
        SYMBOL, Side.SELL, D("0.05"), OrderType.LIMIT, price=D("1.10500"), idempotency_key="s1"
    )
    await rig.resting(resting.order_id)
    await rig.quote("1.09850", "1.09852")
    await rig.oms.cancel(resting.order_id)
    for order in (limit, resting):
        await rig.ended(order.order_id)
    await rig.clean()
    await assert_agrees_with_the_venue(rig)
