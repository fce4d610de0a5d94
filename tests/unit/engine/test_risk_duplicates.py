"""Order-spam suppression and pending-duplicate prevention (seed 003).

Spam: the same strategy, symbol, side and qty again within `spam_window_ms` is denied.
Pending duplicates: with `one_pending_order_per_side`, a second order on a side waits
until the first fills, cancels or is rejected.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from engine_support import ACCOUNT, SECOND, Sessions
from gates_support import ETH, MS, D, assert_denied, assert_sent, order, placed, start
from tests.fakes import BTC

from ordergate.domain.errors import RejectedByVenue
from ordergate.domain.limits import RiskLimits
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderStatus, Side
from ordergate.engine.commands import CancelOrder

R = ReasonCode
SPAM = RiskLimits(spam_window_ms=1000)
ONE_PENDING = RiskLimits(one_pending_order_per_side=True)


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


def bot(**kw) -> object:
    kw.setdefault("qty", "0.01")
    kw.setdefault("price", "49000")
    kw.setdefault("strategy", "bot-7")
    return order(**kw)


# --- spam --------------------------------------------------------------------------------------


async def test_spam_same_order_within_window_denied(sessions):
    h = await start(sessions, SPAM)
    first = await placed(h, bot())
    h.clock.advance(999 * MS)

    again = await placed(h, bot())

    assert_sent(h, first)
    assert_denied(h, again, R.DUPLICATE_ORDER_SPAM)


async def test_spam_same_order_once_window_passed_allowed(sessions):
    h = await start(sessions, SPAM)
    await placed(h, bot())
    h.clock.advance(1000 * MS)

    again = await placed(h, bot())

    assert_sent(h, again)


async def test_spam_same_order_with_other_price_still_denied(sessions):
    # price is not part of what makes an order the same
    h = await start(sessions, SPAM)
    await placed(h, bot())

    again = await placed(h, bot(price="48000"))

    assert_denied(h, again, R.DUPLICATE_ORDER_SPAM)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"qty": "0.02"}, id="other-qty"),
        pytest.param({"side": Side.SELL, "price": "51000"}, id="other-side"),
        pytest.param({"strategy": "bot-8"}, id="other-strategy"),
        pytest.param({"strategy": None}, id="no-strategy"),
        pytest.param({"symbol": ETH.symbol, "price": "2900"}, id="other-symbol"),
        pytest.param({"account": "acct-b"}, id="other-account"),
    ],
)
async def test_spam_order_differing_in_one_key_allowed(sessions, change):
    h = await start(sessions, SPAM, fund=(ACCOUNT, "acct-b"))
    await placed(h, bot())

    other = await placed(h, bot(**change))

    assert_sent(h, other)


async def test_spam_qty_written_differently_is_the_same_qty(sessions):
    h = await start(sessions, SPAM)
    await placed(h, bot(qty="0.01"))

    again = await placed(h, bot(qty="0.0100"))

    assert_denied(h, again, R.DUPLICATE_ORDER_SPAM)


async def test_spam_window_restarts_with_each_accepted_placement(sessions):
    h = await start(sessions, SPAM)
    await placed(h, bot())
    h.clock.advance(SECOND)
    await placed(h, bot())  # allowed: starts a new window
    h.clock.advance(500 * MS)

    third = await placed(h, bot())

    assert_denied(h, third, R.DUPLICATE_ORDER_SPAM)


async def test_spam_denied_order_does_not_extend_window(sessions):
    h = await start(sessions, SPAM)
    await placed(h, bot())
    h.clock.advance(600 * MS)
    await placed(h, bot())  # denied: it must not restart the window
    h.clock.advance(400 * MS)

    third = await placed(h, bot())

    assert_sent(h, third)


async def test_spam_without_window_same_order_allowed(sessions):
    h = await start(sessions)
    await placed(h, bot())

    again = await placed(h, bot())

    assert_sent(h, again)


# --- one pending order per side ----------------------------------------------------------------


async def test_pending_second_order_same_side_while_first_open_denied(sessions):
    h = await start(sessions, ONE_PENDING)
    first = await placed(h, bot())

    second = await placed(h, bot(qty="0.02", price="48000"))

    assert first.status is OrderStatus.ACCEPTED
    assert_denied(h, second, R.DUPLICATE_PENDING_ORDER)


async def test_pending_order_on_other_side_or_symbol_allowed(sessions):
    h = await start(sessions, ONE_PENDING)
    await placed(h, bot())

    sell = await placed(h, bot(side=Side.SELL, price="51000"))
    eth = await placed(h, bot(symbol=ETH.symbol, price="2900"))

    assert_sent(h, sell)
    assert_sent(h, eth)


async def test_pending_without_the_limit_second_order_allowed(sessions):
    h = await start(sessions)
    await placed(h, bot())

    second = await placed(h, bot(qty="0.02"))

    assert_sent(h, second)


async def test_pending_partially_filled_order_still_blocks_the_side(sessions):
    h = await start(sessions, ONE_PENDING)
    first = await placed(h, bot(qty="0.02"))
    h.venue.fill(first.client_order_id, D("0.01"), D("49000"))
    await h.settle()

    second = await placed(h, bot(qty="0.03"))

    assert h.engine.order(first.order_id).status is OrderStatus.PARTIALLY_FILLED
    assert_denied(h, second, R.DUPLICATE_PENDING_ORDER)


async def test_pending_released_when_first_fills(sessions):
    h = await start(sessions, ONE_PENDING)
    first = await placed(h, bot())
    h.venue.fill(first.client_order_id, D("0.01"), D("49000"))
    await h.settle()

    second = await placed(h, bot(qty="0.02"))

    assert h.engine.order(first.order_id).status is OrderStatus.FILLED
    assert_sent(h, second)


async def test_pending_released_when_first_cancels(sessions):
    h = await start(sessions, ONE_PENDING)
    first = await placed(h, bot())
    await h.engine.cancel(CancelOrder(first.order_id))
    await h.settle()

    second = await placed(h, bot(qty="0.02"))

    assert h.engine.order(first.order_id).status is OrderStatus.CANCELED
    assert_sent(h, second)


async def test_pending_released_when_first_rejected(sessions):
    h = await start(sessions, ONE_PENDING)
    h.venue.fail_next.append(RejectedByVenue("price band", code="PRICE_BAND"))
    first = await placed(h, bot())

    second = await placed(h, bot(qty="0.02"))

    assert first.status is OrderStatus.REJECTED
    assert_sent(h, second)


async def test_pending_in_flight_market_order_blocks_the_side(sessions):
    # an order sent and not yet answered is pending too
    h = await start(sessions, ONE_PENDING)
    h.venue.hold.add("submit")
    first = await h.place(order(qty="0.01"))

    second = await h.place(order(qty="0.02"))
    h.venue.release.set()
    await h.settle()

    assert first.status is OrderStatus.PENDING_SUBMIT
    assert_denied(h, second, R.DUPLICATE_PENDING_ORDER)
    assert (await h.settled(first.order_id)).status is OrderStatus.FILLED


async def test_pending_reduce_only_order_blocks_a_second_on_its_side(sessions):
    h = await start(sessions, ONE_PENDING)
    h.venue.fill((await placed(h, order(qty="0.02"))).client_order_id, D("0.02"), D("50000"))
    await h.settle()
    close = await placed(h, order(Side.SELL, "0.02", price="51000", reduce_only=True))

    again = await placed(h, order(Side.SELL, "0.02", price="51000", reduce_only=True))

    assert close.status is OrderStatus.ACCEPTED
    assert_denied(h, again, R.DUPLICATE_PENDING_ORDER)


async def test_pending_limit_checked_per_symbol_not_per_account(sessions):
    h = await start(sessions, ONE_PENDING)
    await placed(h, bot())

    assert h.engine.state.open_qty[(ACCOUNT, BTC.symbol, Side.BUY)] == D("0.01")
    assert_sent(h, await placed(h, bot(symbol=ETH.symbol, price="2900", qty="0.02")))
