"""Stop and stop-limit orders through the ccxt adapter, end to end on the Bybit simulator.

ordergate's STOP / STOP_LIMIT go out as Bybit conditional orders (`triggerPrice`,
`triggerDirection`); the simulator holds them `Untriggered` until the market reaches the
trigger. The adapter must say each transition once: accepted when placed, nothing for
the trigger itself, then the fills (or the cancel), and answer queries by client order
id with the venue's truth.
"""

from __future__ import annotations

import itertools

import pytest
from sim_support import (
    ACCOUNT,
    PASSIVE_CAP,
    SYMBOL,
    D,
    Rig,
    assert_agrees_with_the_venue,
    bybit_rig,
)

from ordergate.domain.errors import RejectedByVenue
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.venue_reports import (
    VenueFill,
    VenueOrderAccepted,
    VenueOrderCanceled,
    VenueOrderReplaced,
    VenueOrderRequest,
)
from ordergate.simulators.bybit import OrderStatus as BybitStatus

_ids = itertools.count(1)


@pytest.fixture
async def rig():
    async with bybit_rig() as rig:  # BTCUSDT at 50000.0 / 50010.0
        yield rig


def stop(side: Side, qty: str, stop_price: str, price: str | None = None) -> VenueOrderRequest:
    """A STOP (no `price`) or STOP_LIMIT order on the rig's symbol."""
    return VenueOrderRequest(
        client_order_id=f"c0{next(_ids):030x}",
        account=ACCOUNT,
        symbol=SYMBOL,
        side=side,
        type=OrderType.STOP if price is None else OrderType.STOP_LIMIT,
        qty=D(qty),
        price=None if price is None else D(price),
        stop_price=D(stop_price),
        time_in_force=TimeInForce.GTC,
        reduce_only=False,
    )


async def placed(rig: Rig, request: VenueOrderRequest) -> str:
    await rig.venue.submit_order(request)
    await rig.acknowledged(request.client_order_id)
    return request.client_order_id


def bybit_status(rig: Rig, client_order_id: str) -> BybitStatus:
    record = rig.sim.order(order_link_id=client_order_id)
    assert record is not None
    return record.status


async def test_a_stop_sell_and_a_stop_limit_buy_trigger_fill_and_agree_with_the_venue(rig):
    sell = await placed(rig, stop(Side.SELL, "0.010", "49900.0"))
    buy = await placed(rig, stop(Side.BUY, "0.020", "50100.0", price="50105.0"))

    waiting = await rig.venue.get_open_orders(ACCOUNT)
    await rig.quote(D("49890.0"), D("49895.0"))  # the bid falls through the sell's trigger
    await rig.filled_up_to(sell, D("0.010"))
    await rig.quote(D("50100.0"), D("50110.0"))  # the buy triggers above its limit: it rests
    rested = bybit_status(rig, buy)
    working = await rig.venue.get_order(ACCOUNT, SYMBOL, buy)
    for _ in range(4):  # the ask comes back through the limit: maker fills at the limit
        await rig.quote(D("50090.0"), D("50100.0"))
    await rig.filled_up_to(buy, D("0.020"))

    assert sorted((o.client_order_id, o.type, o.status) for o in waiting) == sorted(
        [
            (sell, OrderType.STOP, OrderStatus.ACCEPTED),
            (buy, OrderType.STOP_LIMIT, OrderStatus.ACCEPTED),
        ]
    )
    assert [type(e) for e in rig.log.of(sell)] == [VenueOrderAccepted, VenueFill]
    [sold] = rig.log.fills(sell)
    assert (sold.side, sold.qty, sold.price) == (Side.SELL, D("0.010"), D("49890.0"))
    assert rested is BybitStatus.NEW
    assert working is not None
    assert (working.status, working.filled_qty, working.stop_price) == (
        OrderStatus.ACCEPTED,
        0,
        D("50100.0"),
    )
    assert [type(e) for e in rig.log.of(buy)] == [VenueOrderAccepted] + [VenueFill] * 4
    assert {(f.side, f.qty, f.price) for f in rig.log.fills(buy)} == {
        (Side.BUY, PASSIVE_CAP, D("50105.0"))
    }
    for client_order_id, kind, qty, avg, stop_price in (
        (sell, OrderType.STOP, D("0.010"), D("49890.0"), D("49900.0")),
        (buy, OrderType.STOP_LIMIT, D("0.020"), D("50105.0"), D("50100.0")),
    ):
        report = await rig.venue.get_order(ACCOUNT, SYMBOL, client_order_id)
        assert report is not None
        assert (report.status, report.type, report.filled_qty) == (OrderStatus.FILLED, kind, qty)
        assert (report.avg_fill_price, report.stop_price) == (avg, stop_price)
    assert await rig.venue.get_open_orders(ACCOUNT) == []
    assert rig.sim.position(SYMBOL).size == D("0.010")
    await assert_agrees_with_the_venue(rig, sell, buy)


async def test_cancel_of_an_untriggered_stop_ends_canceled(rig):
    waiting = await placed(rig, stop(Side.SELL, "0.010", "49900.0"))

    await rig.venue.cancel_order(ACCOUNT, SYMBOL, waiting)
    await rig.canceled(waiting)

    [canceled] = rig.log.of_kind(VenueOrderCanceled, waiting)
    assert (canceled.filled_qty, canceled.reason_code) == (0, None)
    report = await rig.venue.get_order(ACCOUNT, SYMBOL, waiting)
    assert report is not None
    assert (report.status, report.type) == (OrderStatus.CANCELED, OrderType.STOP)
    assert bybit_status(rig, waiting) is BybitStatus.DEACTIVATED
    await rig.quote(D("49890.0"), D("49895.0"))  # past the old trigger: nothing happens
    assert rig.log.fills() == []
    await assert_agrees_with_the_venue(rig, waiting)


async def test_replace_of_an_untriggered_stop_limit_moves_its_trigger(rig):
    waiting = await placed(rig, stop(Side.SELL, "0.010", "49900.0", price="49850.0"))

    await rig.venue.replace_order(ACCOUNT, SYMBOL, waiting, D("0.020"), D("49750.0"), D("49800.0"))
    await rig.log.wait_for(lambda: rig.log.count(VenueOrderReplaced, waiting) == 1, "the replace")
    await rig.quote(D("49850.0"), D("49855.0"))  # past the old trigger, not the new one
    untouched = bybit_status(rig, waiting)
    await rig.quote(D("49790.0"), D("49795.0"))
    await rig.filled_up_to(waiting, D("0.020"))

    [replaced] = rig.log.of_kind(VenueOrderReplaced, waiting)
    assert (replaced.qty, replaced.price, replaced.stop_price) == (
        D("0.020"),
        D("49750.0"),
        D("49800.0"),
    )
    assert untouched is BybitStatus.UNTRIGGERED
    [fill] = rig.log.fills(waiting)
    assert (fill.qty, fill.price) == (D("0.020"), D("49790.0"))  # triggered, taken at once
    assert len(rig.sim.orders(SYMBOL)) == 1  # amended, not replaced by a new order
    await assert_agrees_with_the_venue(rig, waiting)


async def test_a_stop_the_market_has_already_passed_is_refused(rig):
    request = stop(Side.SELL, "0.010", "50000.0")  # at the bid: Bybit wants it below

    with pytest.raises(RejectedByVenue, match="110093") as refused:
        await rig.venue.submit_order(request)

    assert refused.value.code == ReasonCode.VENUE_REJECTED
    assert await rig.venue.get_order(ACCOUNT, SYMBOL, request.client_order_id) is None
    assert rig.sim.orders() == []
