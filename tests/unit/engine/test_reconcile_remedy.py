"""`remedy` through the engine: what each policy does about each kind of difference."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from engine_support import ACCOUNT, DEPOSIT, D, Sessions, limit_order, market_order
from reconcile_support import (
    SnapshotVenue,
    position,
    reconcile,
    report,
    snapshot,
    start,
    venue_fill,
)
from tests.fakes import BTC

from ordergate.config.settings import Settings
from ordergate.domain.errors import InvalidRequest
from ordergate.domain.events import (
    AlertRaised,
    InstrumentCleared,
    OrderFilled,
    OrderInitialized,
    ReconciliationRecorded,
    TradingStateChanged,
)
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import DirtyCause, OrderStatus, Side, TradingState
from ordergate.engine.reconcile import DiffKind, ReconcilePolicy, Remedy, Scope
from ordergate.engine.venue_reports import VenueOrderCanceled


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


def kinds(report_):
    return [d.kind for d in report_.diffs]


def policy(kind: DiffKind, remedy: Remedy) -> ReconcilePolicy:
    return ReconcilePolicy(**{kind.value.lower(): remedy})


async def resting_limit(h, qty: str = "0.1"):
    """A LIMIT BUY at 40000 (below the market): accepted and resting at the venue."""
    placed = await h.place(limit_order(qty=qty))
    view = await h.settled(placed.order_id)
    assert view.status is OrderStatus.ACCEPTED
    return view


# --- one scenario per kind: the venue differs from ordergate in exactly that way ---------------


async def order_missing(h, venue: SnapshotVenue) -> None:
    order = await resting_limit(h)
    venue.silent_cancel(order.client_order_id)


async def order_unknown(h, venue: SnapshotVenue) -> None:
    venue.external_order("manual-1")


async def order_mismatch(h, venue: SnapshotVenue) -> None:
    order = await resting_limit(h, qty="0.1")
    venue.change_terms(order.client_order_id, qty=D("0.2"))


async def fill_missing(h, venue: SnapshotVenue) -> None:
    order = await resting_limit(h, qty="0.1")
    venue.silent_fill(order.client_order_id, "0.05", trade_id="S1", price="40000")


async def position_mismatch(h, venue: SnapshotVenue) -> None:
    venue.position_offsets[(ACCOUNT, BTC.symbol)] = D("0.3")


SCENARIOS = {
    DiffKind.ORDER_MISSING: order_missing,
    DiffKind.ORDER_UNKNOWN: order_unknown,
    DiffKind.ORDER_MISMATCH: order_mismatch,
    DiffKind.FILL_MISSING: fill_missing,
    DiffKind.POSITION_MISMATCH: position_mismatch,
}


def what_ordergate_holds(h):
    """Orders (status, filled) and positions, to show a remedy changed none of them."""
    state = h.engine.state
    orders = {oid: (o.status, o.filled_qty, o.qty) for oid, o in state.orders.items()}
    return orders, h.position(), h.balance()


def venue_requests(venue: SnapshotVenue):
    return [(k, c) for k, c in venue.calls if k in ("submit", "cancel", "replace", "query")]


# --- HALT and ALERT, for every kind ------------------------------------------------------------


async def reconcile_acting(h, kind):
    """Reconcile until the policy acts: a position mismatch must be seen twice in a row."""
    if kind is DiffKind.POSITION_MISMATCH:
        first = await reconcile(h)
        assert [a.split(";")[0].split(" ")[0] for a in first.actions] == ["suspect"]
        assert h.events(TradingStateChanged) == []
        assert h.events(AlertRaised) == []
    return await reconcile(h)


async def test_remedy_position_mismatch_seen_once_only_suspected_and_reconciled_again(sessions):
    h, venue = await start(sessions, policy(DiffKind.POSITION_MISMATCH, Remedy.HALT))
    await SCENARIOS[DiffKind.POSITION_MISMATCH](h, venue)
    asked: list[set[str]] = []
    h.engine.on_reconcile_needed(asked.append)

    result = await reconcile(h)

    assert kinds(result) == [DiffKind.POSITION_MISMATCH]
    assert not result.agreed
    assert h.events(TradingStateChanged) == []
    mark = h.engine.state.dirty_mark(ACCOUNT, BTC.symbol)
    assert mark is not None
    assert mark.cause is DirtyCause.RECONCILIATION_MISMATCH
    assert {ACCOUNT} in asked  # looked at again at once


@pytest.mark.parametrize("kind", list(DiffKind))
async def test_remedy_halt_policy_halts_instrument_and_adopts_nothing(sessions, kind):
    h, venue = await start(sessions, policy(kind, Remedy.HALT))
    await SCENARIOS[kind](h, venue)
    held = what_ordergate_holds(h)
    requests = venue_requests(venue)

    result = await reconcile_acting(h, kind)

    assert kinds(result) == [kind]
    assert not result.agreed
    assert result.actions == [f"halted {ACCOUNT}/{BTC.symbol}"]
    halts = [(e.account, e.symbol, e.state, e.actor) for e in h.events(TradingStateChanged)]
    assert halts == [(ACCOUNT, BTC.symbol, TradingState.HALTED, "reconciler")]
    assert [g.state for g in h.engine.gates.trading_states] == [TradingState.HALTED]
    assert what_ordergate_holds(h) == held
    assert venue_requests(venue) == requests  # no query, no cancel
    assert not [e for e in h.events(OrderInitialized) if e.external]


@pytest.mark.parametrize("kind", list(DiffKind))
async def test_remedy_halt_policy_denies_new_orders_trading_halted(sessions, kind):
    h, venue = await start(sessions, policy(kind, Remedy.HALT))
    await SCENARIOS[kind](h, venue)
    await reconcile_acting(h, kind)

    denied = await h.place(limit_order(price="39000", qty="0.01"))

    assert denied.status is OrderStatus.DENIED
    assert denied.reason_code == ReasonCode.TRADING_HALTED


@pytest.mark.parametrize("kind", list(DiffKind))
async def test_remedy_alert_policy_journals_alert_and_changes_no_order_or_position(sessions, kind):
    h, venue = await start(sessions, policy(kind, Remedy.ALERT))
    await SCENARIOS[kind](h, venue)
    held = what_ordergate_holds(h)
    requests = venue_requests(venue)

    result = await reconcile_acting(h, kind)

    assert kinds(result) == [kind]
    assert not result.agreed
    alerts = [(e.kind, e.account, e.symbol) for e in h.events(AlertRaised)]
    assert alerts == [("RECONCILIATION", ACCOUNT, BTC.symbol)]
    assert str(kind) in h.events(AlertRaised)[0].detail
    assert h.events(TradingStateChanged) == []
    assert what_ordergate_holds(h) == held
    assert venue_requests(venue) == requests
    assert not [e for e in h.events(OrderInitialized) if e.external]
    # still in doubt: the symbol is gated until a reconciliation agrees
    mark = h.engine.state.dirty_mark(ACCOUNT, BTC.symbol)
    assert mark is not None
    assert mark.cause is DirtyCause.RECONCILIATION_MISMATCH


# --- ADOPT --------------------------------------------------------------------------------------


async def test_remedy_adopt_order_unknown_journals_external_accepted_order(sessions):
    h, venue = await start(sessions)
    venue.external_order("manual-1", qty="0.2", price="41000")

    result = await reconcile(h)

    assert result.actions == ["adopted external order manual-1"]
    assert result.agreed
    adopted = [e for e in h.events(OrderInitialized) if e.client_order_id == "manual-1"]
    assert len(adopted) == 1
    assert adopted[0].external
    assert (adopted[0].qty, adopted[0].price) == (D("0.2"), D("41000"))
    view = h.engine.order(adopted[0].order_id)
    assert view is not None
    assert view.status is OrderStatus.ACCEPTED
    assert h.engine.state.dirty == {}


async def test_remedy_adopted_external_order_takes_later_venue_events(sessions):
    h, venue = await start(sessions)
    venue.external_order("manual-1", qty="0.2", price="41000")
    await reconcile(h)

    venue.fill("manual-1", D("0.2"), D("41000"))  # streamed, like any fill
    await h.settle()

    order = h.engine.state.by_client_id["manual-1"]
    assert order.status is OrderStatus.FILLED
    assert h.position() == D("0.2")


async def test_remedy_adopt_fill_missing_of_known_order_journals_the_fill(sessions):
    h, venue = await start(sessions)
    order = await resting_limit(h, qty="0.1")
    venue.silent_fill(order.client_order_id, "0.05", trade_id="S1", price="40000", fee="2")

    result = await reconcile(h)

    assert kinds(result) == [DiffKind.FILL_MISSING]
    assert result.actions == [f"adopted fill S1 of {order.client_order_id}"]
    assert result.agreed
    fills = h.events(OrderFilled)
    assert [(f.order_id, f.trade_id, f.qty, f.price) for f in fills] == [
        (order.order_id, "S1", D("0.05"), D("40000"))
    ]
    view = h.engine.order(order.order_id)
    assert view is not None
    assert view.status is OrderStatus.PARTIALLY_FILLED
    assert view.filled_qty == D("0.05")
    assert h.position() == D("0.05")
    assert h.balance() == DEPOSIT - 2  # the fee


async def test_remedy_adopt_fill_missing_of_unknown_order_creates_external_order(sessions):
    h, venue = await start(sessions)
    venue.external_order("manual-2", qty="0.2", price="41000")
    venue.silent_fill("manual-2", "0.2", trade_id="S7", price="41000")  # done: not open

    result = await reconcile(h)

    assert kinds(result) == [DiffKind.FILL_MISSING]
    assert result.agreed
    adopted = [e for e in h.events(OrderInitialized) if e.client_order_id == "manual-2"]
    assert len(adopted) == 1
    assert adopted[0].external
    view = h.engine.order(adopted[0].order_id)
    assert view is not None
    assert view.status is OrderStatus.FILLED
    assert h.position() == D("0.2")


async def test_remedy_adopt_order_missing_queries_venue_and_settles_canceled(sessions):
    h, venue = await start(sessions)
    order = await resting_limit(h)
    venue.silent_cancel(order.client_order_id)

    result = await reconcile(h)

    assert kinds(result) == [DiffKind.ORDER_MISSING]
    assert result.actions == [f"asked the venue about order {order.order_id}"]
    assert venue.requests("query") == [order.client_order_id]
    assert venue.requests("submit") == [order.client_order_id]  # never sent again
    view = h.engine.order(order.order_id)
    assert view is not None
    assert view.status is OrderStatus.CANCELED


async def test_remedy_adopt_order_missing_filled_at_venue_books_fill_and_fills_order(sessions):
    h, venue = await start(sessions)
    order = await resting_limit(h, qty="0.1")
    venue.silent_fill(order.client_order_id, "0.1", trade_id="S1", price="40000")

    result = await reconcile(h)

    assert sorted(kinds(result)) == [DiffKind.FILL_MISSING, DiffKind.ORDER_MISSING]
    assert venue.requests("query") == [order.client_order_id]
    view = h.engine.order(order.order_id)
    assert view is not None
    assert view.status is OrderStatus.FILLED
    assert h.position() == D("0.1")


async def test_remedy_adopt_order_mismatch_queries_venue_by_client_order_id(sessions):
    h, venue = await start(sessions)
    order = await resting_limit(h, qty="0.1")
    venue.change_terms(order.client_order_id, qty=D("0.2"))

    result = await reconcile(h)

    assert kinds(result) == [DiffKind.ORDER_MISMATCH]
    assert result.actions == [f"asked the venue about order {order.order_id}"]
    assert venue.requests("query") == [order.client_order_id]
    assert venue.requests("submit") == [order.client_order_id]


async def test_remedy_adopt_order_mismatch_settles_to_venue_terms_and_then_agrees(sessions):
    h, venue = await start(sessions)
    order = await resting_limit(h, qty="0.1")
    venue.change_terms(order.client_order_id, qty=D("0.2"))
    await reconcile(h)

    second = await reconcile(h)

    view = h.engine.order(order.order_id)
    assert view is not None
    assert view.qty == D("0.2")
    assert second.agreed
    assert h.engine.state.dirty == {}


async def test_remedy_adopt_order_done_here_open_at_venue_cancels_it_at_venue(sessions):
    h, venue = await start(sessions)
    order = await resting_limit(h)
    # The stream says canceled; the venue still has it working.
    venue.push(VenueOrderCanceled(order.client_order_id, None, "stream says", None, 0))
    assert (await h.settled(order.order_id)).status is OrderStatus.CANCELED

    result = await reconcile(h)

    assert kinds(result) == [DiffKind.ORDER_MISMATCH]
    assert result.actions == [f"canceled stray order {order.order_id} at the venue"]
    assert venue.requests("cancel") == [order.client_order_id]
    assert venue.requests("query") == []
    assert venue.orders[order.client_order_id].status is OrderStatus.CANCELED
    view = h.engine.order(order.order_id)
    assert view is not None
    assert view.status is OrderStatus.CANCELED
    assert (await reconcile(h)).agreed


async def test_remedy_adopt_fill_that_cannot_be_booked_is_not_agreement(sessions):
    h, _ = await start(sessions)
    order = await resting_limit(h, qty="0.1")
    contradicting = venue_fill(order.client_order_id, "0.05", trade_id="S1", side=Side.SELL)

    result = await h.engine.reconcile(
        snapshot(fills=[contradicting], positions=[position("-0.05")]), Scope.POSITIONS
    )

    assert h.position() == D(0)  # nothing was booked ...
    assert not result.agreed  # ... so the venue's -0.05 is not explained
    assert h.engine.state.dirty_mark(ACCOUNT, BTC.symbol) is not None


# --- what every reconciliation records ----------------------------------------------------------


async def test_remedy_agreement_records_empty_reconciliation_and_no_actions(sessions):
    h, _ = await start(sessions)
    await h.place(market_order(qty="0.1"))
    await h.settle()

    result = await reconcile(h)

    assert result.agreed
    assert (result.diffs, result.actions) == ([], [])
    recorded = h.events(ReconciliationRecorded)
    assert [(r.account, r.scope, r.diffs) for r in recorded] == [(ACCOUNT, "all", ())]
    assert h.events(InstrumentCleared) == []  # nothing was in doubt
    assert [r.account for r in h.engine.gates.reconciliations] == [ACCOUNT]


async def test_remedy_records_each_diff_line_in_the_journal(sessions):
    h, venue = await start(sessions, policy(DiffKind.ORDER_UNKNOWN, Remedy.ALERT))
    venue.external_order("manual-1")
    venue.position_offsets[(ACCOUNT, BTC.symbol)] = D("0.3")

    result = await reconcile(h, scope=Scope.ALL)

    recorded = h.events(ReconciliationRecorded)[-1]
    assert recorded.scope == "all"
    assert recorded.diffs == tuple(d.line() for d in result.diffs)
    assert [line.split()[0] for line in recorded.diffs] == [
        "ORDER_UNKNOWN",
        "POSITION_MISMATCH",
    ]


async def test_remedy_snapshot_of_other_account_leaves_this_accounts_orders_alone(sessions):
    h, venue = await start(sessions, fund=(ACCOUNT, "other"))
    order = await resting_limit(h)

    result = await h.engine.reconcile(snapshot(account="other"), Scope.ALL)

    assert result.agreed
    assert venue.requests("query") == []
    view = h.engine.order(order.order_id)
    assert view is not None
    assert view.status is OrderStatus.ACCEPTED


async def test_remedy_snapshot_matching_the_journal_agrees_in_its_scope(sessions):
    h, _ = await start(sessions)
    order = await resting_limit(h)
    live = h.engine.state.orders[order.order_id]

    result = await h.engine.reconcile(snapshot(open_orders=[report(live)]), Scope.ORDERS)

    assert result.agreed
    assert result.scope is Scope.ORDERS


# --- the policy itself ----------------------------------------------------------------------


def test_reconcile_policy_position_mismatch_adopt_is_refused():
    with pytest.raises(ValueError, match="sum of fills"):
        ReconcilePolicy(position_mismatch=Remedy.ADOPT)


def test_reconcile_policy_defaults_adopt_all_but_positions_which_halt():
    default = ReconcilePolicy()

    assert {k: default.for_kind(k) for k in DiffKind} == {
        DiffKind.ORDER_MISSING: Remedy.ADOPT,
        DiffKind.ORDER_UNKNOWN: Remedy.ADOPT,
        DiffKind.ORDER_MISMATCH: Remedy.ADOPT,
        DiffKind.FILL_MISSING: Remedy.ADOPT,
        DiffKind.POSITION_MISMATCH: Remedy.HALT,
    }


def test_reconcile_policy_from_environment_reads_each_kind(isolated_environment, monkeypatch):
    monkeypatch.setenv("ORDERGATE_RECONCILE__ORDER_UNKNOWN", "alert")
    monkeypatch.setenv("ORDERGATE_RECONCILE__POSITION_MISMATCH", "ALERT")

    configured = Settings(_env_file=None).reconcile_policy()

    assert configured.order_unknown is Remedy.ALERT
    assert configured.position_mismatch is Remedy.ALERT
    assert configured.fill_missing is Remedy.ADOPT


@pytest.mark.parametrize(
    "reconcile", [{"position_mismatch": "ADOPT"}, {"order_unknown": "IGNORE"}, {"nope": "HALT"}]
)
def test_reconcile_policy_bad_setting_is_refused_invalid_request(reconcile):
    with pytest.raises(InvalidRequest):
        Settings(_env_file=None, reconcile=reconcile).reconcile_policy()
