"""The risk pack through the engine: one test per check per reason code.

Each denial ends the order DENIED with its reason code, journals one `OrderDenied`, and
sends nothing to the venue. The gates' passes (reduce-only under REDUCING, dirty or stale
feed; cancels under every gate) are here too.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncIterator

import pytest
from engine_support import ACCOUNT, ScriptedVenue, Sessions
from gates_support import (
    ETH,
    MS,
    D,
    assert_denied,
    assert_sent,
    fresh_market,
    order,
    placed,
    quote,
    start,
    state_change,
)
from tests.fakes import BTC

from ordergate.domain import risk
from ordergate.domain.limits import Rate, RiskLimits
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderStatus, OrderType, Side, TradingState
from ordergate.engine import placement
from ordergate.engine.commands import CancelOrder
from ordergate.engine.venue_reports import VenueReconnected

R = ReasonCode


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


# --- the order's own terms and the limits: one case per check and code ---------------------

# (limits, order, code); the market is BTC 50,000 / ETH 3,000, fresh; 100,000 USDT deposited.
TERMS = [
    pytest.param(None, order(account="nobody"), R.UNKNOWN_ACCOUNT, id="unknown-account"),
    pytest.param(None, order(symbol="DOGEUSDT"), R.SYMBOL_NOT_ALLOWED, id="unknown-instrument"),
    pytest.param(
        RiskLimits(allowed_symbols=frozenset({ETH.symbol})),
        order(),
        R.SYMBOL_NOT_ALLOWED,
        id="symbol-outside-allowed-set",
    ),
    pytest.param(
        RiskLimits(allowed_order_types=frozenset({OrderType.LIMIT})),
        order(),
        R.UNSUPPORTED_ORDER_TYPE,
        id="order-type-not-allowed",
    ),
    pytest.param(None, order(qty="0.0005"), R.QTY_BELOW_MIN, id="below-instrument-min"),
    pytest.param(
        RiskLimits(min_qty=D("0.01")), order(qty="0.005"), R.QTY_BELOW_MIN, id="below-limit-min"
    ),
    pytest.param(
        None, order(symbol=ETH.symbol, qty="100.01"), R.QTY_ABOVE_MAX, id="above-instrument-max"
    ),
    pytest.param(
        RiskLimits(max_order_qty=D("0.5")),
        order(qty="0.501"),
        R.QTY_ABOVE_MAX,
        id="above-max-order-qty",
    ),
    pytest.param(None, order(qty="0.0015"), R.QTY_NOT_ON_STEP, id="qty-off-step"),
    pytest.param(None, order(price="40000.05"), R.PRICE_NOT_ON_TICK, id="limit-price-off-tick"),
    pytest.param(
        None, order(stop_loss=D("49000.05")), R.PRICE_NOT_ON_TICK, id="stop-loss-off-tick"
    ),
    pytest.param(
        None, order(qty="0.001", price="4000"), R.NOTIONAL_BELOW_MIN, id="notional-below-min"
    ),
    pytest.param(
        RiskLimits(max_order_notional=D("4999")),
        order(qty="0.1"),
        R.NOTIONAL_ABOVE_MAX,
        id="notional-above-cap",
    ),
    pytest.param(
        # equity 100,000 * 0.1 = 10,000 < 0.201 * 50,000 = 10,050
        RiskLimits(max_order_size_ratio=D("0.1")),
        order(qty="0.201"),
        R.ORDER_SIZE_RATIO_EXCEEDED,
        id="order-size-ratio",
    ),
    pytest.param(
        None,
        order(type=OrderType.LIMIT, price_at_offset=True),
        R.NO_LIMIT_PRICE,
        id="offset-without-configured-offset",
    ),
    pytest.param(
        RiskLimits(max_position_qty=D("0.1")),
        order(qty="0.101"),
        R.MAX_POSITION,
        id="max-position",
    ),
    pytest.param(
        RiskLimits(max_gross_exposure=D("4999")),
        order(qty="0.1"),
        R.MAX_GROSS_EXPOSURE,
        id="max-gross-exposure",
    ),
    pytest.param(
        None,
        order(Side.SELL, reduce_only=True),
        R.REDUCE_ONLY_NO_POSITION,
        id="reduce-only-when-flat",
    ),
    pytest.param(None, order(stop_loss=D("50000")), R.INVALID_STOP_LOSS, id="stop-loss-at-entry"),
    pytest.param(
        None,
        order(Side.SELL, take_profit=D("50000.1")),
        R.INVALID_TAKE_PROFIT,
        id="take-profit-above-sell-entry",
    ),
    # 20.001 * 50,000 * 0.1 = 100,005 of margin, 100,000 free
    pytest.param(None, order(qty="20.001"), R.INSUFFICIENT_MARGIN, id="insufficient-margin"),
]


@pytest.mark.parametrize(("limits", "command", "code"), TERMS)
async def test_risk_order_failing_one_check_denied_with_its_code_and_not_sent(
    sessions, limits, command, code
):
    h = await start(sessions, limits)

    view = await placed(h, command)

    assert_denied(h, view, code)
    assert h.venue.calls == []
    assert h.engine.order_margin(ACCOUNT) in ({}, {"USDT": D(0)})


@pytest.mark.parametrize(
    ("limits", "command"),
    [
        pytest.param(RiskLimits(min_qty=D("0.01")), order(qty="0.01"), id="at-limit-min"),
        pytest.param(None, order(symbol=ETH.symbol, qty="100"), id="at-instrument-max"),
        pytest.param(RiskLimits(max_order_qty=D("0.5")), order(qty="0.5"), id="at-max-order-qty"),
        pytest.param(RiskLimits(max_order_notional=D("5000")), order(), id="at-notional-cap"),
        pytest.param(RiskLimits(max_order_size_ratio=D("0.1")), order(qty="0.2"), id="at-ratio"),
        pytest.param(RiskLimits(max_position_qty=D("0.1")), order(), id="at-max-position"),
        pytest.param(RiskLimits(max_gross_exposure=D("5000")), order(), id="at-gross-exposure"),
        pytest.param(None, order(qty="0.001", price="5000"), id="at-min-notional"),
        pytest.param(None, order(qty="20"), id="margin-exactly-free"),
    ],
)
async def test_risk_order_exactly_at_a_limit_passes(sessions, limits, command):
    h = await start(sessions, limits)

    view = await placed(h, command)

    assert_sent(h, view)


async def test_risk_market_order_without_any_quote_denied_no_reference_price(sessions):
    h = await start(sessions, market=fresh_market())
    del h.market.quotes[BTC.symbol]

    view = await placed(h, order())

    assert_denied(h, view, R.NO_REFERENCE_PRICE)


async def test_risk_quote_older_than_max_quote_age_denied_stale_reference_price(sessions):
    h = await start(sessions, RiskLimits(max_quote_age_ms=500))
    quote(h, BTC.symbol, "50000", age_ms=501)

    view = await placed(h, order(price="49000"))

    assert_denied(h, view, R.STALE_REFERENCE_PRICE)


async def test_risk_quote_exactly_max_quote_age_old_passes(sessions):
    h = await start(sessions, RiskLimits(max_quote_age_ms=500))
    quote(h, BTC.symbol, "50000", age_ms=500)

    view = await placed(h, order(price="49000"))

    assert_sent(h, view)


async def test_risk_no_quote_with_max_quote_age_denied_stale_reference_price(sessions):
    h = await start(sessions, RiskLimits(max_quote_age_ms=500))
    del h.market.quotes[BTC.symbol]

    view = await placed(h, order(price="49000"))

    assert_denied(h, view, R.STALE_REFERENCE_PRICE)


# --- fat finger: at the band edge passes, one tick through fails ---------------------------

# Band 100 bps: a buy may pay up to ask * 1.01, a sell down to bid * 0.99.
FAT_FINGER = RiskLimits(fat_finger_bps=D("100"))


@pytest.mark.parametrize(
    ("side", "price", "passes"),
    [
        pytest.param(Side.BUY, "50500.0", True, id="buy-at-edge"),
        pytest.param(Side.BUY, "50500.1", False, id="buy-one-tick-through"),
        pytest.param(Side.SELL, "49490.1", True, id="sell-at-edge"),
        pytest.param(Side.SELL, "49490.0", False, id="sell-one-tick-through"),
    ],
)
async def test_risk_fat_finger_band_edge_passes_one_tick_through_denied(
    sessions, side, price, passes
):
    h = await start(sessions, FAT_FINGER)
    quote(h, BTC.symbol, "49990", "50000")

    view = await placed(h, order(side, "0.01", price=price))

    if passes:
        assert_sent(h, view)
    else:
        assert_denied(h, view, R.FAT_FINGER_PRICE)


async def test_risk_fat_finger_ignores_market_orders(sessions):
    h = await start(sessions, RiskLimits(fat_finger_bps=D("0")))

    view = await placed(h, order())

    assert_sent(h, view)


# --- the slippage guard on offset prices ------------------------------------------------------


async def test_risk_offset_price_beyond_slippage_guard_denied(sessions):
    # buy at bid - 100 bps = 49,500: 100 bps from the ask, the guard allows 50
    limits = RiskLimits(limit_offset_bps=D("100"), max_slippage_bps=D("50"))
    h = await start(sessions, limits)

    view = await placed(h, order(type=OrderType.LIMIT, price_at_offset=True))

    assert view.price == D("49500.0")
    assert_denied(h, view, R.SLIPPAGE_GUARD)


# --- gates -------------------------------------------------------------------------------


async def test_risk_halted_account_denies_new_order_trading_halted(sessions):
    h = await start(sessions)
    await h.engine.set_trading_state(state_change(TradingState.HALTED))

    view = await placed(h, order())

    assert_denied(h, view, R.TRADING_HALTED)


async def test_risk_reducing_account_denies_opening_order_trading_reducing(sessions):
    h = await start(sessions)
    await h.engine.set_trading_state(state_change(TradingState.REDUCING))

    view = await placed(h, order())

    assert_denied(h, view, R.TRADING_REDUCING)


async def test_risk_live_venue_not_armed_denies_not_armed(sessions):
    market = fresh_market()
    h = await start(sessions, market=market, venue=ScriptedVenue(market, live=True))

    view = await placed(h, order())

    assert_denied(h, view, R.NOT_ARMED)


class HaltedVenue(ScriptedVenue):
    """A venue that takes no orders until a person acts (`VenueHalt`)."""

    def halted(self) -> str | None:
        return "EXAMPLE_LOGIN_NEEDS_A_PERSON: approve the login in the app"


async def test_risk_halted_venue_denies_every_order_venue_halted(sessions):
    market = fresh_market()
    h = await start(sessions, market=market, venue=HaltedVenue(market))

    view = await placed(h, order(reduce_only=True))

    assert_denied(h, view, R.VENUE_HALTED)
    assert "EXAMPLE_LOGIN_NEEDS_A_PERSON" in (view.reason or "")
    assert h.engine.venue_halt() == HaltedVenue(market).halted()


async def test_risk_dirty_account_denies_new_order_instrument_dirty(sessions):
    h = await start(sessions)
    h.venue.push(VenueReconnected("stream dropped", 0))
    await h.settle()

    view = await placed(h, order())

    assert_denied(h, view, R.INSTRUMENT_DIRTY)


async def test_risk_feed_silent_longer_than_allowed_denies_feed_stale(sessions):
    h = await start(sessions, RiskLimits(feed_stale_after_ms=1000))
    quote(h, BTC.symbol, "50000", age_ms=1001)

    view = await placed(h, order(price="49000"))

    assert_denied(h, view, R.FEED_STALE)


async def test_risk_same_order_again_within_spam_window_denied_duplicate_order_spam(sessions):
    h = await start(sessions, RiskLimits(spam_window_ms=1000))
    first = await placed(h, order(price="49000", strategy="s1"))

    again = await placed(h, order(price="49000", strategy="s1"))

    assert_sent(h, first)
    assert_denied(h, again, R.DUPLICATE_ORDER_SPAM)


async def test_risk_second_order_while_one_pending_denied_duplicate_pending_order(sessions):
    h = await start(sessions, RiskLimits(one_pending_order_per_side=True))
    first = await placed(h, order(price="49000"))

    second = await placed(h, order(qty="0.2", price="48000"))

    assert first.status is OrderStatus.ACCEPTED
    assert_denied(h, second, R.DUPLICATE_PENDING_ORDER)


async def test_risk_submit_bucket_empty_denies_throttled(sessions):
    h = await start(sessions, RiskLimits(instrument_submit_rate=Rate(D(1), 1)))
    first = await placed(h, order(price="49000"))

    second = await placed(h, order(qty="0.2", price="48000"))

    assert_sent(h, first)
    assert_denied(h, second, R.THROTTLED)


# --- what the gates let through --------------------------------------------------------------


async def test_risk_reducing_lets_reduce_only_order_through(sessions):
    h = await start(sessions)
    await placed(h, order(qty="0.2"))
    await h.engine.set_trading_state(state_change(TradingState.REDUCING))

    view = await placed(h, order(Side.SELL, "0.1", reduce_only=True))

    assert_sent(h, view)
    assert view.status is OrderStatus.FILLED
    assert h.position() == D("0.1")


async def test_risk_halted_denies_even_reduce_only_order(sessions):
    h = await start(sessions)
    await placed(h, order(qty="0.2"))
    await h.engine.set_trading_state(state_change(TradingState.HALTED))

    view = await placed(h, order(Side.SELL, "0.2", reduce_only=True))

    assert_denied(h, view, R.TRADING_HALTED)
    assert h.position() == D("0.2")


async def test_risk_halted_still_lets_cancel_through(sessions):
    h = await start(sessions)
    resting = await placed(h, order(price="49000"))
    await h.engine.set_trading_state(state_change(TradingState.HALTED))

    await h.engine.cancel(CancelOrder(resting.order_id))

    assert (await h.settled(resting.order_id)).status is OrderStatus.CANCELED
    assert h.venue.requests("cancel") == [resting.client_order_id]


async def test_risk_dirty_lets_reduce_only_order_and_cancel_through(sessions):
    h = await start(sessions)
    await placed(h, order(qty="0.2"))
    resting = await placed(h, order(price="49000"))
    h.venue.push(VenueReconnected("stream dropped", 0))
    await h.settle()

    closing = await placed(h, order(Side.SELL, "0.2", reduce_only=True))
    await h.engine.cancel(CancelOrder(resting.order_id))

    assert_sent(h, closing)
    assert closing.status is OrderStatus.FILLED
    assert (await h.settled(resting.order_id)).status is OrderStatus.CANCELED
    assert h.engine.state.dirty_mark(ACCOUNT, BTC.symbol) is not None


async def test_risk_stale_feed_lets_reduce_only_order_and_cancel_through(sessions):
    h = await start(sessions, RiskLimits(feed_stale_after_ms=1000))
    await placed(h, order(qty="0.2"))
    resting = await placed(h, order(price="49000"))
    h.clock.advance(2000 * MS)  # nothing quoted since: the feed is 2 s old

    opening = await placed(h, order(qty="0.01"))
    closing = await placed(h, order(Side.SELL, "0.2", reduce_only=True))
    await h.engine.cancel(CancelOrder(resting.order_id))

    assert_denied(h, opening, R.FEED_STALE)
    assert_sent(h, closing)
    assert closing.status is OrderStatus.FILLED
    assert (await h.settled(resting.order_id)).status is OrderStatus.CANCELED


# --- every code the risk pack produces has a case above --------------------------------------

COVERED = {code for _, _, code in (p.values for p in TERMS)} | {
    R.NO_REFERENCE_PRICE,
    R.STALE_REFERENCE_PRICE,
    R.FAT_FINGER_PRICE,
    R.SLIPPAGE_GUARD,
    R.TRADING_HALTED,
    R.TRADING_REDUCING,
    R.NOT_ARMED,
    R.INSTRUMENT_DIRTY,
    R.FEED_STALE,
    R.DUPLICATE_ORDER_SPAM,
    R.DUPLICATE_PENDING_ORDER,
    R.THROTTLED,
    R.VENUE_HALTED,
}


def test_risk_every_code_the_checks_can_produce_has_an_engine_test():
    produced = set()
    for module in (risk, placement):
        names = re.findall(r"ReasonCode\.([A-Z_]+)", inspect.getsource(module))
        produced |= {ReasonCode[name] for name in names}

    assert produced - COVERED == set()
