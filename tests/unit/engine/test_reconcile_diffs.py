"""`find_diffs`: the pure comparison of the journaled state with one account's snapshot."""

from __future__ import annotations

import pytest
from engine_support import ACCOUNT
from reconcile_support import (
    OTHER,
    D,
    StateBuilder,
    fill_of,
    position,
    report,
    snapshot,
    venue_fill,
)
from tests.fakes import BTC, EURUSD

from ordergate.domain.values import OrderStatus, OrderType, Side
from ordergate.engine.reconcile import DiffKind, Scope, find_diffs

S = OrderStatus
ORDER_KINDS = {DiffKind.ORDER_MISSING, DiffKind.ORDER_UNKNOWN, DiffKind.ORDER_MISMATCH}
POSITION_KINDS = {DiffKind.FILL_MISSING, DiffKind.POSITION_MISMATCH}


def kinds(diffs):
    return [d.kind for d in diffs]


# --- ORDER_MISSING ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status", [S.ACCEPTED, S.PARTIALLY_FILLED, S.PENDING_CANCEL, S.PENDING_REPLACE]
)
def test_find_diffs_working_order_not_open_at_venue_is_order_missing(status):
    b = StateBuilder()
    order = b.order(status)

    diffs = find_diffs(b.state, snapshot(), Scope.ORDERS)

    assert len(diffs) == 1
    diff = diffs[0]
    assert diff.kind is DiffKind.ORDER_MISSING
    assert diff.symbol == BTC.symbol
    assert diff.client_order_id == order.client_order_id
    assert diff.ours == str(status)
    assert diff.venue is None


@pytest.mark.parametrize("status", [S.PENDING_SUBMIT, S.SUBMITTED, S.UNKNOWN])
def test_find_diffs_in_flight_order_not_at_venue_is_never_missing(status):
    b = StateBuilder()
    b.order(status)

    assert find_diffs(b.state, snapshot(), Scope.ALL) == []


@pytest.mark.parametrize("status", [S.CANCELED, S.REJECTED, S.DENIED])
def test_find_diffs_done_order_not_at_venue_is_not_missing(status):
    b = StateBuilder()
    b.order(status)

    assert find_diffs(b.state, snapshot(), Scope.ORDERS) == []


def test_find_diffs_order_open_on_both_sides_with_same_terms_agrees():
    b = StateBuilder()
    order = b.order(S.ACCEPTED, qty="1", price="40000")

    venue = report(order, qty="1.000", price="40000.0")  # same numbers, other exponents

    assert find_diffs(b.state, snapshot(open_orders=[venue]), Scope.ALL) == []


# --- ORDER_UNKNOWN ----------------------------------------------------------------------------


def test_find_diffs_order_open_at_venue_never_placed_here_is_order_unknown():
    b = StateBuilder()

    venue = report(client_order_id="manual-1", side=Side.SELL, qty="0.5", price="45000")
    diffs = find_diffs(b.state, snapshot(open_orders=[venue]), Scope.ORDERS)

    assert len(diffs) == 1
    diff = diffs[0]
    assert diff.kind is DiffKind.ORDER_UNKNOWN
    assert diff.symbol == BTC.symbol
    assert diff.client_order_id == "manual-1"
    assert diff.ours is None
    assert diff.venue == "ACCEPTED"
    assert "SELL 0.5" in diff.detail


# --- ORDER_MISMATCH ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "ours_has", "venue_has"),
    [
        ({"qty": "2"}, "1", "2"),
        ({"price": "41000"}, "40000", "41000"),
    ],
    ids=["qty", "price"],
)
def test_find_diffs_order_with_other_terms_at_venue_is_order_mismatch(terms, ours_has, venue_has):
    b = StateBuilder()
    order = b.order(S.ACCEPTED, qty="1", price="40000")

    venue = report(order, **terms)
    diffs = find_diffs(b.state, snapshot(open_orders=[venue]), Scope.ORDERS)

    assert kinds(diffs) == [DiffKind.ORDER_MISMATCH]
    diff = diffs[0]
    assert (diff.symbol, diff.client_order_id) == (BTC.symbol, order.client_order_id)
    assert ours_has in (diff.ours or "")
    assert venue_has in (diff.venue or "")
    assert venue_has not in (diff.ours or "")
    assert ours_has not in (diff.venue or "")


def test_find_diffs_stop_price_differs_at_venue_is_order_mismatch():
    b = StateBuilder()
    order = b.order(S.ACCEPTED, order_type=OrderType.STOP, price=None, stop_price="45000")

    venue = report(order, stop_price="46000")

    assert kinds(find_diffs(b.state, snapshot(open_orders=[venue]), Scope.ORDERS)) == [
        DiffKind.ORDER_MISMATCH
    ]


