"""ordergate whole against the MT5 EA simulator on a netting account: `Settings(venue="mt5")`.

This is the path `ordergate serve --venue mt5` runs against `ordergate simulate mt5`: the
engine, the journal, the `mt5` venue and its bridge client over real ZeroMQ sockets on
loopback (`mt5_oms_support`). Under each fault ordergate is held to the simulated trade
server: one MT5 order per client order id, every deal booked once, each order in the
trade server's state, ordergate's position equal to the account's, and no instrument
left dirty.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import jsonschema_rs
import pytest
from mt5_oms_support import (
    SYMBOL,
    D,
    Rig,
    assert_agrees_with_the_venue,
    started_rig,
    trade,
)

from ordergate.domain.events import InstrumentMarkedDirty
from ordergate.domain.values import DirtyCause, OrderStatus, OrderType, Side
from ordergate.protocols.mt5 import schema
from ordergate.simulators.mt5.server import Mt5Simulator


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    async with started_rig("netting") as rig:
        yield rig


async def test_orders_fill_rest_and_cancel_as_the_trade_server_says(rig: Rig):
    await trade(rig)

    views = {v.idempotency_key: v for v in (await rig.oms.orders(limit=10)).items}
    assert {k: (v.status, v.filled_qty) for k, v in views.items()} == {
        "m1": (OrderStatus.FILLED, D("0.10")),
        "l1": (OrderStatus.FILLED, D("0.20")),
        "s1": (OrderStatus.CANCELED, D(0)),
    }
    assert views["m1"].avg_fill_price == D("1.10002")
    assert views["l1"].avg_fill_price == D("1.09900")
    [position] = await rig.oms.positions()
    assert position.qty == D("0.30")
    submits = [r for r in rig.sim.requests if r["cmd"] == "submit_order"]
    assert len(submits) == 3  # one each: no fault, no resend


# Faults of the sockets and of the trade server, set before `trade` runs, and what the
# simulator notes when each acts.
FAULTS: dict[str, tuple[Callable[[Mt5Simulator], None], str]] = {
    "reply-lost": (lambda sim: sim.lose_replies(1), "lose_reply"),
    "reply-garbled": (lambda sim: sim.garble_replies(1), "garble_reply"),
    "ea-silent-once": (lambda sim: sim.silence(1), "silence"),
    "ea-silent-to-every-attempt": (lambda sim: sim.silence(3), "silence"),
    "event-dropped": (lambda sim: sim.drop_events(1), "drop_event"),
    "events-duplicated": (lambda sim: sim.duplicate_events(6), "duplicate_event"),
    "events-swapped": (lambda sim: sim.swap_events(2), "swap_events"),
    "event-garbled": (lambda sim: sim.garble_events(1), "garble_event"),
    "too-many-requests": (lambda sim: sim.inject_retcode(10024), "retcode 10024"),
    "no-connection": (lambda sim: sim.inject_retcode(10031), "retcode 10031"),
    "trade-server-timeout": (lambda sim: sim.inject_retcode(10012), "retcode 10012"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_under_a_fault_ordergate_ends_where_the_trade_server_is(rig: Rig, fault: str):
    set_fault, fired = FAULTS[fault]
    set_fault(rig.sim)

    await trade(rig)

    assert fired in rig.sim.fired, f"the fault never acted: {rig.sim.fired}"

    views = {v.idempotency_key: v for v in (await rig.oms.orders(limit=10)).items}
    assert views["m1"].status is OrderStatus.FILLED
    assert views["l1"].status is OrderStatus.FILLED
    [position] = await rig.oms.positions()
    assert position.qty == D("0.30")


async def test_a_dropped_event_is_fetched_with_events_since(rig: Rig):
    rig.sim.drop_events(1)  # the market order's fill

    await trade(rig)

    recoveries = [r for r in rig.sim.requests if r["cmd"] == "events_since"]
    assert recoveries, "the gap was not asked for"
    assert rig.sim.fired == ["drop_event"]


@pytest.mark.parametrize(
    ("retcode", "name"),
    [
        (10004, "TRADE_RETCODE_REQUOTE"),
        (10006, "TRADE_RETCODE_REJECT"),
        (10014, "TRADE_RETCODE_INVALID_VOLUME"),
        (10016, "TRADE_RETCODE_INVALID_STOPS"),
        (10018, "TRADE_RETCODE_MARKET_CLOSED"),
        (10019, "TRADE_RETCODE_NO_MONEY"),
        (10020, "TRADE_RETCODE_PRICE_CHANGED"),
    ],
)
async def test_a_refusal_rejects_the_order_with_its_retcode(rig: Rig, retcode: int, name: str):
    rig.sim.inject_retcode(retcode)

    order = await rig.oms.place(SYMBOL, Side.BUY, D("0.10"), idempotency_key="r1")
    ended = await rig.ended(order.order_id)

    assert ended.status is OrderStatus.REJECTED
    assert name in (ended.reason or "")
    expected = "VENUE_INSUFFICIENT_MARGIN" if retcode == 10019 else "VENUE_REJECTED"
    assert ended.reason_code == expected
    assert rig.sim.trade_server.open_positions() == []
    assert await rig.oms.positions() == []
    await trade(rig)  # and trading goes on


async def test_an_ea_restart_is_a_reconnect_and_a_fill_meanwhile_is_adopted(rig: Rig):
    marks: list[InstrumentMarkedDirty] = []
    rig.oms.subscribe(
        lambda item: (
            marks.append(item.event) if isinstance(item.event, InstrumentMarkedDirty) else None
        )
    )
    limit = await rig.oms.place(
        SYMBOL, Side.BUY, D("0.20"), OrderType.LIMIT, price=D("1.09900"), idempotency_key="l0"
    )
    await rig.resting(limit.order_id)

    # The EA restarts and the order fills in its new session before ordergate has heard
    # from it: the fill's event is of a session ordergate has not said hello to.
    rig.sim.restart()
    await rig.quote("1.09850", "1.09852")
    await rig.ended(limit.order_id)
    await rig.clean()

    assert DirtyCause.VENUE_RECONNECT in {m.cause for m in marks}
    assert rig.view(limit.order_id).status is OrderStatus.FILLED
    assert any(r["cmd"] == "get_deals" for r in rig.sim.requests)  # the snapshot
    await assert_agrees_with_the_venue(rig)
    await rig.quote("1.10000", "1.10002")
    await trade(rig)


async def test_a_server_side_close_reaches_ordergate_as_a_fill_it_did_not_ask_for(rig: Rig):
    marks: list[InstrumentMarkedDirty] = []
    rig.oms.subscribe(
        lambda item: (
            marks.append(item.event) if isinstance(item.event, InstrumentMarkedDirty) else None
        )
    )
    market = await rig.oms.place(SYMBOL, Side.BUY, D("0.10"), idempotency_key="m1")
    await rig.ended(market.order_id)
    await rig.clean()
    # A person sets a stop-loss on the position in the terminal; the market reaches it.
    [position] = rig.sim.trade_server.open_positions()
    position.sl = D("1.09500")
    await rig.quote("1.09480", "1.09482")

    await rig.until(lambda: not rig.sim.trade_server.open_positions(), "the server's close")
    await rig.until(lambda: any(m.cause is DirtyCause.UNKNOWN_FILL for m in marks), "doubt")
    await rig.clean()

    assert await rig.oms.positions() == []
    [adopted] = [
        v for v in (await rig.oms.orders(limit=10)).items if v.client_order_id.startswith("mt5-")
    ]
    assert (adopted.side, adopted.filled_qty, adopted.avg_fill_price) == (
        Side.SELL,
        D("0.10"),
        D("1.09480"),
    )
    await assert_agrees_with_the_venue(rig)


async def test_a_stop_out_closes_the_position_and_ordergate_adopts_the_servers_close():
    async with started_rig("netting") as rig:
        market = await rig.oms.place(SYMBOL, Side.BUY, D("5.00"), idempotency_key="big")
        await rig.ended(market.order_id)
        await rig.clean()

        await rig.quote("1.08000", "1.08002")  # equity below half the margin
        await rig.until(lambda: not rig.sim.trade_server.open_positions(), "the stop-out")
        await rig.clean()

        [deal] = [d for d in rig.sim.trade_server.deals if d.reason == "so"]
        assert await rig.oms.positions() == []
        [adopted] = [
            v
            for v in (await rig.oms.orders(limit=10)).items
            if v.client_order_id == f"mt5-{deal.order}"
        ]
        assert (adopted.side, adopted.filled_qty) == (Side.SELL, D("5.00"))
        await assert_agrees_with_the_venue(rig)


async def test_a_stop_the_server_rejects_after_placing_it_ends_canceled_with_the_reason(rig: Rig):
    stop = await rig.oms.place(
        SYMBOL, Side.BUY, D("5.00"), OrderType.STOP, stop_price=D("1.10500"), idempotency_key="st"
    )
    await rig.resting(stop.order_id)
    rig.sim.trade_server.account.balance -= D(6_000)  # a withdrawal, made in the terminal

    await rig.quote("1.10500", "1.10502")
    ended = await rig.ended(stop.order_id)

    # Accepted, then ended by the venue: a cancel in ordergate's terms, with MT5's reason.
    assert (ended.status, ended.reason_code) == (
        OrderStatus.CANCELED,
        "VENUE_INSUFFICIENT_MARGIN",
    )
    assert "TRADE_RETCODE_NO_MONEY" in (ended.reason or "")
    assert rig.sim.trade_server.open_positions() == []
    await assert_agrees_with_the_venue(rig)


@pytest.mark.parametrize("margin_mode", ["netting", "hedging"])
async def test_every_command_ordergate_sends_speaks_the_schema(margin_mode: str):
    async with started_rig(margin_mode) as rig:
        await trade(rig)
        closing = await rig.oms.close_position(SYMBOL)  # on hedging: closes in parts
        await rig.ended(closing.order_id)

        requests = rig.sim.requests

    valid = jsonschema_rs.validator_for(schema())
    errors = [(r["cmd"], e.message) for r in requests for e in valid.iter_errors(r)]
    assert errors == []
    sent = {r["cmd"] for r in requests}
    assert {"hello", "get_symbols", "get_quotes", "submit_order", "cancel_order"} <= sent
    if margin_mode == "hedging":
        assert "close_position" in sent
