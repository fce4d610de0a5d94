"""The ccxt adapter end to end against the Bybit v5 simulator: the venue contract, no faults."""

from __future__ import annotations

import msgspec
import pytest
from sim_support import (
    ACCOUNT,
    ASK,
    CASH,
    PASSIVE_CAP,
    SYMBOL,
    D,
    assert_agrees_with_the_venue,
    bybit_rig,
    order,
)

from ordergate.domain.errors import AmbiguousVenueError, RejectedByVenue
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderStatus, OrderType, Side
from ordergate.engine.venue_reports import (
    VenueFill,
    VenueOrderAccepted,
    VenueOrderCanceled,
    VenueOrderReplaced,
)


@pytest.fixture
async def rig():
    async with bybit_rig() as rig:
        yield rig


async def test_connect_loads_the_instrument_from_the_venue(rig):
    [btc] = rig.venue.instruments

    assert (btc.symbol, btc.tick_size, btc.lot_step, btc.min_qty, btc.min_notional) == (
        SYMBOL,
        D("0.1"),
        D("0.001"),
        D("0.001"),
        D("5"),
    )
    assert rig.venue.live is False
    assert rig.venue.name == "bybit"


async def test_a_resting_limit_is_acknowledged_and_reported_open(rig):
    request = order()

    receipt = await rig.venue.submit_order(request)
    await rig.acknowledged(request.client_order_id)

    assert receipt.venue_order_id is not None
    assert not receipt.accepted
    report = await rig.venue.get_order(ACCOUNT, SYMBOL, request.client_order_id)
    assert report is not None
    assert (report.status, report.type, report.side, report.venue_order_id) == (
        OrderStatus.ACCEPTED,
        OrderType.LIMIT,
        Side.BUY,
        receipt.venue_order_id,
    )
    assert (report.qty, report.price, report.filled_qty) == (D("0.010"), D("49000.0"), 0)
    assert [o.client_order_id for o in await rig.venue.get_open_orders(ACCOUNT)] == [
        request.client_order_id
    ]
    assert await rig.venue.get_open_orders(ACCOUNT, "ETHUSDT") == []
    [venue_order] = rig.sim.orders(SYMBOL)
    assert venue_order.order_link_id == request.client_order_id  # sent as orderLinkId


async def test_a_resting_order_fills_partly_then_fully(rig):
    request = order(qty="0.008", price="49900.0")
    await rig.venue.submit_order(request)
    await rig.acknowledged(request.client_order_id)

    await rig.quote(D("49800.0"), D("49850.0"))
    await rig.filled_up_to(request.client_order_id, PASSIVE_CAP)
    partly = await rig.venue.get_order(ACCOUNT, SYMBOL, request.client_order_id)
    await rig.quote(D("49800.0"), D("49850.0"))
    await rig.filled_up_to(request.client_order_id, D("0.008"))
    done = await rig.venue.get_order(ACCOUNT, SYMBOL, request.client_order_id)

    assert partly is not None
    assert (partly.status, partly.filled_qty) == (
        OrderStatus.PARTIALLY_FILLED,
        PASSIVE_CAP,
    )
    assert done is not None
    assert (done.status, done.filled_qty) == (OrderStatus.FILLED, D("0.008"))
    kinds = [type(e) for e in rig.log.of(request.client_order_id)]
    assert kinds == [VenueOrderAccepted, VenueFill, VenueFill]
    assert await rig.venue.get_open_orders(ACCOUNT) == []
    await assert_agrees_with_the_venue(rig, request.client_order_id)


async def test_a_market_order_fills_and_the_account_follows(rig):
    request = order(qty="0.010", price=None)

    await rig.venue.submit_order(request)
    await rig.filled_up_to(request.client_order_id, D("0.010"))

    fills = rig.log.fills(request.client_order_id)
    assert {f.price for f in fills} == {ASK}
    assert all(f.venue_seq is None for f in rig.log.events if hasattr(f, "venue_seq"))
    [position] = await rig.venue.get_positions(ACCOUNT)
    assert (position.symbol, position.qty, position.avg_price) == (SYMBOL, D("0.010"), ASK)
    fees = sum((f.fee for f in fills), D(0))
    balances = {b.currency: b.balance for b in await rig.venue.get_balances(ACCOUNT)}
    assert fees > 0
    assert balances["USDT"] == CASH - fees
    listed = await rig.venue.get_fills(ACCOUNT)
    assert [f.trade_id for f in listed] == [f.trade_id for f in fills]
    assert await rig.venue.get_fills(ACCOUNT, since_ts=max(f.ts for f in listed) + 1) == []
    await assert_agrees_with_the_venue(rig, request.client_order_id)


