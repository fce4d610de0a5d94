"""LIMIT orders priced at an offset behind the touch (seed 003), and the slippage guard.

A buy rests at the bid less the offset, a sell at the ask plus it; an absolute offset
wins over one in bps; the price is rounded onto the tick grid away from the market.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from engine_support import Sessions
from gates_support import D, assert_denied, assert_sent, order, placed, quote, start
from tests.fakes import BTC

from ordergate.domain.limits import RiskLimits
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderType, Side

R = ReasonCode


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


def at_offset(side: Side = Side.BUY, qty: str = "0.01", **kw) -> object:
    return order(side, qty, type=OrderType.LIMIT, price_at_offset=True, **kw)


@pytest.mark.parametrize(
    ("limits", "side", "price"),
    [
        # bid 50,000.0 / ask 50,010.0
        pytest.param(RiskLimits(limit_offset_bps=D("3")), Side.BUY, "49985.0", id="buy-bps"),
        pytest.param(RiskLimits(limit_offset_bps=D("3")), Side.SELL, "50025.1", id="sell-bps"),
        pytest.param(RiskLimits(limit_offset_abs=D("15")), Side.BUY, "49985.0", id="buy-abs"),
        pytest.param(RiskLimits(limit_offset_abs=D("15")), Side.SELL, "50025.0", id="sell-abs"),
        pytest.param(RiskLimits(limit_offset_bps=D("0")), Side.BUY, "50000.0", id="buy-at-bid"),
        pytest.param(RiskLimits(limit_offset_abs=D("0")), Side.SELL, "50010.0", id="sell-at-ask"),
    ],
)
async def test_offsets_price_set_behind_the_touch(sessions, limits, side, price):
    h = await start(sessions, limits)
    quote(h, BTC.symbol, "50000.0", "50010.0")

    view = await placed(h, at_offset(side))

    assert_sent(h, view)
    assert view.type is OrderType.LIMIT
    assert view.price == D(price)
    assert h.venue.submitted[0].price == D(price)


@pytest.mark.parametrize(
    ("limits", "side", "price"),
    [
        # 1.23 bps of 50,000 = 6.15 -> 49,993.85, floored to 49,993.8 (further from the market)
        pytest.param(RiskLimits(limit_offset_bps=D("1.23")), Side.BUY, "49993.8", id="buy-bps"),
        # 1.23 bps of 50,010 = 6.151... -> 50,016.151..., raised to 50,016.2
        pytest.param(RiskLimits(limit_offset_bps=D("1.23")), Side.SELL, "50016.2", id="sell-bps"),
        pytest.param(RiskLimits(limit_offset_abs=D("7.25")), Side.BUY, "49992.7", id="buy-abs"),
        pytest.param(RiskLimits(limit_offset_abs=D("7.25")), Side.SELL, "50017.3", id="sell-abs"),
    ],
)
async def test_offsets_off_tick_price_rounded_away_from_market(sessions, limits, side, price):
    h = await start(sessions, limits)
    quote(h, BTC.symbol, "50000.0", "50010.0")

    view = await placed(h, at_offset(side))

    assert view.price == D(price)
    assert BTC.is_on_tick(view.price)
    assert_sent(h, view)


@pytest.mark.parametrize(
    ("side", "price"),
    [(Side.BUY, "49990.0"), (Side.SELL, "50020.0")],
)
async def test_offsets_absolute_offset_wins_over_bps(sessions, side, price):
    h = await start(sessions, RiskLimits(limit_offset_bps=D("100"), limit_offset_abs=D("10")))
    quote(h, BTC.symbol, "50000.0", "50010.0")

    view = await placed(h, at_offset(side))

    assert view.price == D(price)


async def test_offsets_no_offset_configured_denied_no_limit_price(sessions):
    h = await start(sessions, RiskLimits(max_slippage_bps=D("50")))

    view = await placed(h, at_offset())

    assert_denied(h, view, R.NO_LIMIT_PRICE)
    assert view.price is None


async def test_offsets_no_quote_denied_no_limit_price(sessions):
    h = await start(sessions, RiskLimits(limit_offset_bps=D("5")))
    del h.market.quotes[BTC.symbol]

    view = await placed(h, at_offset())

    assert_denied(h, view, R.NO_LIMIT_PRICE)


async def test_offsets_offset_through_zero_denied_no_limit_price(sessions):
    h = await start(sessions, RiskLimits(limit_offset_abs=D("60000")))

    view = await placed(h, at_offset())

    assert_denied(h, view, R.NO_LIMIT_PRICE)


async def test_offsets_explicit_limit_price_ignores_configured_offset(sessions):
    h = await start(sessions, RiskLimits(limit_offset_bps=D("100")))

    view = await placed(h, order(qty="0.01", price="49000"))

    assert view.price == D("49000")


@pytest.mark.parametrize(
    ("guard", "passes"),
    [
        # buy at bid 50,000 - 50 bps = 49,750: 50 bps from the ask (the buy's reference)
        pytest.param("50", True, id="at-guard"),
        pytest.param("49.99", False, id="just-inside-the-offset"),
    ],
)
async def test_offsets_slippage_guard_bounds_the_offset_price(sessions, guard, passes):
    limits = RiskLimits(limit_offset_bps=D("50"), max_slippage_bps=D(guard))
    h = await start(sessions, limits)

    view = await placed(h, at_offset())

    assert view.price == D("49750.0")
    if passes:
        assert_sent(h, view)
    else:
        assert_denied(h, view, R.SLIPPAGE_GUARD)


async def test_offsets_slippage_guard_measures_from_the_side_reference(sessions):
    # A sell rests at ask + offset; its reference is the bid, so the spread counts too:
    # ask 50,010 + 10 = 50,020, which is 4 bps above the bid of 50,000.
    limits = RiskLimits(limit_offset_abs=D("10"), max_slippage_bps=D("3.9"))
    h = await start(sessions, limits)
    quote(h, BTC.symbol, "50000.0", "50010.0")

    view = await placed(h, at_offset(Side.SELL))

    assert view.price == D("50020.0")
    assert_denied(h, view, R.SLIPPAGE_GUARD)


async def test_offsets_slippage_guard_ignores_explicitly_priced_limits(sessions):
    h = await start(sessions, RiskLimits(max_slippage_bps=D("1")))

    view = await placed(h, order(qty="0.01", price="40000"))

    assert_sent(h, view)
