"""Trading states: ACTIVE, REDUCING (SAFE mode), HALTED (kill switch).

Set per account, per instrument (every account), per both, or everywhere; the most
restrictive that applies wins; ACTIVE at a scope lifts that scope's state. Every change is
journaled with who set it and why, and survives a restart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from engine_support import ACCOUNT, Sessions
from gates_support import ETH, D, assert_denied, assert_sent, order, placed, start, state_change
from tests.fakes import BTC

from ordergate.domain.errors import Conflict
from ordergate.domain.events import TradingStateChanged
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderStatus, Side, TradingState
from ordergate.engine.commands import CancelOrder, CloseAll, ClosePosition, ReplaceOrder

R = ReasonCode
ACTIVE, REDUCING, HALTED = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED
OTHER = "acct-b"


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


@pytest.fixture
async def h(sessions):
    return await start(sessions, fund=(ACCOUNT, OTHER))


def opening(account: str = ACCOUNT, symbol: str = BTC.symbol) -> object:
    price = "49000" if symbol == BTC.symbol else "2900"
    return order(qty="0.01", price=price, account=account, symbol=symbol)


# --- scopes ----------------------------------------------------------------------------------


async def test_trading_state_per_account_applies_to_that_account_only(h):
    await h.engine.set_trading_state(state_change(HALTED, ACCOUNT))

    mine_btc = await placed(h, opening())
    mine_eth = await placed(h, opening(symbol=ETH.symbol))
    other = await placed(h, opening(OTHER))

    assert_denied(h, mine_btc, R.TRADING_HALTED)
    assert_denied(h, mine_eth, R.TRADING_HALTED)
    assert_sent(h, other)


async def test_trading_state_per_instrument_applies_to_every_account(h):
    await h.engine.set_trading_state(state_change(HALTED, None, BTC.symbol))

    mine = await placed(h, opening())
    other = await placed(h, opening(OTHER))
    eth = await placed(h, opening(symbol=ETH.symbol))

    assert_denied(h, mine, R.TRADING_HALTED)
    assert_denied(h, other, R.TRADING_HALTED)
    assert_sent(h, eth)


async def test_trading_state_per_account_and_instrument_applies_to_that_pair_only(h):
    await h.engine.set_trading_state(state_change(REDUCING, ACCOUNT, BTC.symbol))

    pair = await placed(h, opening())
    other_symbol = await placed(h, opening(symbol=ETH.symbol))
    other_account = await placed(h, opening(OTHER))

    assert_denied(h, pair, R.TRADING_REDUCING)
    assert_sent(h, other_symbol)
    assert_sent(h, other_account)


async def test_trading_state_without_scope_applies_everywhere(h):
    await h.engine.set_trading_state(state_change(HALTED, None, None))

    views = [
        await placed(h, opening()),
        await placed(h, opening(OTHER)),
        await placed(h, opening(symbol=ETH.symbol)),
    ]

    for view in views:
        assert_denied(h, view, R.TRADING_HALTED)


@pytest.mark.parametrize(
    ("account_state", "instrument_state"),
    [(REDUCING, HALTED), (HALTED, REDUCING)],
)
async def test_trading_state_most_restrictive_applies(h, account_state, instrument_state):
    await placed(h, order(qty="0.02"))
    await h.engine.set_trading_state(state_change(account_state, ACCOUNT))
    await h.engine.set_trading_state(state_change(instrument_state, None, BTC.symbol))

    closing = await placed(h, order(Side.SELL, "0.01", reduce_only=True))

    assert_denied(h, closing, R.TRADING_HALTED)
    assert h.engine.state.trading_state(ACCOUNT, BTC.symbol).state is HALTED


async def test_trading_state_active_lifts_the_same_scope(h):
    await h.engine.set_trading_state(state_change(HALTED, ACCOUNT))
    await h.engine.set_trading_state(state_change(ACTIVE, ACCOUNT, reason="all clear"))

    view = await placed(h, opening())

    assert_sent(h, view)
    assert h.engine.state.trading_state(ACCOUNT, BTC.symbol) is None


async def test_trading_state_active_on_narrower_scope_does_not_lift_wider_one(h):
    await h.engine.set_trading_state(state_change(HALTED, ACCOUNT))
    await h.engine.set_trading_state(state_change(ACTIVE, ACCOUNT, BTC.symbol))

    view = await placed(h, opening())

    assert_denied(h, view, R.TRADING_HALTED)


async def test_trading_state_reducing_replaced_by_halted_at_same_scope(h):
    await h.engine.set_trading_state(state_change(REDUCING, ACCOUNT))
    await h.engine.set_trading_state(state_change(HALTED, ACCOUNT))
    await h.engine.set_trading_state(state_change(REDUCING, ACCOUNT))

    view = await placed(h, opening())

    assert_denied(h, view, R.TRADING_REDUCING)  # the latest at a scope replaces the earlier


# --- journal ---------------------------------------------------------------------------------


async def test_trading_state_every_change_journaled_with_actor_and_reason(h):
    await h.engine.set_trading_state(state_change(REDUCING, ACCOUNT, reason="drawdown"))
    await h.engine.set_trading_state(
        state_change(HALTED, None, BTC.symbol, reason="exchange incident")
    )
    gates = await h.engine.set_trading_state(state_change(ACTIVE, ACCOUNT, reason="recovered"))

    changes = h.events(TradingStateChanged)

    assert [(e.account, e.symbol, e.state, e.reason, e.actor) for e in changes] == [
        (ACCOUNT, None, REDUCING, "drawdown", "ops"),
        (None, BTC.symbol, HALTED, "exchange incident", "ops"),
        (ACCOUNT, None, ACTIVE, "recovered", "ops"),
    ]
    assert all(e.ts == h.clock.now_ns() for e in changes)
    assert [(g.account, g.symbol, g.state) for g in gates.trading_states] == [
        (None, BTC.symbol, HALTED)
    ]
    assert h.engine.gates == gates


async def test_trading_state_survives_restart(sessions, h):
    await h.engine.set_trading_state(state_change(HALTED, ACCOUNT, reason="kill"))

    again = await sessions.restart(h, watch_interval=None)
    view = await placed(again, opening())

    assert_denied(again, view, R.TRADING_HALTED)
    assert [g.reason for g in again.engine.gates.trading_states] == ["kill"]


# --- cancels, close-all and close-position under the states --------------------------------


async def test_trading_state_halted_allows_cancel(h):
    resting = await placed(h, opening())
    await h.engine.set_trading_state(state_change(HALTED, None, None))

    await h.engine.cancel(CancelOrder(resting.order_id))

    assert (await h.settled(resting.order_id)).status is OrderStatus.CANCELED


async def test_trading_state_halted_close_all_cancels_orders_but_denies_closing_orders(h):
    # What the code does: the kill switch denies even the reduce-only market orders that
    # close_all sends, so under HALTED close_all only cancels. (See the report: a kill
    # switch that stops an operator flattening is arguably wrong.)
    await placed(h, order(qty="0.02"))
    resting = await placed(h, opening())
    await h.engine.set_trading_state(state_change(HALTED, ACCOUNT))

    result = await h.engine.close_all(CloseAll(ACCOUNT, reason="flatten"))
    await h.settle()

    assert [v.order_id for v in result.canceled] == [resting.order_id]
    assert h.engine.order(resting.order_id).status is OrderStatus.CANCELED
    [closing] = result.closing
    assert_denied(h, closing, R.TRADING_HALTED)
    assert closing.reduce_only
    assert h.position() == D("0.02")


async def test_trading_state_reducing_close_all_flattens(h):
    await placed(h, order(qty="0.02"))
    await placed(h, order(Side.SELL, "0.5", symbol=ETH.symbol))
    await h.engine.set_trading_state(state_change(REDUCING, ACCOUNT))

    result = await h.engine.close_all(CloseAll(ACCOUNT))
    await h.settle()

    assert len(result.closing) == 2
    assert h.position() == 0
    assert h.position(symbol=ETH.symbol) == 0


async def test_trading_state_halted_close_position_denied(h):
    await placed(h, order(qty="0.02"))
    await h.engine.set_trading_state(state_change(HALTED, ACCOUNT))

    closing = await h.engine.close_position(ClosePosition(ACCOUNT, BTC.symbol))
    await h.settle()

    assert_denied(h, closing, R.TRADING_HALTED)
    assert h.position() == D("0.02")


# --- replaces --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"qty": D("0.02")}, id="grow"),
        pytest.param({"qty": D("0.005")}, id="shrink"),
        pytest.param({"price": D("48000")}, id="move-price"),
    ],
)
async def test_trading_state_halted_refuses_every_replace(h, change):
    resting = await placed(h, opening())
    await h.engine.set_trading_state(state_change(HALTED, ACCOUNT))

    with pytest.raises(Conflict) as refused:
        await h.engine.replace(ReplaceOrder(resting.order_id, **change))
    await h.settle()

    assert refused.value.code == R.TRADING_HALTED
    assert h.venue.requests("replace") == []
    assert h.engine.order(resting.order_id).qty == D("0.01")


async def test_trading_state_reducing_refuses_replace_that_grows(h):
    resting = await placed(h, opening())
    await h.engine.set_trading_state(state_change(REDUCING, ACCOUNT))

    with pytest.raises(Conflict) as refused:
        await h.engine.replace(ReplaceOrder(resting.order_id, qty=D("0.02")))

    assert refused.value.code == R.TRADING_REDUCING
    assert h.venue.requests("replace") == []


@pytest.mark.parametrize(
    ("change", "qty", "price"),
    [
        pytest.param({"qty": D("0.005")}, D("0.005"), D("49000"), id="shrink"),
        pytest.param({"price": D("48000")}, D("0.01"), D("48000"), id="move-price"),
        pytest.param({"qty": D("0.005"), "price": D("48500")}, D("0.005"), D("48500"), id="both"),
    ],
)
async def test_trading_state_reducing_allows_replace_that_shrinks_or_moves(h, change, qty, price):
    resting = await placed(h, opening())
    await h.engine.set_trading_state(state_change(REDUCING, ACCOUNT))

    await h.engine.replace(ReplaceOrder(resting.order_id, **change))
    after = await h.settled(resting.order_id)

    assert (after.qty, after.price) == (qty, price)
    assert h.venue.requests("replace") == [resting.client_order_id]
