"""The unrealized-loss warning (seed 002): an `AlertRaised` of kind UNREALIZED_LOSS once a
position's loss passes its threshold, once, and again only after it has recovered.

The engine's watch runs on a timer (`watch_interval`): the first test lets the timer raise the
alerts; where an alert must *not* come, the test runs the watch itself (`Engine.watch_now`)
rather than waiting for the timer. The edge cases drive `LossWatch` directly with a
`DecisionContext` over a replay of the engine's journal.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from engine_support import ACCOUNT, Harness, Sessions
from gates_support import ETH, D, order, placed, quote, start
from tests.fakes import BTC
from tests.waiting import eventually

from ordergate.domain.events import AlertRaised
from ordergate.domain.limits import LimitsBook, RiskLimits
from ordergate.domain.values import Side
from ordergate.engine.context import DecisionContext
from ordergate.engine.control import LossWatch

WARN_5PCT = RiskLimits(unrealized_loss_warning_pct=D("5"))
WATCH = 0.005  # seconds between the engine's checks


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


async def several_watches(h: Harness) -> None:
    """Run the engine's watch a few times, each to its journaled outcome."""
    for _ in range(3):
        await h.engine.watch_now()


def alerts(h: Harness) -> list[AlertRaised]:
    return h.events(AlertRaised)


# --- through the engine's watch --------------------------------------------------------------


async def test_loss_alert_raised_once_beyond_threshold_and_again_after_recovery(sessions):
    h = await start(sessions, WARN_5PCT, watch_interval=WATCH)
    await placed(h, order(qty="0.1"))  # long 0.1 at 50,000

    quote(h, BTC.symbol, "47400")  # -5.2%
    await eventually(lambda: len(alerts(h)) == 1, message="the first alert")
    await several_watches(h)
    first = list(alerts(h))

    quote(h, BTC.symbol, "49000")  # -2%: recovered
    await several_watches(h)
    recovered = list(alerts(h))

    quote(h, BTC.symbol, "47000")  # -6%: beyond again
    await eventually(lambda: len(alerts(h)) == 2, message="the second alert")

    assert len(first) == 1
    assert recovered == first
    for alert in alerts(h):
        assert (alert.kind, alert.account, alert.symbol) == ("UNREALIZED_LOSS", ACCOUNT, BTC.symbol)
    assert "5.20%" in first[0].detail
    assert "6.00%" in alerts(h)[1].detail


async def test_loss_alert_not_raised_within_threshold(sessions):
    h = await start(sessions, WARN_5PCT, watch_interval=None)  # the test runs the watch
    await placed(h, order(qty="0.1"))

    quote(h, BTC.symbol, "48000")  # -4%
    await several_watches(h)

    assert alerts(h) == []


async def test_loss_alert_without_threshold_never_raised(sessions):
    h = await start(sessions, watch_interval=None)  # the test runs the watch
    await placed(h, order(qty="0.1"))

    quote(h, BTC.symbol, "10000")  # -80%
    await several_watches(h)

    assert alerts(h) == []


# --- LossWatch.check, deterministically --------------------------------------------------------


async def watch_context(h: Harness, limits: RiskLimits | LimitsBook) -> DecisionContext:
    """A context over a replay of `h`'s journal, so checks never touch the live engine."""
    book = limits if isinstance(limits, LimitsBook) else LimitsBook(global_limits=limits)
    state = await h.replayed()
    return DecisionContext(state, h.clock, h.market, book)


def raised(ctx: DecisionContext) -> list[AlertRaised]:
    return [e for e in ctx.take_batch().events if isinstance(e, AlertRaised)]


@pytest.mark.parametrize(
    ("side", "mark", "alerted"),
    [
        pytest.param(Side.BUY, "47500", True, id="long-exactly-at-threshold"),
        pytest.param(Side.BUY, "47500.1", False, id="long-just-inside"),
        pytest.param(Side.BUY, "60000", False, id="long-in-profit"),
        pytest.param(Side.SELL, "52500", True, id="short-exactly-at-threshold"),
        pytest.param(Side.SELL, "52499.9", False, id="short-just-inside"),
        pytest.param(Side.SELL, "40000", False, id="short-in-profit"),
    ],
)
async def test_loss_alert_threshold_edges_for_long_and_short(sessions, side, mark, alerted):
    h = await start(sessions)
    await placed(h, order(side, "0.1"))
    ctx = await watch_context(h, WARN_5PCT)
    quote(h, BTC.symbol, mark)

    LossWatch().check(ctx)

    assert len(raised(ctx)) == (1 if alerted else 0)


async def test_loss_alert_check_repeated_beyond_threshold_raises_once(sessions):
    h = await start(sessions)
    await placed(h, order(qty="0.1"))
    ctx = await watch_context(h, WARN_5PCT)
    watch = LossWatch()
    quote(h, BTC.symbol, "47000")

    counts = []
    for _ in range(3):
        watch.check(ctx)
        counts.append(len(raised(ctx)))

    assert counts == [1, 0, 0]


async def test_loss_alert_per_position_each_warned_once(sessions):
    h = await start(sessions)
    await placed(h, order(qty="0.1"))
    await placed(h, order(Side.SELL, "1", symbol=ETH.symbol))
    ctx = await watch_context(h, WARN_5PCT)
    watch = LossWatch()
    quote(h, BTC.symbol, "47000")
    watch.check(ctx)
    first = raised(ctx)

    quote(h, ETH.symbol, "3300")  # the short ETH now loses 10% too
    watch.check(ctx)
    second = raised(ctx)

    assert [a.symbol for a in first] == [BTC.symbol]
    assert [a.symbol for a in second] == [ETH.symbol]


async def test_loss_alert_instrument_threshold_overrides_global(sessions):
    h = await start(sessions)
    await placed(h, order(qty="0.1"))
    book = LimitsBook(
        global_limits=WARN_5PCT,
        instruments={BTC.symbol: RiskLimits(unrealized_loss_warning_pct=D("1"))},
    )
    ctx = await watch_context(h, book)
    quote(h, BTC.symbol, "49000")  # -2%: past the instrument's 1%, within the global 5%

    LossWatch().check(ctx)

    assert len(raised(ctx)) == 1


async def test_loss_alert_closed_position_rearms(sessions):
    h = await start(sessions)
    await placed(h, order(qty="0.1"))
    ctx = await watch_context(h, WARN_5PCT)
    watch = LossWatch()
    quote(h, BTC.symbol, "47000")
    watch.check(ctx)
    assert len(raised(ctx)) == 1

    await placed(h, order(Side.SELL, "0.1"))  # flat, and the watch sees it flat
    ctx.state = await h.replayed()
    watch.check(ctx)
    quote(h, BTC.symbol, "50000")
    await placed(h, order(qty="0.1"))  # long again at 50,000
    ctx.state = await h.replayed()
    quote(h, BTC.symbol, "47000")
    watch.check(ctx)

    assert len(raised(ctx)) == 1


async def test_loss_alert_position_reopened_between_checks_warned_again(sessions):
    h = await start(sessions)
    await placed(h, order(qty="0.1"))
    ctx = await watch_context(h, WARN_5PCT)
    watch = LossWatch()
    quote(h, BTC.symbol, "47000")
    watch.check(ctx)
    raised(ctx)

    quote(h, BTC.symbol, "50000")
    await placed(h, order(Side.SELL, "0.1"))  # flat ...
    await placed(h, order(qty="0.1"))  # ... and long again at 50,000 before the next check
    ctx.state = await h.replayed()
    quote(h, BTC.symbol, "47000")
    watch.check(ctx)

    assert len(raised(ctx)) == 1
