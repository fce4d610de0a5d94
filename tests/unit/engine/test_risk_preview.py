"""Previews: estimates and every denial at once, and nothing recorded or spent.

A market (or marketable limit) order is estimated at the touch as a taker, a resting
limit at its own price as a maker; slippage is measured from the mid.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from engine_support import ACCOUNT, Sessions
from gates_support import (
    ETH,
    D,
    assert_sent,
    order,
    placed,
    quote,
    start,
    state_change,
)
from tests.fakes import BTC

from ordergate.domain.limits import Rate, RiskLimits
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderType, Side, TradingState

R = ReasonCode


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


def codes(preview) -> list[ReasonCode]:
    return [d.code for d in preview.denials]


async def test_preview_market_order_estimated_at_touch_as_taker(sessions):
    h = await start(sessions)
    quote(h, BTC.symbol, "49990", "50010")

    p = await h.engine.preview(order(qty="0.1"))

    assert p.accepted
    assert p.denials == []
    assert p.estimated_price == D("50010")
    assert p.notional == D("5001.0")
    assert p.fee == D("5001.0") * BTC.taker_fee_rate
    assert p.fee_currency == "USDT"
    assert p.slippage_bps == D("2")  # 10 above the mid of 50,000
    assert p.margin_required == D("500.10")
    assert p.free_margin == D("100000")
    assert p.position_qty == 0
    assert p.worst_case_qty == D("0.1")


async def test_preview_market_sell_estimated_at_bid(sessions):
    h = await start(sessions)
    quote(h, BTC.symbol, "49990", "50010")

    p = await h.engine.preview(order(Side.SELL, "0.1"))

    assert p.estimated_price == D("49990")
    assert p.worst_case_qty == D("-0.1")


async def test_preview_resting_limit_estimated_at_its_price_as_maker(sessions):
    h = await start(sessions)
    quote(h, ETH.symbol, "2999", "3001")

    p = await h.engine.preview(order(qty="1", price="2900", symbol=ETH.symbol))

    assert p.accepted
    assert p.estimated_price == D("2900")
    assert p.notional == D("2900")
    assert p.fee == D("2900") * ETH.maker_fee_rate
    assert p.margin_required == D("290.0")


async def test_preview_marketable_limit_estimated_at_touch_as_taker(sessions):
    h = await start(sessions)
    quote(h, ETH.symbol, "2999", "3001")

    p = await h.engine.preview(order(qty="1", price="3010", symbol=ETH.symbol))

    assert p.estimated_price == D("3001")
    assert p.fee == D("3001") * ETH.taker_fee_rate


async def test_preview_counts_open_orders_in_worst_case(sessions):
    h = await start(sessions)
    await placed(h, order(qty="0.2", price="49000"))

    p = await h.engine.preview(order(qty="0.1"))

    assert p.worst_case_qty == D("0.3")


async def test_preview_lists_every_denial_at_once(sessions):
    limits = RiskLimits(
        fat_finger_bps=D("100"), max_order_notional=D("100000"), max_position_qty=D("5")
    )
    h = await start(sessions, limits)

    # off the tick, 20% through the ask, 1.8M notional, 30 > 5 contracts, 180k of margin
    p = await h.engine.preview(order(qty="30", price="60000.05"))

    assert not p.accepted
    assert codes(p) == [
        R.PRICE_NOT_ON_TICK,
        R.FAT_FINGER_PRICE,
        R.NOTIONAL_ABOVE_MAX,
        R.MAX_POSITION,
        R.INSUFFICIENT_MARGIN,
    ]
    assert all(d.reason for d in p.denials)


async def test_preview_gates_listed_with_the_order_terms(sessions):
    h = await start(sessions)
    await h.engine.set_trading_state(state_change(TradingState.HALTED))

    p = await h.engine.preview(order(qty="0.0015"))

    assert codes(p) == [R.TRADING_HALTED, R.QTY_NOT_ON_STEP]


async def test_preview_unknown_symbol_stops_at_the_symbol(sessions):
    h = await start(sessions)

    p = await h.engine.preview(order(symbol="DOGEUSDT"))

    assert codes(p) == [R.SYMBOL_NOT_ALLOWED]
    assert p.estimated_price is None
    assert p.fee is None


async def test_preview_offset_order_estimated_at_the_offset_price(sessions):
    h = await start(sessions, RiskLimits(limit_offset_bps=D("10")))

    p = await h.engine.preview(order(qty="0.1", type=OrderType.LIMIT, price_at_offset=True))

    assert p.accepted
    assert p.estimated_price == D("49950.0")


async def test_preview_offset_order_without_offset_denied_no_limit_price_first(sessions):
    h = await start(sessions)

    p = await h.engine.preview(order(qty="0.1", type=OrderType.LIMIT, price_at_offset=True))

    assert not p.accepted
    assert codes(p)[0] is R.NO_LIMIT_PRICE
    assert R.NO_REFERENCE_PRICE not in codes(p)  # a consequence, not a second reason
    assert "offset" in p.denials[0].reason


async def test_preview_records_and_sends_nothing(sessions):
    h = await start(sessions, RiskLimits(fat_finger_bps=D("100")))
    await placed(h, order(qty="0.1"))
    journaled = len(h.events())
    calls = list(h.venue.calls)
    orders = h.engine.state.order_count

    await h.engine.preview(order(qty="0.1"))
    await h.engine.preview(order(qty="30", price="60000.05"))
    await h.settle()

    assert len(h.events()) == journaled
    assert h.venue.calls == calls
    assert h.engine.state.order_count == orders
    assert "preview" not in h.engine.state.orders
    assert await h.store.order("preview") is None
    assert h.engine.order_margin(ACCOUNT) == {"USDT": D(0)}


async def test_preview_spends_no_throttle_token(sessions):
    h = await start(sessions, RiskLimits(instrument_submit_rate=Rate(D(1), 1)))

    previews = [await h.engine.preview(order(qty="0.01")) for _ in range(3)]
    view = await placed(h, order(qty="0.01"))
    after = await h.engine.preview(order(qty="0.02"))

    assert all(p.accepted for p in previews)
    assert_sent(h, view)
    assert codes(after) == [R.THROTTLED]  # consulted, not consumed


async def test_preview_starts_no_spam_window(sessions):
    h = await start(sessions, RiskLimits(spam_window_ms=60_000))

    await h.engine.preview(order(qty="0.01", strategy="s"))
    view = await placed(h, order(qty="0.01", strategy="s"))
    after = await h.engine.preview(order(qty="0.01", strategy="s"))

    assert_sent(h, view)
    assert codes(after) == [R.DUPLICATE_ORDER_SPAM]
