"""A property: whatever mix of commands and venue fills (resent, late, racing a cancel or a
replace), no order's filled quantity exceeds its quantity, the position is the signed sum
of the distinct fills the venue sent, and the journal verifies and replays to the state."""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal
from typing import Any

from engine_support import D, Harness, Sessions, limit_order, market_order
from hypothesis import given, settings
from hypothesis import strategies as st

from ordergate.domain.errors import OrderGateError
from ordergate.domain.values import OrderType, Side
from ordergate.engine.commands import CancelOrder, ReplaceOrder
from ordergate.engine.digest import state_digest
from ordergate.engine.replay import verify_store
from ordergate.engine.views import OrderView

LOT = D("0.01")
TICK = D(10)

index = st.integers(0, 40)
steps = st.integers(1, 20)
offset = st.integers(-20, 20)
action = st.one_of(
    st.tuples(
        st.just("place"),
        st.sampled_from(["MARKET", "LIMIT"]),
        st.sampled_from(Side),
        steps,
        offset,
    ),
    st.tuples(st.just("cancel"), index),
    st.tuples(st.just("replace"), index, steps, offset),
    st.tuples(st.just("fill"), index, steps),
    st.tuples(st.just("resend"), index),
    st.just(("settle",)),
)
actions = st.lists(action, max_size=30)


def check_filled_within_qty(h: Harness, executed: dict[str, Decimal]) -> None:
    for order in h.engine.state.orders.values():
        assert D(0) <= order.filled_qty <= order.qty, order.order_id
        total = order.filled_qty + order.overfill_qty
        assert total >= executed.get(order.order_id, D(0)), "executed quantity shrank"
        executed[order.order_id] = total


async def act(h: Harness, orders: list[OrderView], action: tuple[Any, ...]) -> None:
    kind = action[0]
    if kind == "place":
        _, order_type, side, qty, off = action
        if order_type == "MARKET":
            command = market_order(side=side, qty=str(qty * LOT))
        else:
            command = limit_order(side=side, qty=str(qty * LOT), price=str(50000 + off * TICK))
        orders.append(await h.place(command))
    elif kind == "settle":
        await h.settle()
    elif kind == "resend":
        if h.venue.pushed_fills:
            h.venue.push(h.venue.pushed_fills[action[1] % len(h.venue.pushed_fills)])
    elif orders:
        order = orders[action[1] % len(orders)]
        with contextlib.suppress(OrderGateError):  # refusals are fine; we test the state
            if kind == "cancel":
                await h.engine.cancel(CancelOrder(order.order_id))
            elif kind == "replace":
                price = None if order.type is OrderType.MARKET else 50000 + action[3] * TICK
                qty = action[2] * LOT
                await h.engine.replace(
                    ReplaceOrder(order.order_id, qty=qty, price=None if price is None else D(price))
                )
            elif kind == "fill" and order.client_order_id in h.venue.orders:
                h.venue.fill(order.client_order_id, action[2] * LOT, D(50000))


async def scenario(script: list[tuple[Any, ...]]) -> None:
    sessions = Sessions()
    try:
        h = await sessions.start()
        orders: list[OrderView] = []
        executed: dict[str, Decimal] = {}
        for action in script:
            await act(h, orders, action)
            check_filled_within_qty(h, executed)
        await h.settle()
        check_filled_within_qty(h, executed)

        distinct = {f.trade_id: f for f in h.venue.pushed_fills}
        signed = sum((f.qty * f.side.sign for f in distinct.values()), D(0))
        assert h.position() == signed
        by_order: dict[str, Decimal] = {}
        for f in distinct.values():
            by_order[f.client_order_id] = by_order.get(f.client_order_id, D(0)) + f.qty
        for order in h.engine.state.orders.values():
            executed_qty = order.filled_qty + order.overfill_qty
            assert executed_qty == by_order.get(order.client_order_id, D(0)), order.order_id
        report = await verify_store(h.store)
        assert report.ok, report.problems
        live = state_digest(h.engine.state)
        assert state_digest(await h.replayed()) == live
    finally:
        await sessions.close()


@settings(max_examples=200)
@given(script=actions)
def test_engine_any_commands_and_fills_keep_fills_within_qty_and_position_exact(script):
    asyncio.run(scenario(script))