async def test_cancel_ends_the_order_and_keeps_its_fill(rig):
    request = order(qty="0.008", price="49900.0")
    await rig.venue.submit_order(request)
    await rig.acknowledged(request.client_order_id)
    await rig.quote(D("49800.0"), D("49850.0"))
    await rig.filled_up_to(request.client_order_id, PASSIVE_CAP)

    await rig.venue.cancel_order(ACCOUNT, SYMBOL, request.client_order_id)
    await rig.canceled(request.client_order_id)

    [canceled] = [
        e for e in rig.log.of(request.client_order_id) if isinstance(e, VenueOrderCanceled)
    ]
    assert canceled.filled_qty == PASSIVE_CAP
    report = await rig.venue.get_order(ACCOUNT, SYMBOL, request.client_order_id)
    assert report is not None
    assert (report.status, report.filled_qty) == (OrderStatus.CANCELED, PASSIVE_CAP)
    [position] = await rig.venue.get_positions(ACCOUNT)
    assert position.qty == PASSIVE_CAP
    await assert_agrees_with_the_venue(rig, request.client_order_id)


async def test_replace_changes_quantity_and_price_in_place(rig):
    request = order()
    await rig.venue.submit_order(request)
    await rig.acknowledged(request.client_order_id)

    await rig.venue.replace_order(
        ACCOUNT, SYMBOL, request.client_order_id, D("0.020"), D("48000.0"), None
    )
    await rig.log.wait_for(
        lambda: rig.log.count(VenueOrderReplaced, request.client_order_id) == 1, "the replace"
    )

    [replaced] = [
        e for e in rig.log.of(request.client_order_id) if isinstance(e, VenueOrderReplaced)
    ]
    assert (replaced.qty, replaced.price) == (D("0.020"), D("48000.0"))
    report = await rig.venue.get_order(ACCOUNT, SYMBOL, request.client_order_id)
    assert report is not None
    assert (report.status, report.qty, report.price) == (
        OrderStatus.ACCEPTED,
        D("0.020"),
        D("48000.0"),
    )
    assert len(rig.sim.orders(SYMBOL)) == 1  # amended, not replaced by a new order


async def test_an_order_beyond_the_account_is_refused(rig):
    request = order(qty="1000", price="49000.0")

    with pytest.raises(RejectedByVenue) as refused:
        await rig.venue.submit_order(request)

    assert refused.value.code == ReasonCode.VENUE_INSUFFICIENT_MARGIN
    assert await rig.venue.get_order(ACCOUNT, SYMBOL, request.client_order_id) is None
    assert await rig.venue.get_open_orders(ACCOUNT) == []
    assert await rig.venue.get_positions(ACCOUNT) == []


async def test_unknown_client_order_ids_are_answered_and_refused(rig):
    assert await rig.venue.get_order(ACCOUNT, SYMBOL, "0" * 32) is None
    with pytest.raises(RejectedByVenue) as cancel:
        await rig.venue.cancel_order(ACCOUNT, SYMBOL, "f" * 32)
    with pytest.raises(RejectedByVenue) as replace:
        await rig.venue.replace_order(ACCOUNT, SYMBOL, "e" * 32, D("0.02"), D("48000.0"), None)

    assert cancel.value.code == replace.value.code == ReasonCode.VENUE_ORDER_NOT_FOUND


async def test_a_reused_client_order_id_makes_no_second_order_and_is_ambiguous(rig):
    request = order()
    await rig.venue.submit_order(request)
    await rig.acknowledged(request.client_order_id)

    with pytest.raises(AmbiguousVenueError):
        await rig.venue.submit_order(order(qty="0.020", client_order_id=request.client_order_id))

    report = await rig.venue.get_order(ACCOUNT, SYMBOL, request.client_order_id)
    assert report is not None
    assert report.qty == D("0.010")
    await assert_agrees_with_the_venue(rig, request.client_order_id)


async def test_requests_for_another_account_or_symbol_are_refused(rig):
    with pytest.raises(RejectedByVenue) as account:
        await rig.venue.get_positions("someone-else")
    with pytest.raises(RejectedByVenue) as symbol:
        await rig.venue.submit_order(msgspec.structs.replace(order(), symbol="ETHUSDT"))

    assert account.value.code == ReasonCode.UNKNOWN_ACCOUNT
    assert symbol.value.code == ReasonCode.SYMBOL_NOT_ALLOWED
