"""The ccxt adapter against the Bybit v5 simulator, through the real ccxt library.

`bybit_rig` starts a simulator on a free loopback port, connects a `CcxtVenue` to it with
the simulator's own `ccxt_settings` as overrides (fast polls and follow-ups, so faults
resolve in fractions of a second), records every event the venue streams, and tears it
all down. The checks at the bottom hold the adapter to the venue's truth.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tests.venue_support import EventLog, bybit_sim_venue, recording

from ordergate.domain.values import OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.venue_reports import (
    VenueFill,
    VenueOrderAccepted,
    VenueOrderCanceled,
    VenueOrderRequest,
)
from ordergate.simulators.bybit import BybitSimulator, FaultKind, FaultRule
from ordergate.simulators.bybit import OrderStatus as BybitStatus
from ordergate.venues.ccxt import CcxtVenue

D = Decimal
ACCOUNT = "sim"
SYMBOL = "BTCUSDT"
CASH = D(100_000)
PASSIVE_CAP = D("0.005")  # most of one resting order that fills per market step
BID, ASK = D("50000.0"), D("50010.0")
_ids = itertools.count(1)


@dataclass
class Rig:
    sim: BybitSimulator
    venue: CcxtVenue
    log: EventLog

    async def quote(self, bid: Decimal, ask: Decimal) -> None:
        self.sim.set_quote(SYMBOL, bid=bid, ask=ask)
        await asyncio.sleep(0)

    def fault(self, kind: FaultKind, scope: str, count: int | None = 1, **kw: object) -> None:
        self.sim.faults.add(FaultRule(kind, scope, count, **kw))  # type: ignore[arg-type]

    async def acknowledged(self, client_order_id: str) -> None:
        await self.log.wait_for(
            lambda: any(
                isinstance(e, VenueOrderAccepted | VenueFill) for e in self.log.of(client_order_id)
            ),
            f"the acknowledgement of {client_order_id}",
        )

    async def filled_up_to(self, client_order_id: str, qty: Decimal) -> None:
        await self.log.wait_for(
            lambda: self.log.filled(client_order_id) >= qty, f"fills of {qty} on {client_order_id}"
        )

    async def canceled(self, client_order_id: str) -> None:
        await self.log.wait_for(
            lambda: self.log.count(VenueOrderCanceled, client_order_id) > 0,
            f"the cancel of {client_order_id}",
        )


def order(
    side: Side = Side.BUY,
    qty: str = "0.010",
    price: str | None = "49000.0",
    client_order_id: str | None = None,
) -> VenueOrderRequest:
    kind = OrderType.LIMIT if price is not None else OrderType.MARKET
    return VenueOrderRequest(
        client_order_id=client_order_id or f"{next(_ids):032x}",
        account=ACCOUNT,
        symbol=SYMBOL,
        side=side,
        type=kind,
        qty=D(qty),
        price=None if price is None else D(price),
        stop_price=None,
        time_in_force=TimeInForce.GTC if kind is OrderType.LIMIT else TimeInForce.IOC,
        reduce_only=False,
    )


@asynccontextmanager
async def bybit_rig(*, timeout_ms: int = 2_000, **config: Any) -> AsyncIterator[Rig]:
    """`config` overrides fields of the venue's `CcxtVenueConfig`."""
    async with bybit_sim_venue(
        ACCOUNT, SYMBOL, CASH, PASSIVE_CAP, timeout_ms=timeout_ms, **config
    ) as (sim, venue):
        sim.set_quote(SYMBOL, bid=BID, ask=ASK)
        async with recording(venue) as log:
            yield Rig(sim, venue, log)


# --- the venue's truth, and the adapter held to it ---------------------------------------

_STATUS_AT_BYBIT = {
    BybitStatus.NEW: OrderStatus.ACCEPTED,
    BybitStatus.PARTIALLY_FILLED: OrderStatus.PARTIALLY_FILLED,
    BybitStatus.FILLED: OrderStatus.FILLED,
    BybitStatus.CANCELLED: OrderStatus.CANCELED,
    BybitStatus.UNTRIGGERED: OrderStatus.ACCEPTED,
    BybitStatus.TRIGGERED: OrderStatus.ACCEPTED,
    BybitStatus.DEACTIVATED: OrderStatus.CANCELED,
}


async def assert_agrees_with_the_venue(rig: Rig, *client_order_ids: str) -> None:
    """No second venue order per client order id, no lost or doubled fill, the position
    from the streamed fills equal to the venue's, and each order as the venue has it."""
    for client_order_id in client_order_ids:
        at_venue = [o for o in rig.sim.orders(SYMBOL) if o.order_link_id == client_order_id]
        assert len(at_venue) <= 1, f"{client_order_id}: {len(at_venue)} venue orders"
        report = await rig.venue.get_order(ACCOUNT, SYMBOL, client_order_id)
        if not at_venue:
            assert report is None
            continue
        [truth] = at_venue
        assert report is not None
        assert (report.status, report.filled_qty, report.qty) == (
            _STATUS_AT_BYBIT[truth.status],
            truth.cum_exec_qty,
            truth.qty,
        )
        # every execution streamed once, none invented
        await rig.filled_up_to(client_order_id, truth.cum_exec_qty)
        executions = {e.exec_id for e in rig.sim.executions(SYMBOL, order_id=truth.order_id)}
        streamed = [f.trade_id for f in rig.log.fills(client_order_id)]
        assert sorted(streamed) == sorted(executions)
    fills = rig.log.fills()
    assert len({f.trade_id for f in fills}) == len(fills), "a fill was streamed twice"
    position = sum((f.side.sign * f.qty for f in fills), D(0))
    assert position == rig.sim.position(SYMBOL).size