@pytest.mark.parametrize("status", [S.CANCELED, S.FILLED, S.REJECTED])
def test_find_diffs_order_done_here_but_open_at_venue_is_order_mismatch(status):
    b = StateBuilder()
    order = b.order(status)

    venue = report(order, status=S.ACCEPTED)
    diffs = find_diffs(b.state, snapshot(open_orders=[venue]), Scope.ORDERS)

    assert kinds(diffs) == [DiffKind.ORDER_MISMATCH]
    assert diffs[0].client_order_id == order.client_order_id
    assert diffs[0].ours == str(status)
    assert diffs[0].venue == "ACCEPTED"


@pytest.mark.parametrize("status", [S.PENDING_SUBMIT, S.SUBMITTED, S.UNKNOWN])
def test_find_diffs_in_flight_order_open_at_venue_is_no_diff(status):
    b = StateBuilder()
    order = b.order(status)

    venue = report(order, qty="3")  # even with other terms: a query settles it, not this

    assert find_diffs(b.state, snapshot(open_orders=[venue]), Scope.ALL) == []


# --- FILL_MISSING -----------------------------------------------------------------------------


def test_find_diffs_venue_fill_not_journaled_is_fill_missing():
    b = StateBuilder()
    order = b.order(S.ACCEPTED)

    fill = fill_of(order, "0.4", trade_id="T9")
    diffs = find_diffs(b.state, snapshot(fills=[fill], positions=[position("0.4")]), Scope.ALL)

    missing = [d for d in diffs if d.kind is DiffKind.FILL_MISSING]
    assert len(missing) == 1
    diff = missing[0]
    assert (diff.symbol, diff.client_order_id, diff.trade_id) == (
        BTC.symbol,
        order.client_order_id,
        "T9",
    )
    assert diff.ours is None
    assert diff.venue == "0.4"


def test_find_diffs_fill_journaled_by_client_order_id_and_trade_id_is_not_missing():
    b = StateBuilder()
    order = b.order(S.ACCEPTED)
    b.fill(order, "0.4", trade_id="T1")

    snap = snapshot(
        open_orders=[report(order, status=S.PARTIALLY_FILLED)],
        fills=[fill_of(order, "0.4", trade_id="T1")],
        positions=[position("0.4")],
    )

    assert find_diffs(b.state, snap, Scope.ALL) == []


def test_find_diffs_trade_id_journaled_for_another_order_is_still_missing():
    b = StateBuilder()
    first = b.order(S.ACCEPTED)
    second = b.order(S.ACCEPTED)
    b.fill(first, "0.4", trade_id="T1")

    fill = fill_of(second, "0.3", trade_id="T1")  # same trade id, the other order
    snap = snapshot(fills=[fill], positions=[position("0.7")])
    diffs = find_diffs(b.state, snap, Scope.POSITIONS)

    assert kinds(diffs) == [DiffKind.FILL_MISSING]
    assert diffs[0].client_order_id == second.client_order_id


def test_find_diffs_fill_of_unknown_client_order_id_is_fill_missing():
    b = StateBuilder()

    fill = venue_fill("manual-7", "0.2", trade_id="T5")
    diffs = find_diffs(b.state, snapshot(fills=[fill], positions=[position("0.2")]), Scope.ALL)

    assert kinds(diffs) == [DiffKind.FILL_MISSING]
    assert diffs[0].client_order_id == "manual-7"


# --- POSITION_MISMATCH ------------------------------------------------------------------------


def test_find_diffs_position_differs_at_venue_is_position_mismatch():
    b = StateBuilder()
    order = b.order(S.FILLED, qty="1")

    fill = fill_of(order, "1", trade_id="T1")
    diffs = find_diffs(b.state, snapshot(fills=[fill], positions=[position("1.5")]), Scope.ALL)

    assert len(diffs) == 1
    diff = diffs[0]
    assert diff.kind is DiffKind.POSITION_MISMATCH
    assert diff.symbol == BTC.symbol
    assert diff.client_order_id is None
    assert (D(diff.ours), D(diff.venue)) == (D("1"), D("1.5"))


def test_find_diffs_position_only_at_venue_is_position_mismatch_with_ours_zero():
    b = StateBuilder()

    diffs = find_diffs(b.state, snapshot(positions=[position("-0.3")]), Scope.POSITIONS)

    assert kinds(diffs) == [DiffKind.POSITION_MISMATCH]
    assert (D(diffs[0].ours), D(diffs[0].venue)) == (D(0), D("-0.3"))


