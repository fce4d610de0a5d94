"""ordergate whole against the Robinhood simulator, for the tests beside this module: the
simulator in the test's process (so that a test sets its faults and reads its broker),
`Oms(Settings(venue="robinhood"))` on it through the real robin_stocks, and the
comparison of ordergate with the broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tests.oms_watch import OmsWatch

from ordergate.config.settings import Settings
from ordergate.domain.values import OrderStatus
from ordergate.oms import Oms
from ordergate.simulators.robinhood import RobinhoodSimConfig, RobinhoodSimulator
from ordergate.venues.robinhood.translate import ref_id_of

D = Decimal
SYMBOL = "AAPL"
_STATUS_AT_ROBINHOOD = {
    "queued": OrderStatus.ACCEPTED,
    "confirmed": OrderStatus.ACCEPTED,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "cancelled": OrderStatus.CANCELED,
    "rejected": OrderStatus.REJECTED,
}


def robinhood_settings(sim: RobinhoodSimulator, **overrides: Any) -> Settings:
    """Short timeouts and fast polls: faults resolve quickly."""
    fields: dict[str, Any] = {
        "venue": "robinhood",
        "db": ":memory:",
        "robinhood_url": sim.base_url,
        "robinhood_username": sim.config.username,
        "robinhood_password": sim.config.password,
        "robinhood_totp_secret": sim.config.totp_secret,
        "robinhood_symbols": [SYMBOL],
        "robinhood_timeout": 1.0,
        "robinhood_poll_interval": 0.02,
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
    sim: RobinhoodSimulator

    async def quote(self, bid: str, ask: str) -> None:
        """One market step; wait until ordergate's quote poll has seen it."""
        self.sim.set_quote(SYMBOL, bid=D(bid), ask=D(ask))
        await self.quote_seen(SYMBOL, D(bid))


@asynccontextmanager
async def started_rig(
    simulator: dict[str, Any] | None = None, **settings: Any
) -> AsyncIterator[Rig]:
    """The simulator (its `RobinhoodSimConfig` fields: `simulator`), AAPL at
    190.00/190.01, and ordergate on it (`settings` override `robinhood_settings`)."""
    config = RobinhoodSimConfig(symbols=(SYMBOL,), **(simulator or {}))
    async with RobinhoodSimulator(config) as sim, Oms(robinhood_settings(sim, **settings)) as oms:
        rig = Rig(oms, sim)
        if rig.oms.app.partition.engine.venue_halt() is None:
            await rig.quote("190.00", "190.01")
        yield rig


async def assert_agrees_with_the_broker(rig: Rig) -> None:
    """Every order ordergate knows as the broker has it: one per client order id, in its
    state, with its executions booked once; and the position."""
    at_broker = rig.sim.orders()
    orders = (await rig.oms.orders(symbol=SYMBOL, limit=1000)).items
    assert orders, "no order was placed"
    for order in orders:
        ref_id = ref_id_of(order.client_order_id)
        made = [o for o in at_broker if o.get("ref_id") == ref_id]
        assert len(made) <= 1, f"{order.order_id}: {len(made)} broker orders"
        if not made:
            assert order.filled_qty == 0
            assert not order.status.is_open
            continue
        [truth] = made
        executions = truth["executions"]
        filled = sum((D(e["quantity"]) for e in executions), D(0))
        if truth["state"] != "unconfirmed":
            assert order.status is _STATUS_AT_ROBINHOOD[truth["state"]], order.order_id
        assert order.filled_qty == filled, order.order_id
        booked = sorted(f.trade_id for f in (await rig.oms.fills(order_id=order.order_id)).items)
        assert booked == sorted(e["id"] for e in executions), order.order_id
    [position] = await rig.oms.positions() or [None]
    held = D(0) if position is None else position.qty
    assert held == rig.sim.position(SYMBOL)
