"""Override levels through the engine: global, account, instrument, strategy.

The book below sets each of four limits at several levels. An order is checked against
the limits of its own account, instrument and strategy; the most specific level that sets
a field wins, and fields no override sets fall through to the global ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from engine_support import ACCOUNT, Sessions
from gates_support import ETH, D, assert_denied, assert_sent, order, placed, start
from tests.fakes import BTC

from ordergate.domain.limits import LimitsBook, RiskLimits
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderType, Side

R = ReasonCode
OTHER = "acct-b"
LIMIT_ONLY = frozenset({OrderType.LIMIT})

BOOK = LimitsBook(
    global_limits=RiskLimits(
        max_position_qty=D("1"),
        fat_finger_bps=D("100"),
        limit_offset_bps=D("10"),
    ),
    accounts={
        OTHER: RiskLimits(
            max_position_qty=D("0.5"),
            allowed_order_types=LIMIT_ONLY,
            limit_offset_bps=D("20"),
        )
    },
    instruments={ETH.symbol: RiskLimits(max_position_qty=D("20"), fat_finger_bps=D("300"))},
    strategies={
        "tiny": RiskLimits(max_position_qty=D("0.05")),
        "maker": RiskLimits(allowed_order_types=LIMIT_ONLY, limit_offset_bps=D("50")),
        "anything": RiskLimits(allowed_order_types=frozenset(OrderType), fat_finger_bps=D("1000")),
    },
)


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


@pytest.fixture
async def h(sessions):
    return await start(sessions, BOOK, fund=(ACCOUNT, OTHER))


# --- max_position_qty ------------------------------------------------------------------------


async def test_overrides_global_max_position_applies_without_overrides(h):
    at_limit = await placed(h, order(qty="1", price="49000"))
    beyond = await placed(h, order(qty="0.001", price="49000"))

    assert_sent(h, at_limit)
    assert_denied(h, beyond, R.MAX_POSITION)


async def test_overrides_account_max_position_applies_to_that_account_only(h):
    other = await placed(h, order(qty="0.6", price="49000", account=OTHER))
    mine = await placed(h, order(qty="0.6", price="49000"))

    assert_denied(h, other, R.MAX_POSITION)
    assert_sent(h, mine)


async def test_overrides_instrument_max_position_applies_to_that_instrument_only(h):
    eth = await placed(h, order(qty="15", price="2900", symbol=ETH.symbol))
    btc = await placed(h, order(qty="1.5", price="49000"))

    assert_sent(h, eth)
    assert_denied(h, btc, R.MAX_POSITION)


async def test_overrides_instrument_wins_over_account_max_position(h):
    # acct-b's 0.5 is less specific than ETHUSDT's 20
    view = await placed(h, order(qty="15", price="2900", symbol=ETH.symbol, account=OTHER))

    assert_sent(h, view)


async def test_overrides_strategy_max_position_applies_to_that_strategy_only(h):
    tiny = await placed(h, order(qty="0.1", price="49000", strategy="tiny"))
    other = await placed(h, order(qty="0.1", price="49000", strategy="other"))

    assert_denied(h, tiny, R.MAX_POSITION)
    assert_sent(h, other)


async def test_overrides_strategy_wins_over_instrument_and_account_max_position(h):
    view = await placed(
        h, order(qty="0.1", price="2900", symbol=ETH.symbol, account=OTHER, strategy="tiny")
    )

    assert_denied(h, view, R.MAX_POSITION)


# --- allowed_order_types ---------------------------------------------------------------------


async def test_overrides_no_allowed_types_anywhere_allows_every_type(h):
    view = await placed(h, order(qty="0.01"))

    assert_sent(h, view)


async def test_overrides_account_allowed_types_apply_to_that_account_only(h):
    other = await placed(h, order(qty="0.01", account=OTHER))
    mine = await placed(h, order(qty="0.01"))

    assert_denied(h, other, R.UNSUPPORTED_ORDER_TYPE)
    assert "LIMIT" in (other.reason or "")
    assert_sent(h, mine)


async def test_overrides_strategy_allowed_types_apply_to_that_strategy_only(h):
    maker_market = await placed(h, order(qty="0.01", strategy="maker"))
    maker_limit = await placed(h, order(qty="0.01", price="49000", strategy="maker"))

    assert_denied(h, maker_market, R.UNSUPPORTED_ORDER_TYPE)
    assert_sent(h, maker_limit)


async def test_overrides_strategy_allowed_types_win_over_account(h):
    view = await placed(h, order(qty="0.01", account=OTHER, strategy="anything"))

    assert_sent(h, view)


# --- fat_finger_bps --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("symbol", "price", "strategy", "passes"),
    [
        pytest.param(BTC.symbol, "50500.0", None, True, id="global-edge"),
        pytest.param(BTC.symbol, "50500.1", None, False, id="global-through"),
        pytest.param(ETH.symbol, "3090.00", None, True, id="instrument-wider"),
        pytest.param(ETH.symbol, "3090.01", None, False, id="instrument-through"),
        pytest.param(BTC.symbol, "55000.0", "anything", True, id="strategy-wider"),
        pytest.param(ETH.symbol, "3300.00", "anything", True, id="strategy-over-instrument"),
        pytest.param(ETH.symbol, "3300.01", "anything", False, id="strategy-through"),
    ],
)
async def test_overrides_fat_finger_band_taken_from_most_specific_level(
    h, symbol, price, strategy, passes
):
    view = await placed(h, order(qty="0.01", price=price, symbol=symbol, strategy=strategy))

    if passes:
        assert_sent(h, view)
    else:
        assert_denied(h, view, R.FAT_FINGER_PRICE)


# --- limit_offset_bps ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("account", "strategy", "price"),
    [
        pytest.param(ACCOUNT, None, "49950.0", id="global-10bps"),
        pytest.param(OTHER, None, "49900.0", id="account-20bps"),
        pytest.param(ACCOUNT, "maker", "49750.0", id="strategy-50bps"),
        pytest.param(OTHER, "maker", "49750.0", id="strategy-over-account"),
        pytest.param(ACCOUNT, "tiny", "49950.0", id="strategy-without-offset-falls-through"),
    ],
)
async def test_overrides_limit_offset_taken_from_most_specific_level(h, account, strategy, price):
    command = order(
        qty="0.01",
        type=OrderType.LIMIT,
        price_at_offset=True,
        account=account,
        strategy=strategy,
    )

    view = await placed(h, command)

    assert_sent(h, view)
    assert view.price == D(price)


# --- fields no override sets fall through ----------------------------------------------------


async def test_overrides_strategy_override_keeps_global_position_limit(h):
    # "maker" sets only order types and an offset: the global max position still applies
    view = await placed(h, order(Side.SELL, "1.001", price="51000", strategy="maker"))

    assert_denied(h, view, R.MAX_POSITION)
