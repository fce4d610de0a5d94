"""Dirty gating: one test per trigger, what a dirty instrument lets through, and clearing.

An instrument (or a whole account) is in doubt after an ambiguous request, a venue
reconnect or a sequence gap; new risk is then denied INSTRUMENT_DIRTY while cancels and
reduce-only orders pass, until reconciliation (or an operator) clears it. Each mark asks
for a reconciliation of the account. A stale feed closes the gate too (FEED_STALE), and
opens it again by itself when a fresh quote arrives.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from engine_support import ACCOUNT, SECOND, Sessions
from gates_support import (
    ETH,
    MS,
    D,
    assert_denied,
    assert_sent,
    order,
    placed,
    quote,
    start,
)
from tests.fakes import BTC

from ordergate.domain.errors import AmbiguousVenueError, Conflict
from ordergate.domain.events import InstrumentCleared, InstrumentMarkedDirty, OrderStatusUnknown
from ordergate.domain.limits import RiskLimits
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import DirtyCause, OrderStatus, Side
from ordergate.engine.commands import CancelOrder, ClearDirty, ReplaceOrder
from ordergate.engine.venue_reports import VenueOrderCanceled, VenueReconnected
from ordergate.engine.views import OrderView

R = ReasonCode
OTHER = "acct-b"


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


class ReconcileRequests:
    """Records what `Engine.on_reconcile_needed` hears."""

    def __init__(self) -> None:
        self.calls: list[set[str]] = []

    def __call__(self, accounts: set[str]) -> None:
        self.calls.append(set(accounts))


async def dirty_harness(sessions: Sessions, limits: RiskLimits | None = None):
    h = await start(sessions, limits, fund=(ACCOUNT, OTHER))
    hook = ReconcileRequests()
    h.engine.on_reconcile_needed(hook)
    return h, hook


def ghost(seq: int) -> VenueOrderCanceled:
    """A venue event carrying only a sequence number (for an order nobody knows)."""
    return VenueOrderCanceled("ghost", None, None, seq, 0)


async def ambiguous_submit(h) -> OrderView:
    """A BTC limit buy whose submit reached the venue but whose answer was lost."""
    h.venue.lost_answers = 1
    return await placed(h, order(qty="0.01", price="48000"))


def marks(h) -> list[tuple[str | None, str | None, DirtyCause]]:
    return [(e.account, e.symbol, e.cause) for e in h.events(InstrumentMarkedDirty)]


# --- ambiguous request ---------------------------------------------------------------------


async def test_dirty_ambiguous_submit_marks_the_instrument(sessions):
    h, hook = await dirty_harness(sessions)

    lost = await ambiguous_submit(h)

    assert marks(h) == [(ACCOUNT, BTC.symbol, DirtyCause.AMBIGUOUS_REQUEST)]
    assert lost.status is OrderStatus.ACCEPTED  # resolved by query, never resubmitted
    assert h.venue.requests("submit") == [lost.client_order_id]
    assert hook.calls == [{ACCOUNT}]


async def test_dirty_after_ambiguous_submit_new_order_denied_elsewhere_allowed(sessions):
    h, _ = await dirty_harness(sessions)
    await ambiguous_submit(h)

    same = await placed(h, order(qty="0.02", price="47000"))
    other_symbol = await placed(h, order(qty="0.1", price="2900", symbol=ETH.symbol))
    other_account = await placed(h, order(qty="0.02", price="47000", account=OTHER))

    assert_denied(h, same, R.INSTRUMENT_DIRTY)
    assert "AMBIGUOUS_REQUEST" in (same.reason or "")
    assert_sent(h, other_symbol)
    assert_sent(h, other_account)


async def test_dirty_after_ambiguous_submit_reduce_only_and_cancel_pass(sessions):
    h, _ = await dirty_harness(sessions)
    await placed(h, order(qty="0.05"))
    lost = await ambiguous_submit(h)

    closing = await placed(h, order(Side.SELL, "0.05", reduce_only=True))
    await h.engine.cancel(CancelOrder(lost.order_id))

    assert_sent(h, closing)
    assert closing.status is OrderStatus.FILLED
    assert (await h.settled(lost.order_id)).status is OrderStatus.CANCELED
    assert h.position() == 0


async def test_dirty_second_ambiguity_same_cause_marked_once(sessions):
    h, hook = await dirty_harness(sessions)
    resting = await placed(h, order(qty="0.02", price="47000"))
    await ambiguous_submit(h)
    h.venue.fail_next.append(AmbiguousVenueError("cancel answer lost"))

    await h.engine.cancel(CancelOrder(resting.order_id))  # a second ambiguous request
    await h.settle()

    assert h.venue.requests("cancel")[0] == resting.client_order_id
    assert h.events(OrderStatusUnknown, resting.order_id)  # the cancel's fate was in doubt
    assert marks(h) == [(ACCOUNT, BTC.symbol, DirtyCause.AMBIGUOUS_REQUEST)]
    assert hook.calls == [{ACCOUNT}]


async def test_dirty_replace_may_shrink_or_move_but_not_grow(sessions):
    h, _ = await dirty_harness(sessions)
    resting = await placed(h, order(qty="0.02", price="48000"))
    await ambiguous_submit(h)

    with pytest.raises(Conflict) as refused:
        await h.engine.replace(ReplaceOrder(resting.order_id, qty=D("0.03")))
    await h.engine.replace(ReplaceOrder(resting.order_id, qty=D("0.01"), price=D("47000")))
    after = await h.settled(resting.order_id)

    assert refused.value.code == R.INSTRUMENT_DIRTY
    assert (after.qty, after.price) == (D("0.01"), D("47000"))


# --- venue reconnect -------------------------------------------------------------------------


async def test_dirty_venue_reconnect_marks_every_account(sessions):
    h, hook = await dirty_harness(sessions)

    h.venue.push(VenueReconnected("websocket dropped", 0))
    await h.settle()

    assert sorted(marks(h)) == [
        (ACCOUNT, None, DirtyCause.VENUE_RECONNECT),
        (OTHER, None, DirtyCause.VENUE_RECONNECT),
    ]
    assert hook.calls == [{ACCOUNT, OTHER}]
    for account in (ACCOUNT, OTHER):
        for symbol, price in ((BTC.symbol, "48000"), (ETH.symbol, "2900")):
            view = await placed(h, order(qty="0.1", price=price, symbol=symbol, account=account))
            assert_denied(h, view, R.INSTRUMENT_DIRTY)


# --- sequence numbers ------------------------------------------------------------------------


async def test_dirty_skipped_venue_seq_marks_every_account(sessions):
    h, hook = await dirty_harness(sessions)
    h.venue.push(ghost(1))
    h.venue.push(ghost(2))
    await h.settle()

    h.venue.push(ghost(4))
    await h.settle()

    assert sorted(marks(h)) == [
        (ACCOUNT, None, DirtyCause.SEQUENCE_GAP),
        (OTHER, None, DirtyCause.SEQUENCE_GAP),
    ]
    assert "2 to 4" in h.events(InstrumentMarkedDirty)[0].detail
    assert hook.calls == [{ACCOUNT, OTHER}]
    assert_denied(h, await placed(h, order(qty="0.01")), R.INSTRUMENT_DIRTY)


@pytest.mark.parametrize(
    "seqs",
    [
        pytest.param([1, 2, 2, 3], id="duplicate"),
        pytest.param([1, 2, 1, 3], id="reordered-lower"),
        pytest.param([5, 6, 1, 7], id="stale-lower"),
        pytest.param([10, 11, 12], id="first-seen-is-not-a-gap"),
    ],
)
async def test_dirty_duplicate_or_reordered_venue_seq_not_a_gap(sessions, seqs):
    h, hook = await dirty_harness(sessions)

    for seq in seqs:
        h.venue.push(ghost(seq))
    await h.settle()

    assert marks(h) == []
    assert hook.calls == []
    assert_sent(h, await placed(h, order(qty="0.01")))


async def test_dirty_reconnect_restarts_sequence_numbering(sessions):
    h, _ = await dirty_harness(sessions)
    h.venue.push(ghost(40))
    h.venue.push(VenueReconnected("new session", 0))
    h.venue.push(ghost(1))  # a new connection numbers afresh: no gap, no going back
    h.venue.push(ghost(2))
    await h.settle()

    assert {cause for _, _, cause in marks(h)} == {DirtyCause.VENUE_RECONNECT}


async def test_dirty_venue_seq_of_the_fakes_own_stream_never_gaps(sessions):
    h, _ = await dirty_harness(sessions)

    for i in range(1, 4):
        view = await placed(h, order(qty=f"0.0{i}", price="48000"))
        h.venue.fill(view.client_order_id, D(f"0.0{i}"), D("48000"))
    await h.settle()

    assert marks(h) == []


# --- stale feed ------------------------------------------------------------------------------


async def test_dirty_stale_feed_denies_and_clears_when_a_fresh_quote_arrives(sessions):
    h, hook = await dirty_harness(sessions, RiskLimits(feed_stale_after_ms=2000))
    h.clock.advance(3 * SECOND)

    stale = await placed(h, order(qty="0.01", price="48000"))
    quote(h, BTC.symbol, "50000")
    fresh = await placed(h, order(qty="0.01", price="48000"))

    assert_denied(h, stale, R.FEED_STALE)
    assert_sent(h, fresh)
    assert marks(h) == []  # a gate of its own, not a journaled mark
    assert hook.calls == []


async def test_dirty_stale_feed_is_per_instrument(sessions):
    h, _ = await dirty_harness(sessions, RiskLimits(feed_stale_after_ms=2000))
    quote(h, ETH.symbol, "3000", age_ms=2001)

    eth = await placed(h, order(qty="0.1", price="2900", symbol=ETH.symbol))
    btc = await placed(h, order(qty="0.01", price="48000"))

    assert_denied(h, eth, R.FEED_STALE)
    assert_sent(h, btc)


async def test_dirty_feed_exactly_at_staleness_limit_passes(sessions):
    h, _ = await dirty_harness(sessions, RiskLimits(feed_stale_after_ms=2000))
    h.clock.advance(2000 * MS)

    view = await placed(h, order(qty="0.01", price="48000"))

    assert_sent(h, view)


async def test_dirty_no_quote_at_all_counts_as_stale_feed(sessions):
    h, _ = await dirty_harness(sessions, RiskLimits(feed_stale_after_ms=2000))
    del h.market.quotes[BTC.symbol]

    view = await placed(h, order(qty="0.01", price="48000"))

    assert_denied(h, view, R.FEED_STALE)


# --- clearing --------------------------------------------------------------------------------


async def test_dirty_clear_by_operator_reopens_and_is_journaled(sessions):
    h, _ = await dirty_harness(sessions)
    await ambiguous_submit(h)

    gates = await h.engine.clear_dirty(ClearDirty(ACCOUNT, "checked the venue", "ops"))
    view = await placed(h, order(qty="0.02", price="47000"))

    [cleared] = h.events(InstrumentCleared)
    assert (cleared.account, cleared.symbol) == (ACCOUNT, None)
    assert "ops" in cleared.reason
    assert "checked the venue" in cleared.reason
    assert gates.dirty == ()
    assert h.engine.state.dirty_mark(ACCOUNT, BTC.symbol) is None
    assert_sent(h, view)


async def test_dirty_clear_of_one_account_leaves_the_other(sessions):
    h, _ = await dirty_harness(sessions)
    h.venue.push(VenueReconnected("dropped", 0))
    await h.settle()

    await h.engine.clear_dirty(ClearDirty(ACCOUNT, "ok", "ops"))

    assert_sent(h, await placed(h, order(qty="0.01", price="48000")))
    other = await placed(h, order(qty="0.01", price="48000", account=OTHER))
    assert_denied(h, other, R.INSTRUMENT_DIRTY)


async def test_dirty_clear_of_one_symbol_clears_only_that_symbols_mark(sessions):
    h, _ = await dirty_harness(sessions)
    await ambiguous_submit(h)  # marks (acct, BTCUSDT)
    h.venue.lost_answers = 1
    await placed(h, order(qty="0.1", price="2900", symbol=ETH.symbol))  # marks (acct, ETHUSDT)

    await h.engine.clear_dirty(ClearDirty(ACCOUNT, "ok", "ops", symbol=BTC.symbol))

    assert_sent(h, await placed(h, order(qty="0.02", price="47000")))
    eth = await placed(h, order(qty="0.2", price="2800", symbol=ETH.symbol))
    assert_denied(h, eth, R.INSTRUMENT_DIRTY)


async def test_dirty_clear_of_one_symbol_keeps_an_account_wide_mark(sessions):
    # An operator vouching for one instrument does not vouch for the whole account.
    h, _ = await dirty_harness(sessions)
    h.venue.push(VenueReconnected("dropped", 0))
    await h.settle()

    await h.engine.clear_dirty(ClearDirty(ACCOUNT, "ok", "ops", symbol=BTC.symbol))

    assert_denied(h, await placed(h, order(qty="0.01", price="48000")), R.INSTRUMENT_DIRTY)


async def test_dirty_mark_survives_restart(sessions):
    h, _ = await dirty_harness(sessions)
    await ambiguous_submit(h)

    again = await sessions.restart(h, watch_interval=None)

    view = await placed(again, order(qty="0.02", price="47000"))
    assert_denied(again, view, R.INSTRUMENT_DIRTY)
    assert [(m.account, m.symbol) for m in again.engine.gates.dirty] == [(ACCOUNT, BTC.symbol)]
