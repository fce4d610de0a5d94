"""ordergate whole on a hedging MT5 account: several positions per symbol, one net
position in ordergate. An order that reduces the net position closes the account's
positions on the other side (oldest first, or newest with `mt5_close_order`), each by
`close_position` under a client order id of its own, and only what is left opens a new
position; ordergate books every part's deals on the one order."""

from __future__ import annotations

from decimal import Decimal

import pytest
from mt5_oms_support import (
    SYMBOL,
    D,
    Rig,
    assert_agrees_with_the_venue,
    mt5_orders_of,
    sim_net_position,
    started_rig,
    trade,
)

from ordergate.domain.values import OrderStatus, Side


async def filled(rig: Rig, side: Side, qty: str, key: str) -> str:
    order = await rig.oms.place(SYMBOL, side, D(qty), idempotency_key=key)
    ended = await rig.ended(order.order_id)
    assert ended.status is OrderStatus.FILLED, (ended.status, ended.reason)
    await rig.clean()
    return order.client_order_id


def held(rig: Rig) -> list[tuple[str, Decimal]]:
    """The account's positions, oldest first: (side, volume)."""
    positions = sorted(rig.sim.trade_server.open_positions(), key=lambda p: p.ticket)
    return [(p.side, p.volume) for p in positions]


async def test_buys_are_positions_of_their_own_and_one_net_position_in_ordergate():
    async with started_rig("hedging") as rig:
        await filled(rig, Side.BUY, "0.10", "b1")
        await filled(rig, Side.BUY, "0.20", "b2")

        assert held(rig) == [("buy", D("0.10")), ("buy", D("0.20"))]
        [position] = await rig.oms.positions()
        assert position.qty == D("0.30")
        assert position.avg_price == D("1.10002")
        await assert_agrees_with_the_venue(rig)


@pytest.mark.parametrize(
    ("close_order", "left"),
    [
        ("oldest", [("buy", D("0.05"))]),  # the 0.10 closed, 0.15 of the 0.20
        ("newest", [("buy", D("0.05"))]),  # the 0.20 closed, 0.05 of the 0.10
    ],
)
async def test_a_sell_closes_the_long_positions_in_the_configured_order(
    close_order: str, left: list[tuple[str, Decimal]]
):
    async with started_rig("hedging", mt5_close_order=close_order) as rig:
        await filled(rig, Side.BUY, "0.10", "b1")
        await filled(rig, Side.BUY, "0.20", "b2")
        first, second = sorted(rig.sim.trade_server.open_positions(), key=lambda p: p.ticket)

        coid = await filled(rig, Side.SELL, "0.25", "s1")

        assert held(rig) == left
        [survivor] = rig.sim.trade_server.open_positions()
        assert survivor.ticket == (second if close_order == "oldest" else first).ticket
        parts = mt5_orders_of(rig.sim.trade_server, coid)
        assert len(parts) == 2
        closed = [o.closes for o in parts]
        expected = [first.ticket, second.ticket]
        assert closed == (expected if close_order == "oldest" else expected[::-1])
        [position] = await rig.oms.positions()
        assert position.qty == D("0.05")
        await assert_agrees_with_the_venue(rig)


async def test_a_sell_beyond_the_longs_closes_them_all_and_opens_a_short_with_the_rest():
    async with started_rig("hedging") as rig:
        await filled(rig, Side.BUY, "0.10", "b1")
        await filled(rig, Side.BUY, "0.20", "b2")

        coid = await filled(rig, Side.SELL, "0.40", "s1")

        assert held(rig) == [("sell", D("0.10"))]
        kinds = [o.closes is not None for o in mt5_orders_of(rig.sim.trade_server, coid)]
        assert kinds == [True, True, False]  # two closes, then a new position
        [position] = await rig.oms.positions()
        assert position.qty == D("-0.10")
        assert sim_net_position(rig.sim) == D("-0.10")
        await assert_agrees_with_the_venue(rig)


async def test_closing_the_position_through_ordergate_leaves_the_account_flat():
    async with started_rig("hedging") as rig:
        await filled(rig, Side.BUY, "0.10", "b1")
        await filled(rig, Side.BUY, "0.20", "b2")

        closing = await rig.oms.close_position(SYMBOL)
        await rig.ended(closing.order_id)
        await rig.clean()

        assert held(rig) == []
        assert await rig.oms.positions() == []
        await assert_agrees_with_the_venue(rig)


async def test_a_resent_part_after_a_lost_reply_closes_each_position_once():
    async with started_rig("hedging") as rig:
        await filled(rig, Side.BUY, "0.10", "b1")
        await filled(rig, Side.BUY, "0.20", "b2")
        rig.sim.lose_replies(2, command="close_position")  # the first close's, twice

        await filled(rig, Side.SELL, "0.30", "s1")

        assert rig.sim.fired == ["lose_reply", "lose_reply"]
        assert held(rig) == []
        closes = [r["args"]["ticket"] for r in rig.sim.requests if r["cmd"] == "close_position"]
        first, second = closes[0], closes[-1]
        assert closes == [first, first, first, second]  # resent, carried out once
        assert [d.position_id for d in rig.sim.trade_server.deals if d.entry == "out"] == [
            first,
            second,
        ]
        await assert_agrees_with_the_venue(rig)


async def test_hedging_trades_like_netting_through_ordergate():
    async with started_rig("hedging") as rig:
        await trade(rig)
