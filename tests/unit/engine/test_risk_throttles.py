"""Throttles through the engine: token buckets for submits, cancels and replaces.

Submits over the rate are DENIED (THROTTLED); cancels and replaces over it are refused
with `RateLimited` and a positive `retry_after`, changing nothing. Buckets refill in the
engine clock's time (market time in paper and replay), here a `ManualClock`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from engine_support import ACCOUNT, SECOND, Sessions
from gates_support import ETH, D, assert_denied, assert_sent, order, placed, start
from tests.fakes import BTC

from ordergate.domain.errors import Conflict, RateLimited
from ordergate.domain.limits import LimitsBook, Rate, RiskLimits
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderStatus, Side
from ordergate.engine.commands import CancelOrder, ReplaceOrder

R = ReasonCode
ONE_PER_SECOND = Rate(D(1), 1)


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


def resting(i: int, symbol: str = BTC.symbol) -> object:
    """A distinct resting limit buy (distinct qty: no spam or pending-duplicate overlap)."""
    if symbol == ETH.symbol:
        return order(qty=f"{i}", price="2000", symbol=symbol)
    return order(qty=f"0.0{i}", price="40000", symbol=symbol)


# --- submits -------------------------------------------------------------------------------


async def test_throttles_submits_within_burst_pass_then_denied(sessions):
    h = await start(sessions, RiskLimits(instrument_submit_rate=Rate(D(1), 3)))

    views = [await placed(h, resting(i)) for i in range(1, 5)]

    for view in views[:3]:
        assert_sent(h, view)
    assert_denied(h, views[3], R.THROTTLED)
    assert "BTCUSDT" in (views[3].reason or "")


async def test_throttles_submit_token_returns_as_clock_advances(sessions):
    h = await start(sessions, RiskLimits(instrument_submit_rate=Rate(D(2), 1)))
    await placed(h, resting(1))
    h.clock.advance(SECOND // 2 - 1)
    early = await placed(h, resting(2))

    h.clock.advance(1)
    on_time = await placed(h, resting(3))

    assert_denied(h, early, R.THROTTLED)
    assert_sent(h, on_time)


async def test_throttles_denied_orders_spend_no_submit_token(sessions):
    h = await start(sessions, RiskLimits(instrument_submit_rate=ONE_PER_SECOND))
    denied = await placed(h, order(qty="0.0015"))  # off the lot step

    view = await placed(h, resting(1))

    assert_denied(h, denied, R.QTY_NOT_ON_STEP)
    assert_sent(h, view)


async def test_throttles_instrument_bucket_does_not_throttle_another_symbol(sessions):
    h = await start(sessions, RiskLimits(instrument_submit_rate=ONE_PER_SECOND))
    await placed(h, resting(1))

    same = await placed(h, resting(2))
    other = await placed(h, resting(1, ETH.symbol))

    assert_denied(h, same, R.THROTTLED)
    assert_sent(h, other)


async def test_throttles_account_bucket_throttles_every_symbol(sessions):
    h = await start(sessions, RiskLimits(account_submit_rate=ONE_PER_SECOND))
    await placed(h, resting(1))

    other = await placed(h, resting(1, ETH.symbol))

    assert_denied(h, other, R.THROTTLED)
    assert "account" in (other.reason or "")


async def test_throttles_account_bucket_is_per_account(sessions):
    h = await start(
        sessions, RiskLimits(account_submit_rate=ONE_PER_SECOND), fund=(ACCOUNT, "acct-b")
    )
    await placed(h, resting(1))

    other_account = await placed(h, order(qty="0.02", price="40000", account="acct-b"))

    assert_sent(h, other_account)


async def test_throttles_both_buckets_each_limit_submits(sessions):
    limits = RiskLimits(instrument_submit_rate=Rate(D(1), 2), account_submit_rate=Rate(D(1), 3))
    h = await start(sessions, limits)

    btc = [await placed(h, resting(i)) for i in range(1, 4)]
    eth = [await placed(h, resting(i, ETH.symbol)) for i in range(1, 3)]

    assert [v.status is OrderStatus.DENIED for v in btc] == [False, False, True]
    assert [v.status is OrderStatus.DENIED for v in eth] == [False, True]  # account: 3 in all


async def test_throttles_account_rate_comes_from_the_account_level_only(sessions):
    # An instrument override of the account rate must not give that instrument its own
    # account bucket: the account's allowance is one, whatever the orders trade.
    book = LimitsBook(
        accounts={ACCOUNT: RiskLimits(account_submit_rate=Rate(D(1), 2))},
        instruments={ETH.symbol: RiskLimits(account_submit_rate=Rate(D(100), 100))},
    )
    h = await start(sessions, book)

    btc = [await placed(h, resting(i)) for i in range(1, 3)]
    eth = await placed(h, resting(1, ETH.symbol))

    for view in btc:
        assert_sent(h, view)
    assert_denied(h, eth, R.THROTTLED)
    assert "account" in (eth.reason or "")


# --- cancels -----------------------------------------------------------------------------------


async def test_throttles_cancel_over_rate_refused_and_changes_nothing(sessions):
    h = await start(sessions, RiskLimits(instrument_cancel_rate=ONE_PER_SECOND))
    first = await placed(h, resting(1))
    second = await placed(h, resting(2))
    await h.engine.cancel(CancelOrder(first.order_id))
    await h.settle()
    journaled = len(h.events())

    with pytest.raises(RateLimited) as refused:
        await h.engine.cancel(CancelOrder(second.order_id))
    await h.settle()

    assert refused.value.retry_after > 0
    assert refused.value.retry_after == pytest.approx(1.0)
    assert h.engine.order(second.order_id).status is OrderStatus.ACCEPTED
    assert h.venue.requests("cancel") == [first.client_order_id]
    assert len(h.events()) == journaled


async def test_throttles_cancel_allowed_again_after_retry_after(sessions):
    h = await start(sessions, RiskLimits(instrument_cancel_rate=Rate(D(4), 1)))
    first = await placed(h, resting(1))
    second = await placed(h, resting(2))
    await h.engine.cancel(CancelOrder(first.order_id))
    with pytest.raises(RateLimited) as refused:
        await h.engine.cancel(CancelOrder(second.order_id))

    h.clock.advance(int(refused.value.retry_after * SECOND))
    await h.engine.cancel(CancelOrder(second.order_id))

    assert refused.value.retry_after == pytest.approx(0.25)
    assert (await h.settled(second.order_id)).status is OrderStatus.CANCELED


async def test_throttles_account_cancel_bucket_spans_symbols(sessions):
    h = await start(sessions, RiskLimits(account_cancel_rate=ONE_PER_SECOND))
    btc = await placed(h, resting(1))
    eth = await placed(h, resting(1, ETH.symbol))
    await h.engine.cancel(CancelOrder(btc.order_id))

    with pytest.raises(RateLimited):
        await h.engine.cancel(CancelOrder(eth.order_id))


async def test_throttles_cancel_rate_does_not_spend_submit_tokens(sessions):
    limits = RiskLimits(instrument_submit_rate=Rate(D(1), 2), instrument_cancel_rate=Rate(D(1), 5))
    h = await start(sessions, limits)
    first = await placed(h, resting(1))
    await h.engine.cancel(CancelOrder(first.order_id))

    second = await placed(h, resting(2))

    assert_sent(h, second)


# --- replaces ----------------------------------------------------------------------------------


async def test_throttles_replace_over_rate_refused_and_changes_nothing(sessions):
    h = await start(sessions, RiskLimits(instrument_replace_rate=ONE_PER_SECOND))
    view = await placed(h, resting(1))
    await h.engine.replace(ReplaceOrder(view.order_id, price=D("40100")))
    await h.settle()
    journaled = len(h.events())

    with pytest.raises(RateLimited) as refused:
        await h.engine.replace(ReplaceOrder(view.order_id, price=D("40200")))
    await h.settle()

    assert refused.value.retry_after > 0
    after = h.engine.order(view.order_id)
    assert after.price == D("40100")
    assert after.status is OrderStatus.ACCEPTED
    assert len(h.venue.requests("replace")) == 1
    assert len(h.events()) == journaled

    h.clock.advance(SECOND)
    await h.engine.replace(ReplaceOrder(view.order_id, price=D("40200")))
    assert (await h.settled(view.order_id)).price == D("40200")


async def test_throttles_account_replace_bucket_spans_symbols(sessions):
    h = await start(sessions, RiskLimits(account_replace_rate=ONE_PER_SECOND))
    btc = await placed(h, resting(1))
    eth = await placed(h, resting(1, ETH.symbol))
    await h.engine.replace(ReplaceOrder(btc.order_id, price=D("40100")))

    with pytest.raises(RateLimited):
        await h.engine.replace(ReplaceOrder(eth.order_id, price=D("2001")))


async def test_throttles_refused_replace_spends_no_replace_token(sessions):
    # a replace the checks refuse (off tick) must not use up the bucket
    h = await start(sessions, RiskLimits(instrument_replace_rate=ONE_PER_SECOND))
    view = await placed(h, resting(1))
    with pytest.raises(Conflict, match="tick"):
        await h.engine.replace(ReplaceOrder(view.order_id, price=D("40100.05")))

    await h.engine.replace(ReplaceOrder(view.order_id, price=D("40100")))

    assert (await h.settled(view.order_id)).price == D("40100")


async def test_throttles_sell_and_buy_share_the_instrument_bucket(sessions):
    h = await start(sessions, RiskLimits(instrument_submit_rate=ONE_PER_SECOND))
    await placed(h, resting(1))

    sell = await placed(h, order(Side.SELL, "0.01", price="60000"))

    assert_denied(h, sell, R.THROTTLED)
