"""Orders through the engine and the fake venue: denials, fills, cancels, replaces, closes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from engine_support import (
    ACCOUNT,
    DEPOSIT,
    PRICE,
    D,
    ScriptedVenue,
    Sessions,
    limit_order,
    market_order,
    venue_fill,
)
from tests.fakes import BTC, FakeMarket
from tests.waiting import TIMEOUT

from ordergate.domain.errors import Conflict, EngineStopped, InvalidRequest, NotFound
from ordergate.domain.events import (
    OperatorActed,
    OrderCancelRequested,
    OrderDenied,
    OrderReplaceRequested,
)
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderStatus, OrderType, Side
from ordergate.engine.commands import CancelOrder, CloseAll, ClosePosition, ReplaceOrder


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


# --- denials -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "code"),
    [
        # 30 * 50,000 * 0.1 = 150,000 of margin; 100,000 deposited
        (market_order(qty="30"), ReasonCode.INSUFFICIENT_MARGIN),
        (market_order(qty="0.0005"), ReasonCode.QTY_BELOW_MIN),
        (limit_order(price="40000.05"), ReasonCode.PRICE_NOT_ON_TICK),
        (market_order(account="nobody"), ReasonCode.UNKNOWN_ACCOUNT),
        (market_order(side=Side.SELL, reduce_only=True), ReasonCode.REDUCE_ONLY_NO_POSITION),
    ],
)
async def test_place_denied_by_risk_journaled_with_code_and_not_sent(sessions, command, code):
    h = await sessions.start()

    view = await h.place(command)
    await h.settle()

    assert view.status is OrderStatus.DENIED
    assert view.reason_code == code
    denials = h.events(OrderDenied, view.order_id)
    assert [d.reason_code for d in denials] == [code]
    assert await h.store.order(view.order_id) == view
    assert h.venue.calls == []
    assert h.engine.order_margin(ACCOUNT) in ({}, {"USDT": D(0)})


# --- lifecycle -----------------------------------------------------------------------------


async def test_market_order_fills_at_venue_updates_position_and_balance(sessions):
    h = await sessions.start()
    placed = await h.place(market_order(qty="0.1"))
    assert placed.status is OrderStatus.PENDING_SUBMIT

    view = await h.settled(placed.order_id)

    assert view.status is OrderStatus.FILLED
    assert view.filled_qty == D("0.1")
    assert view.avg_fill_price == PRICE
    assert view.venue_order_id == "V1"
    assert h.position() == D("0.1")
    assert (await h.store.positions(ACCOUNT))[0].qty == D("0.1")
    assert h.balance() == DEPOSIT  # the fake venue charges no fee


async def test_market_order_fill_with_fee_debits_balance(sessions):
    market = FakeMarket()
    market.set(BTC.symbol, str(PRICE))
    h = await sessions.start(venue=ScriptedVenue(market, auto_fill=False), market=market)
    placed = await h.place(market_order(qty="0.1"))
    await h.settle()
    accepted = h.engine.order(placed.order_id)
    assert accepted is not None
    assert accepted.status is OrderStatus.ACCEPTED

    h.venue.push(venue_fill(placed, "0.1", PRICE, "T1", fee="2.5"))
    view = await h.settled(placed.order_id)

    assert view.status is OrderStatus.FILLED
    assert h.position() == D("0.1")
    assert h.balance() == DEPOSIT - D("2.5")
    assert [b.balance for b in await h.store.balances(ACCOUNT)] == [DEPOSIT - D("2.5")]
    assert (await h.store.positions(ACCOUNT))[0].fees == D("2.5")


async def test_cancel_resting_limit_order_ends_canceled(sessions):
    h = await sessions.start()
    resting = await h.place(limit_order(price="40000"))
    await h.settle()
    assert h.engine.order_margin(ACCOUNT) == {"USDT": D(400)}

    pending = await h.engine.cancel(CancelOrder(resting.order_id, reason="test"))
    view = await h.settled(resting.order_id)

    assert pending.status is OrderStatus.PENDING_CANCEL
    assert view.status is OrderStatus.CANCELED
    assert h.venue.requests("cancel") == [resting.client_order_id]
    assert h.engine.order_margin(ACCOUNT) == {"USDT": D(0)}


async def test_replace_resting_limit_order_ends_accepted_with_new_price(sessions):
    h = await sessions.start()
    resting = await h.place(limit_order(price="40000"))
    await h.settle()

    pending = await h.engine.replace(ReplaceOrder(resting.order_id, price=D("40100")))
    view = await h.settled(resting.order_id)

    assert pending.status is OrderStatus.PENDING_REPLACE
    assert pending.price == D(40000)  # unchanged until the venue confirms
    assert view.status is OrderStatus.ACCEPTED
    assert view.price == D(40100)
    assert h.venue.replaces == [(resting.client_order_id, D("0.1"), D(40100), None)]
    assert h.engine.order_margin(ACCOUNT) == {"USDT": D(401)}


async def test_cancel_terminal_order_raises_conflict_already_terminal(sessions):
    h = await sessions.start()
    filled = await h.place(market_order())
    await h.settle()

    with pytest.raises(Conflict) as raised:
        await h.engine.cancel(CancelOrder(filled.order_id))

    assert raised.value.code == ReasonCode.ORDER_ALREADY_TERMINAL
    assert h.venue.requests("cancel") == []
    assert h.events(OrderCancelRequested) == []


async def test_cancel_unknown_order_raises_conflict_state_unknown(sessions):
    h = await sessions.start()
    h.venue.hold.add("query")  # the query that would settle the doubt never returns
    h.venue.lost_answers = 1
    placed = await h.place(limit_order())
    doubtful = await h.engine.wait_for(
        placed.order_id, lambda v: v.status is OrderStatus.UNKNOWN, TIMEOUT
    )
    assert doubtful.status is OrderStatus.UNKNOWN

    with pytest.raises(Conflict) as raised:
        await h.engine.cancel(CancelOrder(placed.order_id))

    assert raised.value.code == ReasonCode.ORDER_STATE_UNKNOWN
    assert h.venue.requests("cancel") == []


async def test_cancel_twice_second_is_noop(sessions):
    h = await sessions.start()
    h.venue.hold.add("cancel")  # keep the order PENDING_CANCEL
    resting = await h.place(limit_order())
    await h.settle()

    first = await h.engine.cancel(CancelOrder(resting.order_id))
    second = await h.engine.cancel(CancelOrder(resting.order_id))

    assert first.status is OrderStatus.PENDING_CANCEL
    assert second.status is OrderStatus.PENDING_CANCEL
    assert len(h.events(OrderCancelRequested, resting.order_id)) == 1
    h.venue.hold.clear()
    h.venue.release.set()
    view = await h.settled(resting.order_id)
    assert view.status is OrderStatus.CANCELED
    assert h.venue.requests("cancel") == [resting.client_order_id]


async def test_replace_changing_nothing_raises_invalid_request(sessions):
    h = await sessions.start()
    resting = await h.place(limit_order(qty="0.1", price="40000"))
    await h.settle()

    with pytest.raises(InvalidRequest):
        await h.engine.replace(ReplaceOrder(resting.order_id, qty=D("0.1"), price=D(40000)))

    assert h.events(OrderReplaceRequested) == []
    assert h.venue.requests("replace") == []


async def test_replace_to_filled_qty_raises_conflict_below_filled(sessions):
    h = await sessions.start()
    resting = await h.place(limit_order(qty="0.1"))
    await h.settle()
    h.venue.fill(resting.client_order_id, D("0.05"), D(40000))
    partly = await h.settled(resting.order_id)
    assert partly.status is OrderStatus.PARTIALLY_FILLED

    with pytest.raises(Conflict) as raised:
        await h.engine.replace(ReplaceOrder(resting.order_id, qty=D("0.05")))

    assert raised.value.code == ReasonCode.REPLACE_BELOW_FILLED
    assert h.venue.requests("replace") == []


async def test_replace_needing_more_margin_than_free_raises_and_leaves_order(sessions):
    h = await sessions.start()
    # 100,000 deposited; 1.5 @ 40,000 reserves 6,000 of margin (rate 0.1)
    resting = await h.place(limit_order(qty="1.5", price="40000"))
    await h.settle()
    before = h.engine.order(resting.order_id)

    # 26 @ 40,000 needs 104,000: more than the 94,000 free plus the 6,000 it would free
    with pytest.raises(Conflict) as raised:
        await h.engine.replace(ReplaceOrder(resting.order_id, qty=D(26)))
    await h.settle()

    assert raised.value.code == ReasonCode.INSUFFICIENT_MARGIN
    assert h.engine.order(resting.order_id) == before
    assert h.engine.order_margin(ACCOUNT) == {"USDT": D(6000)}
    assert h.events(OrderReplaceRequested) == []
    assert h.venue.requests("replace") == []


async def test_replace_needing_exactly_the_free_margin_is_sent(sessions):
    h = await sessions.start()
    resting = await h.place(limit_order(qty="1.5", price="40000"))
    await h.settle()

    # 25 @ 40,000 needs 100,000: the 94,000 free plus the 6,000 the order reserves now
    pending = await h.engine.replace(ReplaceOrder(resting.order_id, qty=D(25)))
    view = await h.settled(resting.order_id)

    assert pending.status is OrderStatus.PENDING_REPLACE
    assert (view.status, view.qty) == (OrderStatus.ACCEPTED, D(25))
    assert h.engine.order_margin(ACCOUNT) == {"USDT": D(100000)}


# --- closing -------------------------------------------------------------------------------


async def test_close_position_sends_reduce_only_market_for_whole_position(sessions):
    h = await sessions.start()
    await h.place(market_order(qty="0.3"))
    await h.settle()

    closing = await h.engine.close_position(ClosePosition(ACCOUNT, BTC.symbol))
    view = await h.settled(closing.order_id)

    assert (closing.side, closing.type, closing.qty) == (Side.SELL, OrderType.MARKET, D("0.3"))
    assert closing.reduce_only
    assert view.status is OrderStatus.FILLED
    assert h.position() == D(0)


async def test_close_position_with_smaller_qty_closes_that_qty(sessions):
    h = await sessions.start()
    await h.place(market_order(side=Side.SELL, qty="0.3"))
    await h.settle()

    closing = await h.engine.close_position(ClosePosition(ACCOUNT, BTC.symbol, qty=D("0.1")))
    await h.settle()
    rest = await h.engine.close_position(ClosePosition(ACCOUNT, BTC.symbol, qty=D(5)))
    await h.settle()

    assert (closing.side, closing.qty, closing.reduce_only) == (Side.BUY, D("0.1"), True)
    assert rest.qty == D("0.2")  # never more than the position
    assert h.position() == D(0)


async def test_close_position_twice_before_first_fills_never_flips_position(sessions):
    market = FakeMarket()
    market.set(BTC.symbol, str(PRICE))
    h = await sessions.start(venue=ScriptedVenue(market, auto_fill=False), market=market)
    opened = await h.place(market_order(qty="0.3"))
    await h.settle()
    h.venue.fill(opened.client_order_id, D("0.3"), PRICE)
    await h.settle()

    closings = [await h.engine.close_position(ClosePosition(ACCOUNT, BTC.symbol))]
    with contextlib.suppress(Conflict):  # refusing the second close is a fine answer too
        closings.append(await h.engine.close_position(ClosePosition(ACCOUNT, BTC.symbol)))
    await h.settle()
    for closing in closings:  # a venue that does not enforce reduce-only fills them all
        if closing.client_order_id in h.venue.orders:
            h.venue.fill(closing.client_order_id, closing.qty, PRICE)
    await h.settle()

    assert h.position() == D(0)


async def test_close_position_without_position_raises_no_position(sessions):
    h = await sessions.start()
    with pytest.raises(Conflict) as raised:
        await h.engine.close_position(ClosePosition(ACCOUNT, BTC.symbol))

    assert raised.value.code == ReasonCode.NO_POSITION
    assert h.venue.calls == []


async def test_close_all_for_account_cancels_its_orders_and_closes_its_positions(sessions):
    h = await sessions.start(fund=("a", "b"))
    for account in ("a", "b"):
        await h.place(market_order(account=account, qty="0.2"))
        await h.place(limit_order(account=account, price="40000"))
    await h.settle()
    open_in_a = [o.order_id for o in h.engine.state.open_orders.values() if o.account == "a"]

    result = await h.engine.close_all(CloseAll(account="a"))
    await h.settle()

    assert [o.order_id for o in result.canceled] == open_in_a
    assert [(o.account, o.side, o.qty, o.reduce_only) for o in result.closing] == [
        ("a", Side.SELL, D("0.2"), True)
    ]
    assert h.position("a") == D(0)
    assert h.position("b") == D("0.2")
    assert h.engine.order(open_in_a[0]).status is OrderStatus.CANCELED
    assert [o.account for o in h.engine.state.open_orders.values()] == ["b"]


async def test_close_all_journals_who_asked_and_why(sessions):
    h = await sessions.start()
    await h.place(market_order(qty="0.2"))
    await h.settle()

    await h.engine.close_all(CloseAll(reason="end of day", actor="key:abc"))

    (acted,) = h.events(OperatorActed)
    assert (acted.account, acted.action, acted.actor, acted.detail) == (
        None,
        "CLOSE_ALL",
        "key:abc",
        "end of day",
    )


async def test_close_all_without_account_flattens_every_account(sessions):
    h = await sessions.start(fund=("a", "b"))
    for account in ("a", "b"):
        await h.place(market_order(account=account, qty="0.2"))
        await h.place(limit_order(account=account, price="40000"))
    await h.place(market_order(account="b", side=Side.SELL, qty="0.5"))
    await h.settle()

    result = await h.engine.close_all(CloseAll())
    await h.settle()

    assert sorted(o.account for o in result.canceled) == ["a", "b"]
    assert [(o.account, o.side, o.qty) for o in result.closing] == [
        ("a", Side.SELL, D("0.2")),
        ("b", Side.BUY, D("0.3")),
    ]
    assert h.position("a") == D(0)
    assert h.position("b") == D(0)
    assert h.engine.state.open_orders == {}


# --- waiting, lanes, stopping -------------------------------------------------------------


async def test_wait_for_venue_market_order_waits_for_outcome(sessions):
    h = await sessions.start()
    placed = await h.place(market_order())

    view = await h.engine.wait_for_venue(placed.order_id, TIMEOUT)

    assert view.status is OrderStatus.FILLED


async def test_wait_for_venue_limit_order_waits_for_acknowledgement(sessions):
    h = await sessions.start()
    placed = await h.place(limit_order())

    view = await h.engine.wait_for_venue(placed.order_id, TIMEOUT)

    assert view.status is OrderStatus.ACCEPTED


async def test_wait_for_venue_times_out_with_order_as_journaled(sessions):
    h = await sessions.start()
    h.venue.hold.add("submit")
    placed = await h.place(limit_order())

    view = await h.engine.wait_for_venue(placed.order_id, 0.01)

    assert view.status is OrderStatus.PENDING_SUBMIT


async def test_cancel_missing_order_raises_not_found(sessions):
    h = await sessions.start()
    with pytest.raises(NotFound):
        await h.engine.cancel(CancelOrder("0-999"))
    with pytest.raises(NotFound):
        await h.engine.wait_for("0-999", lambda _: True, 0.01)


@pytest.mark.parametrize("lanes", [1, 4])
async def test_cancel_right_after_place_reaches_venue_after_its_submit(sessions, lanes):
    h = await sessions.start(venue_lanes=lanes)
    placed = [await h.place(limit_order(price=str(40000 + n))) for n in range(8)]
    for order in placed:
        await h.engine.cancel(CancelOrder(order.order_id))
    await h.settle()

    for order in placed:
        kinds = [k for k, coid in h.venue.calls if coid == order.client_order_id]
        assert kinds == ["submit", "cancel"]
        assert h.engine.order(order.order_id).status is OrderStatus.CANCELED


async def test_engine_stopped_refuses_commands(sessions):
    h = await sessions.start()
    await h.engine.stop()
    await h.engine.stop()  # stopping twice is harmless

    with pytest.raises(EngineStopped):
        await h.place(market_order())
    assert not h.engine.running
    assert not h.venue.connected
