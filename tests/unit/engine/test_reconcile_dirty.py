"""Dirty marks and reconciliation: agreement clears them, differences set them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from engine_support import ACCOUNT, D, Sessions, limit_order, market_order
from reconcile_support import SnapshotVenue, reconcile, start
from tests.fakes import BTC

from ordergate.domain.events import InstrumentCleared, InstrumentMarkedDirty, OrderFilled
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import DirtyCause, OrderStatus, Side
from ordergate.engine.reconcile import DiffKind, ReconcilePolicy, Remedy, Scope
from ordergate.engine.venue_reports import VenueOrderAccepted, VenueReconnected


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


# --- what makes an account dirty, and what clears it ------------------------------------------


async def ambiguous_submit(h, venue: SnapshotVenue) -> None:
    venue.lost_answers = 1  # the order rests at the venue; its answer is lost
    placed = await h.place(limit_order())
    view = await h.settled(placed.order_id)
    assert view.status is OrderStatus.ACCEPTED  # found by the query


async def reconnect(h, venue: SnapshotVenue) -> None:
    venue.push(VenueReconnected("socket dropped", 0))
    await h.settle()


async def sequence_gap(h, venue: SnapshotVenue) -> None:
    venue.push(VenueOrderAccepted("someone-else", None, 1, 0))
    venue.push(VenueOrderAccepted("someone-else", None, 5, 0))  # 2..4 were lost
    await h.settle()


CAUSES = {
    DirtyCause.AMBIGUOUS_REQUEST: ambiguous_submit,
    DirtyCause.VENUE_RECONNECT: reconnect,
    DirtyCause.SEQUENCE_GAP: sequence_gap,
}


@pytest.mark.parametrize("cause", list(CAUSES))
async def test_reconciliation_agreeing_clears_dirty_marks_whatever_the_cause(sessions, cause):
    h, venue = await start(sessions)
    await CAUSES[cause](h, venue)
    assert [m.cause for m in h.engine.state.dirty.values()] == [cause]
    assert h.engine.state.dirty_mark(ACCOUNT, BTC.symbol) is not None

    result = await reconcile(h)

    assert result.agreed
    assert result.actions == [f"cleared {ACCOUNT}"]
    cleared = h.events(InstrumentCleared)
    assert [(c.account, c.symbol) for c in cleared] == [(ACCOUNT, None)]
    assert h.engine.state.dirty == {}
    assert h.engine.gates.dirty == ()
    placed = await h.place(limit_order(price="39000", qty="0.01"))
    assert placed.status is not OrderStatus.DENIED


async def test_reconciliation_with_differences_marks_only_affected_symbol_dirty(sessions):
    h, venue = await start(sessions)
    order = await h.place(limit_order())
    await h.settle()
    venue.silent_cancel(order.client_order_id)

    result = await reconcile(h)

    assert not result.agreed
    marks = h.engine.state.dirty
    assert list(marks) == [(ACCOUNT, BTC.symbol)]
    assert marks[(ACCOUNT, BTC.symbol)].cause is DirtyCause.RECONCILIATION_MISMATCH
    assert [(g.account, g.symbol) for g in h.engine.gates.dirty] == [(ACCOUNT, BTC.symbol)]


async def test_reconciliation_mismatch_denies_new_orders_instrument_dirty(sessions):
    # Positions alerted rather than halted: the only gate left is the dirty mark.
    h, venue = await start(sessions, ReconcilePolicy(position_mismatch=Remedy.ALERT))
    venue.position_offsets[(ACCOUNT, BTC.symbol)] = D("0.3")
    await reconcile(h)

    placed = await h.place(limit_order(price="39000", qty="0.01"))

    assert placed.status is OrderStatus.DENIED
    assert placed.reason_code == ReasonCode.INSTRUMENT_DIRTY


async def test_reconciliation_mismatch_lets_reduce_only_orders_pass(sessions):
    h, venue = await start(sessions)
    await h.place(market_order(qty="0.1"))
    await h.settle()
    resting = await h.place(limit_order())
    await h.settle()
    venue.silent_cancel(resting.client_order_id)
    await reconcile(h)
    assert h.engine.state.dirty_mark(ACCOUNT, BTC.symbol) is not None

    reducing = await h.place(market_order(side=Side.SELL, qty="0.05", reduce_only=True))
    opening = await h.place(market_order(side=Side.BUY, qty="0.05"))

    assert (await h.settled(reducing.order_id)).status is OrderStatus.FILLED
    assert opening.status is OrderStatus.DENIED
    assert opening.reason_code == ReasonCode.INSTRUMENT_DIRTY
    assert h.position() == D("0.05")


async def test_reconciliation_agreeing_after_queries_answered_clears_mismatch_marks(sessions):
    h, venue = await start(sessions)
    canceled = await h.place(limit_order(price="40000"))
    filled = await h.place(limit_order(price="39000"))
    await h.settle()
    venue.silent_cancel(canceled.client_order_id)
    venue.silent_fill(filled.client_order_id, "0.1", trade_id="S1", price="39000")

    first = await reconcile(h)  # queries both; books the fill

    assert sorted(d.kind for d in first.diffs) == [
        DiffKind.FILL_MISSING,
        DiffKind.ORDER_MISSING,
        DiffKind.ORDER_MISSING,
    ]
    assert not first.agreed
    assert sorted(venue.requests("query")) == sorted(
        [canceled.client_order_id, filled.client_order_id]
    )
    assert h.engine.order(canceled.order_id).status is OrderStatus.CANCELED
    assert h.engine.order(filled.order_id).status is OrderStatus.FILLED
    assert h.engine.state.dirty_mark(ACCOUNT, BTC.symbol) is not None

    second = await reconcile(h)

    assert second.agreed
    assert second.diffs == []
    assert h.engine.state.dirty == {}
    assert h.events(InstrumentCleared)[-1].account == ACCOUNT


async def test_reconciliation_adopted_fill_then_streamed_same_trade_counts_once(sessions):
    h, venue = await start(sessions)
    order = await h.place(limit_order(qty="0.1"))
    await h.settle()
    fill = venue.silent_fill(order.client_order_id, "0.05", trade_id="S1", price="40000")
    await reconcile(h)
    assert h.position() == D("0.05")

    venue.push(fill)  # the stream catches up and delivers the same trade
    await h.settle()

    assert h.position() == D("0.05")
    assert h.engine.order(order.order_id).filled_qty == D("0.05")
    assert len(h.events(OrderFilled)) == 1
    assert (await reconcile(h)).agreed


async def test_reconciliation_streamed_fill_then_snapshot_same_trade_is_not_missing(sessions):
    h, venue = await start(sessions)
    placed = await h.place(market_order(qty="0.1"))  # filled and streamed by the venue
    await h.settle()
    assert len(venue.fills_sent) == 1

    result = await reconcile(h)

    assert result.agreed
    assert h.position() == D("0.1")
    assert len(h.events(OrderFilled, placed.order_id)) == 1


async def test_reconciliation_orders_scope_does_not_clear_a_doubt_about_positions(sessions):
    h, venue = await start(sessions)
    order = await h.place(limit_order(qty="0.1"))
    await h.settle()
    venue.silent_fill(order.client_order_id, "0.05", trade_id="S1", price="40000")
    await sequence_gap(h, venue)  # the fill's event was among the lost ones

    await reconcile(h, scope=Scope.ORDERS)

    assert h.engine.state.dirty_mark(ACCOUNT, BTC.symbol) is not None
    assert h.position() == D(0)  # the missing fill is still missing


async def test_reconciliation_mismatch_mark_is_set_once_per_cause(sessions):
    h, venue = await start(sessions)
    venue.position_offsets[(ACCOUNT, BTC.symbol)] = D("0.3")

    await reconcile(h)
    await reconcile(h)

    marks = [e for e in h.events(InstrumentMarkedDirty) if e.symbol == BTC.symbol]
    assert [m.cause for m in marks] == [DirtyCause.RECONCILIATION_MISMATCH]
