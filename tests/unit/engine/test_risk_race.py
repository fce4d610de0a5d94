"""The race test: worst-case exposure never exceeds the max position.

With `max_position_qty` set, any interleaving of placements (both sides, market and
limit), venue acknowledgements, partial and full fills (delivered in any order, some
twice), cancels and rejections keeps `OmsState.worst_case` -- the position plus every
open and in-flight order on one side -- within the limit, after every step. The
incremental `open_qty` also always equals a recount from `open_orders`.

The venue here holds what it would stream in a pool; the test decides when (and how
often) each event is delivered, so acks, fills and cancels race each other and the
engine's own placements (https://markrbest.github.io/positions-and-orders/).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec
from engine_support import ACCOUNT, Harness, ScriptedVenue, Sessions
from gates_support import D, fresh_market, order, start
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.fakes import BTC

from ordergate.domain.errors import OrderGateError, RejectedByVenue
from ordergate.domain.limits import RiskLimits
from ordergate.domain.values import ZERO, OrderStatus, OrderType, Side
from ordergate.engine.commands import CancelOrder
from ordergate.engine.venue_reports import (
    VenueEvent,
    VenueFill,
    VenueOrderCanceled,
    VenueOrderExpired,
    VenueOrderRejected,
)
from ordergate.engine.views import OrderView

LOT = BTC.lot_step
LIMIT = 10 * LOT
PRICE = D("50000")


@dataclass
class PooledVenue(ScriptedVenue):
    """A venue whose stream is held back: events wait in `pool` until `deliver`ed.

    Any event may overtake any other. With `ordered_terminals` set, an order's cancel or
    reject is kept after that order's own fills (one order's updates in stream order);
    the property runs without it: a cancel that reports fills still on their way keeps
    their room held.
    Sequence numbers are dropped, as delivery order here is arbitrary by design (gap
    detection has tests of its own).
    """

    pool: list[VenueEvent] = field(default_factory=list)
    ordered_terminals: bool = False

    def push(self, event: VenueEvent) -> None:
        if hasattr(event, "venue_seq"):
            event = msgspec.structs.replace(event, venue_seq=None)
        self.pool.append(event)

    def deliver(self, index: int, keep: bool) -> None:
        if not self.pool:
            return
        index %= len(self.pool)
        event = self.pool[index]
        if self.ordered_terminals and isinstance(event, TERMINAL):
            fills = [
                i
                for i, e in enumerate(self.pool)
                if isinstance(e, VenueFill) and e.client_order_id == event.client_order_id
            ]
            if fills:
                index, keep = fills[0], False
                event = self.pool[index]
        if not keep:
            self.pool.pop(index)
        super().push(event)


TERMINAL = (VenueOrderCanceled, VenueOrderRejected, VenueOrderExpired)


index = st.integers(0, 1000)
lots = st.integers(1, 6)
ACTIONS = st.lists(
    st.one_of(
        st.tuples(
            st.just("place"),
            st.sampled_from(Side),
            st.sampled_from(["MARKET", "LIMIT"]),
            lots,
            st.booleans(),  # the venue rejects it
        ),
        st.tuples(st.just("fill"), index, lots),
        st.tuples(st.just("cancel"), index),
        st.tuples(st.just("deliver"), index, st.booleans()),
        st.just(("deliver_all",)),
    ),
    min_size=1,
    max_size=40,
)


def check_worst_case_within_limit(h: Harness) -> None:
    longest, shortest = h.engine.state.worst_case(ACCOUNT, BTC.symbol)
    assert abs(longest) <= LIMIT, f"worst case long {longest} > {LIMIT}"
    assert abs(shortest) <= LIMIT, f"worst case short {shortest} < -{LIMIT}"


def check_open_qty_matches_open_orders(h: Harness) -> None:
    state = h.engine.state
    recount: dict[Any, Decimal] = {}
    for o in state.open_orders.values():
        assert o.status.is_open, o.order_id
        if o.reduce_only:
            continue
        key = (o.account, o.symbol, o.side)
        recount[key] = recount.get(key, ZERO) + o.qty - o.filled_qty
    for o in state.orders.values():  # done at the venue, fills it reported still due
        if not o.status.is_open and not o.reduce_only and o.awaited_fill_qty:
            key = (o.account, o.symbol, o.side)
            recount[key] = recount.get(key, ZERO) + o.awaited_fill_qty
    incremental = {k: q for k, q in state.open_qty.items() if q != ZERO}
    assert incremental == {k: q for k, q in recount.items() if q != ZERO}
    for o in state.orders.values():
        assert (o.order_id in state.open_orders) == o.status.is_open, o.order_id


async def act(h: Harness, venue: PooledVenue, orders: list[OrderView], action: Any) -> None:
    kind = action[0]
    if kind == "place":
        _, side, order_type, n, rejected = action
        price = None
        if order_type == "LIMIT":
            price = str(PRICE - 100 if side is Side.BUY else PRICE + 100)
        if rejected:
            venue.fail_next.append(RejectedByVenue("no", code="VENUE_REJECTED"))
        orders.append(await h.place(order(side, str(n * LOT), price=price)))
        if rejected and venue.fail_next:  # denied before it reached the venue
            venue.fail_next.clear()
    elif kind == "deliver":
        venue.deliver(action[1], keep=action[2])
    elif kind == "deliver_all":
        while venue.pool:
            venue.deliver(0, keep=False)
    elif orders:
        view = orders[action[1] % len(orders)]
        resting = venue.orders.get(view.client_order_id)
        if kind == "cancel":
            with contextlib.suppress(OrderGateError):  # refusals are fine; the state is tested
                await h.engine.cancel(CancelOrder(view.order_id))
        elif resting is not None and resting.status in (
            OrderStatus.ACCEPTED,
            OrderStatus.PARTIALLY_FILLED,
        ):  # the venue has it working: it may trade
            qty = min(action[2] * LOT, resting.request.qty - resting.filled)
            venue.fill(view.client_order_id, qty, PRICE)


async def scenario(script: list[Any], *, ordered_terminals: bool = False) -> None:
    sessions = Sessions()
    try:
        market = fresh_market()
        venue = PooledVenue(market, auto_fill=False, ordered_terminals=ordered_terminals)
        h = await start(sessions, RiskLimits(max_position_qty=LIMIT), market=market, venue=venue)
        orders: list[OrderView] = []
        for action in script:
            await act(h, venue, orders, action)
            await h.settle()
            check_worst_case_within_limit(h)
            check_open_qty_matches_open_orders(h)
        while venue.pool:
            venue.deliver(0, keep=False)
        await h.settle()
        check_worst_case_within_limit(h)
        check_open_qty_matches_open_orders(h)
    finally:
        await sessions.close()


@settings(max_examples=200)
@given(script=ACTIONS)
def test_race_any_interleaving_keeps_worst_case_within_max_position(script):
    asyncio.run(scenario(script))


def test_race_orders_denied_max_position_when_open_orders_fill_the_room():
    # a deterministic companion: 6 lots resting, 5 more would reach 11 > 10
    async def run() -> None:
        sessions = Sessions()
        try:
            market = fresh_market()
            venue = PooledVenue(market, auto_fill=False)
            h = await start(
                sessions, RiskLimits(max_position_qty=LIMIT), market=market, venue=venue
            )
            first = await h.place(order(qty=str(6 * LOT), type=OrderType.MARKET))
            second = await h.place(order(qty=str(5 * LOT)))
            third = await h.place(order(qty=str(4 * LOT)))
            await h.settle()

            assert first.status is OrderStatus.PENDING_SUBMIT
            assert h.engine.order(second.order_id).reason_code == "MAX_POSITION"
            assert h.engine.order(third.order_id).status is not OrderStatus.DENIED
            assert h.engine.state.worst_case(ACCOUNT, BTC.symbol) == (LIMIT, ZERO)
        finally:
            await sessions.close()

    asyncio.run(run())


def test_race_cancel_overtaking_a_fill_keeps_worst_case_within_max_position():
    script = [
        ("place", Side.BUY, "LIMIT", 6, False),
        ("deliver_all",),
        ("fill", 0, 3),  # 3 lots trade at the venue; the fill is still on its way
        ("cancel", 0),  # the venue cancels the other 3 and says so first
        ("deliver", 1, False),  # the cancel confirmation (pool: [fill, canceled])
        ("place", Side.BUY, "LIMIT", 6, False),
        ("place", Side.BUY, "LIMIT", 4, False),
        ("deliver_all",),  # the fill arrives: 3 + 6 + 4 = 13 lots > 10
    ]

    asyncio.run(scenario(script, ordered_terminals=False))