def test_find_diffs_position_only_here_is_position_mismatch_with_venue_zero():
    b = StateBuilder()
    order = b.order(S.FILLED, qty="1")

    fill = fill_of(order, "1", trade_id="T1")
    diffs = find_diffs(b.state, snapshot(fills=[fill]), Scope.POSITIONS)

    assert kinds(diffs) == [DiffKind.POSITION_MISMATCH]
    assert (D(diffs[0].ours), D(diffs[0].venue)) == (D(1), D(0))


def test_find_diffs_missing_fill_alone_gives_no_position_mismatch():
    b = StateBuilder()
    order = b.order(S.ACCEPTED, qty="1")

    fill = fill_of(order, "0.4", trade_id="T1")
    snap = snapshot(
        open_orders=[report(order, status=S.PARTIALLY_FILLED)],
        fills=[fill],
        positions=[position("0.4")],
    )

    assert kinds(find_diffs(b.state, snap, Scope.ALL)) == [DiffKind.FILL_MISSING]


def test_find_diffs_position_mismatch_counts_missing_fills_before_comparing():
    b = StateBuilder()
    order = b.order(S.ACCEPTED, qty="1")

    fill = fill_of(order, "0.4", trade_id="T1")
    snap = snapshot(fills=[fill], positions=[position("0.5")])
    diffs = find_diffs(b.state, snap, Scope.POSITIONS)

    assert kinds(diffs) == [DiffKind.FILL_MISSING, DiffKind.POSITION_MISMATCH]
    mismatch = diffs[1]
    assert (D(mismatch.ours), D(mismatch.venue)) == (D("0.4"), D("0.5"))


def test_find_diffs_missing_sell_fill_counts_negative():
    b = StateBuilder()
    order = b.order(S.ACCEPTED, side=Side.SELL, qty="1")

    fill = fill_of(order, "0.4", trade_id="T1")
    snap = snapshot(fills=[fill], positions=[position("-0.4")])

    assert kinds(find_diffs(b.state, snap, Scope.POSITIONS)) == [DiffKind.FILL_MISSING]


# --- scopes and accounts ----------------------------------------------------------------------


def _one_of_each_kind():
    """A state and a snapshot with every kind of difference at once."""
    b = StateBuilder()
    missing = b.order(S.ACCEPTED)  # not at the venue
    mismatched = b.order(S.ACCEPTED, qty="1")
    filled = b.order(S.ACCEPTED, qty="1")
    snap = snapshot(
        open_orders=[
            report(mismatched, qty="2"),
            report(filled, status=S.PARTIALLY_FILLED),
            report(client_order_id="manual-1"),
        ],
        fills=[fill_of(filled, "0.4", trade_id="T1")],
        positions=[position("0.9")],  # 0.4 of the missing fill + 0.5 nobody knows of
    )
    assert missing.client_order_id not in {r.client_order_id for r in snap.open_orders}
    return b.state, snap


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (Scope.ORDERS, ORDER_KINDS),
        (Scope.POSITIONS, POSITION_KINDS),
        (Scope.ALL, ORDER_KINDS | POSITION_KINDS),
    ],
)
def test_find_diffs_scope_looks_only_at_its_part(scope, expected):
    state, snap = _one_of_each_kind()

    diffs = find_diffs(state, snap, scope)

    assert set(kinds(diffs)) == expected
    assert len(diffs) == len(expected)


def test_find_diffs_other_accounts_orders_and_positions_are_not_diffed():
    b = StateBuilder()
    b.order(S.ACCEPTED, account=OTHER)
    b.order(S.FILLED, account=OTHER, symbol=EURUSD.symbol, qty="0.1", price="1.1")

    assert find_diffs(b.state, snapshot(account=ACCOUNT), Scope.ALL) == []


def test_find_diffs_other_accounts_venue_position_in_snapshot_is_ignored():
    b = StateBuilder()

    snap = snapshot(positions=[position("3", account=OTHER)])

    assert find_diffs(b.state, snap, Scope.ALL) == []


def test_find_diffs_other_accounts_fill_and_order_in_snapshot_are_ignored():
    b = StateBuilder()

    snap = snapshot(
        open_orders=[report(client_order_id="theirs-1", account=OTHER)],
        fills=[venue_fill("theirs-2", "0.1", trade_id="T1", account=OTHER)],
        positions=[position("0.1", account=OTHER)],
    )

    assert find_diffs(b.state, snap, Scope.ALL) == []
