"""Target positions (`engine.targets`): sized against the worst case, so whatever the
order of fills, acknowledgements and cancels, no position passes its target; answered
from the journal when sent again; held back, with the reason, by HALT and dirty marks."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from engine_support import ACCOUNT, D, Harness, ScriptedVenue, Sessions, limit_order
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.fakes import BTC, FakeMarket

from ordergate.domain.errors import IdempotencyConflict, InvalidRequest, OrderGateError
from ordergate.domain.events import OrderInitialized, TargetsSet
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderStatus, OrderType, Side, TradingState
from ordergate.engine.commands import SetTargets, SetTradingState
from ordergate.engine.digest import state_digest
from ordergate.engine.replay import verify_store
from ordergate.engine.results import TargetsResult
from ordergate.engine.venue_reports import VenueReconnected

STRATEGY = "rebalance"
LOT = D("0.001")


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


def targets(*pairs: tuple[str, str], key: str | None = None, **kw: Any) -> SetTargets:
    return SetTargets(
        account=ACCOUNT,
        strategy=kw.pop("strategy", STRATEGY),
        targets=tuple((symbol, D(qty)) for symbol, qty in pairs),
        idempotency_key=key,
        **kw,
    )


def btc(qty: str, key: str | None = None, **kw: Any) -> SetTargets:
    return targets((BTC.symbol, qty), key=key, **kw)


async def resting_venue_harness(sessions: Sessions) -> Harness:
    """Market orders rest at the venue until the test fills them: every order is in flight."""
    market = FakeMarket()
    market.set(BTC.symbol, "50000")
    return await sessions.start(venue=ScriptedVenue(market, auto_fill=False), market=market)


def order_events(h: Harness) -> list[OrderInitialized]:
    return h.events(OrderInitialized)


# --- the property ------------------------------------------------------------------------

target_qty = st.integers(-8, 8).map(lambda n: n * 5 * LOT)
action = st.one_of(
    st.tuples(st.just("target"), target_qty),
    st.tuples(st.just("fill"), st.integers(0, 30), st.integers(1, 40)),
    st.tuples(st.just("cancel"), st.integers(0, 30)),
    st.just(("settle",)),
)


async def act(h: Harness, sent: list[str], set_count: list[int], step: tuple[Any, ...]) -> Decimal:
    """Do one step; return the target it set (or the last one)."""
    kind = step[0]
    if kind == "target":
        set_count[0] += 1
        result = await h.engine.set_targets(btc(str(step[1]), key=f"set-{set_count[0]}"))
        sent.extend(o.client_order_id for o in result.orders)
        return D(step[1])
    if kind == "settle":
        await h.settle()
    elif sent:
        coid = sent[step[1] % len(sent)]
        resting = h.venue.orders.get(coid)
        if resting is None or resting.status in (OrderStatus.FILLED, OrderStatus.CANCELED):
            return D("NaN")
        if kind == "fill":
            left = resting.request.qty - resting.filled
            h.venue.fill(coid, min(left, step[2] * LOT), D(50000))
        else:  # the venue cancels it on its own (an expiry, a self-trade prevention)
            with contextlib.suppress(OrderGateError):
                await h.venue.cancel_order(ACCOUNT, BTC.symbol, coid)
    return D("NaN")


async def target_scenario(script: list[tuple[Any, ...]]) -> None:
    sessions = Sessions()
    try:
        h = await resting_venue_harness(sessions)
        sent: list[str] = []
        set_count = [0]
        bounds = [D(0)]  # the position started flat
        for step in script:
            target = await act(h, sent, set_count, step)
            if not target.is_nan():
                bounds.append(target)
            position = h.position()
            assert min(bounds) <= position <= max(bounds), (position, bounds)
            if len(bounds) == 2:  # one target: never past it, whatever the interleaving
                assert abs(position) <= abs(bounds[1])
        await h.settle()
        assert min(bounds) <= h.position() <= max(bounds)
        report = await verify_store(h.store)
        assert report.ok, report.problems
        assert state_digest(await h.replayed()) == state_digest(h.engine.state)
    finally:
        await sessions.close()


@settings(max_examples=60, deadline=None)
@given(script=st.lists(action, max_size=25))
def test_targets_any_interleaving_never_takes_a_position_past_its_targets(script):
    asyncio.run(target_scenario(script))


# --- sizing against the worst case --------------------------------------------------------


async def test_targets_order_in_flight_counts_so_a_resend_places_nothing(sessions):
    h = await resting_venue_harness(sessions)

    first = await h.engine.set_targets(btc("0.05", key="a"))
    again = await h.engine.set_targets(btc("0.05", key="b"))  # the first is still working

    assert [o.qty for o in first.orders] == [D("0.05")]
    assert again.orders == []
    step = again.targets.steps[0]
    assert (step.working_buy, step.order_id, step.reason_code) == (D("0.05"), None, None)
    assert len(order_events(h)) == 1


async def test_targets_lower_target_replaces_own_resting_limit_down(sessions):
    h = await resting_venue_harness(sessions)
    resting = await h.place(limit_order(qty="0.05", price="49000", strategy=STRATEGY))
    await h.settle()

    result = await h.engine.set_targets(btc("0.02", key="down"))
    await h.settle()

    step = result.targets.steps[0]
    assert step.reduced == ((resting.order_id, D("0.02")),)
    assert (step.canceled, step.order_id) == ((), None)
    assert h.engine.order(resting.order_id).qty == D("0.02")  # type: ignore[union-attr]


async def test_targets_wrong_side_own_order_canceled_other_strategies_counted(sessions):
    h = await resting_venue_harness(sessions)
    mine = await h.place(limit_order(side=Side.SELL, qty="0.01", price="51000", strategy=STRATEGY))
    theirs = await h.place(limit_order(qty="0.01", price="49000", strategy="other"))
    await h.settle()

    result = await h.engine.set_targets(btc("0.03", key="up"))
    await h.settle()

    step = result.targets.steps[0]
    assert step.canceled == (mine.order_id,)
    assert step.working_buy == D("0.01")  # the other strategy's buy counts as if it fills
    assert step.qty == D("0.02")
    assert h.engine.order(theirs.order_id).status is OrderStatus.ACCEPTED  # type: ignore[union-attr]
    assert h.engine.order(mine.order_id).status is OrderStatus.CANCELED  # type: ignore[union-attr]


async def test_targets_gap_below_step_is_left_and_reported(sessions):
    h = await resting_venue_harness(sessions)

    result = await h.engine.set_targets(btc("0.0025", key="odd"))
    tiny = await h.engine.set_targets(btc("0.0029", key="tiny"))

    step = result.targets.steps[0]
    assert (step.qty, step.remainder) == (D("0.002"), D("0.0005"))
    left = tiny.targets.steps[0]
    assert (left.order_id, left.reason_code) == (None, ReasonCode.QTY_BELOW_MIN)
    assert left.remainder == D("0.0009")  # 0.0029 less the 0.002 still working


async def test_targets_short_target_sells_and_flat_target_closes(sessions):
    h = await sessions.start()

    await h.engine.set_targets(btc("-0.02", key="short"))
    await h.settle()
    assert h.position() == D("-0.02")
    await h.engine.set_targets(btc("0", key="flat"))
    await h.settle()

    assert h.position() == D(0)


async def test_targets_unknown_symbol_step_says_so(sessions):
    h = await sessions.start()

    result = await h.engine.set_targets(targets(("NOPE", "1")))

    assert result.targets.steps[0].reason_code == ReasonCode.SYMBOL_NOT_ALLOWED
    assert order_events(h) == []


async def test_targets_risk_denial_is_reported_on_the_step_not_retried(sessions):
    h = await sessions.start()

    result = await h.engine.set_targets(btc("100", key="huge"))  # far beyond the margin
    await h.settle()

    step = result.targets.steps[0]
    assert step.reason_code == ReasonCode.INSUFFICIENT_MARGIN
    assert [o.status for o in result.orders] == [OrderStatus.DENIED]
    assert len(order_events(h)) == 1


# --- idempotency and restarts --------------------------------------------------------------


async def test_targets_resent_after_restart_place_nothing_new(sessions):
    h = await sessions.start()
    first = await h.engine.set_targets(btc("0.04", key="bar-1"))
    await h.settle()
    h = await sessions.restart(h)

    again = await h.engine.set_targets(btc("0.04", key="bar-1"))
    fresh = await h.engine.set_targets(btc("0.04", key="bar-2"))
    await h.settle()

    assert again.duplicate
    assert again.targets == first.targets
    assert (fresh.duplicate, fresh.orders) == (False, [])
    assert fresh.targets.steps[0].position == D("0.04")
    assert len(order_events(h)) == 1
    assert h.position() == D("0.04")


async def test_targets_key_reused_for_other_targets_is_refused(sessions):
    h = await sessions.start()
    await h.engine.set_targets(btc("0.01", key="k"))

    with pytest.raises(IdempotencyConflict):
        await h.engine.set_targets(btc("0.02", key="k"))


async def test_targets_held_targets_survive_a_restart_and_a_checkpoint(sessions):
    h = await sessions.start()
    await h.engine.set_targets(targets((BTC.symbol, "0.01"), key="k"))
    await h.settle()
    h = await sessions.restart(h)

    held = h.engine.held_targets(ACCOUNT)

    assert [(t.strategy, t.symbol, t.held.set_id) for t in held] == [(STRATEGY, BTC.symbol, "k")]
    restored = type(h.engine.state).from_checkpoint(h.engine.state.checkpoint())
    assert state_digest(restored) == state_digest(h.engine.state)


def test_set_targets_command_refuses_bad_sets():
    with pytest.raises(InvalidRequest):
        SetTargets(ACCOUNT, STRATEGY, ())
    with pytest.raises(InvalidRequest):
        SetTargets(ACCOUNT, STRATEGY, ((BTC.symbol, D(1)), (BTC.symbol, D(2))))
    with pytest.raises(InvalidRequest):
        SetTargets(ACCOUNT, STRATEGY, ((BTC.symbol, D("NaN")),))
    with pytest.raises(InvalidRequest):
        SetTargets(ACCOUNT, STRATEGY, ((BTC.symbol, D(1)),), order_type=OrderType.STOP)
    with pytest.raises(InvalidRequest):
        SetTargets(ACCOUNT, STRATEGY, ((BTC.symbol, D(1)),), idempotency_key="k" * 49)


# --- gates ---------------------------------------------------------------------------------


async def test_targets_under_halt_place_nothing_and_say_why(sessions):
    h = await sessions.start()
    await h.engine.set_trading_state(
        SetTradingState(TradingState.HALTED, "drill", "ops", account=ACCOUNT)
    )

    result = await h.engine.set_targets(btc("0.01"))

    step = result.targets.steps[0]
    assert (step.order_id, step.reason_code) == (None, ReasonCode.TRADING_HALTED)
    assert "drill" in step.detail
    assert order_events(h) == []
    assert h.events(TargetsSet) == [result.targets]


async def test_targets_on_a_dirty_instrument_place_nothing_and_say_why(sessions):
    h = await sessions.start()
    h.venue.push(VenueReconnected("websocket dropped", 0))
    await h.settle()

    result = await h.engine.set_targets(btc("0.01"))

    step = result.targets.steps[0]
    assert (step.order_id, step.reason_code) == (None, ReasonCode.INSTRUMENT_DIRTY)
    assert order_events(h) == []


async def test_targets_under_reducing_only_reduce_toward_flat(sessions):
    h = await sessions.start()
    await h.engine.set_targets(btc("0.03", key="open"))
    await h.settle()
    await h.engine.set_trading_state(
        SetTradingState(TradingState.REDUCING, "safe", "ops", account=ACCOUNT)
    )

    grow = await h.engine.set_targets(btc("0.05", key="grow"))
    shrink = await h.engine.set_targets(btc("0.01", key="shrink"))
    await h.settle()

    assert grow.targets.steps[0].reason_code == ReasonCode.TRADING_REDUCING
    assert [o.reduce_only for o in shrink.orders] == [True]
    assert h.position() == D("0.01")


# --- dry run -------------------------------------------------------------------------------


async def test_dry_run_journals_planned_orders_and_sends_nothing(sessions):
    h = await sessions.start(mode="dry-run")

    result: TargetsResult = await h.engine.set_targets(btc("0.01", key="dry"))
    huge = await h.engine.set_targets(btc("100", key="huge"))
    await h.settle()

    assert [o.status for o in result.orders] == [OrderStatus.PLANNED]
    assert [o.status for o in huge.orders] == [OrderStatus.DENIED]
    assert h.venue.submitted == []
    assert h.position() == D(0)
    assert h.engine.state.journal_mode == "dry-run"


async def test_journal_made_in_one_mode_refuses_another(sessions):
    h = await sessions.start(mode="dry-run")
    await h.engine.stop()

    with pytest.raises(OrderGateError, match="dry-run mode"):
        await sessions.restart(h, mode="live")
