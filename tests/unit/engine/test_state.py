"""OmsState: the fold of the journal's events, its reserved margin and its pending changes."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.fakes import BTC, EURUSD

from ordergate.domain.accounts import margin_by_currency
from ordergate.domain.errors import DuplicateFill, InvalidRequest, InvalidTransition
from ordergate.domain.events import (
    BalanceAdjusted,
    Event,
    InstrumentUpdated,
    JournalOpened,
    OrderAccepted,
    OrderApproved,
    OrderCanceled,
    OrderCancelRejected,
    OrderCancelRequested,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderRejected,
    OrderReplaced,
    OrderReplaceRejected,
    OrderReplaceRequested,
    OrderStatusUnknown,
    OrderSubmitted,
)
from ordergate.domain.orders import Order
from ordergate.domain.values import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.digest import state_digest
from ordergate.engine.state import OmsState
from ordergate.engine.views import BalanceView, OrderView, PositionView

D = Decimal
ZERO = D(0)

# Mirrors tests/fakes.py (`tests` is not importable as a package from here).
INSTRUMENTS = {BTC.symbol: BTC, EURUSD.symbol: EURUSD}


def init(
    order_id: str = "0-1",
    *,
    account: str = "a",
    symbol: str = BTC.symbol,
    side: Side = Side.BUY,
    type: OrderType = OrderType.LIMIT,
    qty: str | Decimal = "2",
    price: str | Decimal | None = "100",
    stop_price: str | Decimal | None = None,
    reduce_only: bool = False,
    idempotency_key: str | None = None,
    parent_order_id: str | None = None,
    ts: int = 10,
) -> OrderInitialized:
    return OrderInitialized(
        order_id=order_id,
        client_order_id=f"coid-{order_id}",
        account=account,
        symbol=symbol,
        side=side,
        type=type,
        qty=D(qty),
        price=None if price is None else D(price),
        stop_price=None if stop_price is None else D(stop_price),
        time_in_force=TimeInForce.GTC,
        reduce_only=reduce_only,
        stop_loss=None,
        take_profit=None,
        strategy=None,
        idempotency_key=idempotency_key,
        request_hash=None,
        parent_order_id=parent_order_id,
        trace_id=None,
        ts=ts,
    )


def fill(
    order: Order | OrderInitialized,
    qty: str | Decimal,
    price: str | Decimal,
    trade_id: str,
    *,
    fee: str | Decimal = "0",
    fee_currency: str = "USDT",
    ts: int = 20,
) -> OrderFilled:
    return OrderFilled(
        order_id=order.order_id,
        account=order.account,
        symbol=order.symbol,
        side=order.side,
        trade_id=trade_id,
        qty=D(qty),
        price=D(price),
        fee=D(fee),
        fee_currency=fee_currency,
        liquidity=LiquiditySide.TAKER,
        ts=ts,
    )


def state_with(*events: Event) -> OmsState:
    state = OmsState()
    for event in (InstrumentUpdated(BTC, 1), InstrumentUpdated(EURUSD, 1), *events):
        state.apply(event)
    return state


def working(order: OrderInitialized, reference_price: str = "100") -> list[Event]:
    return [
        order,
        OrderApproved(order.order_id, D(reference_price), order.ts + 1),
        OrderAccepted(order.order_id, "V-1", order.ts + 2),
    ]


def recomputed_reserved(state: OmsState) -> dict[tuple[str, str], Decimal]:
    """Reserved margin from scratch: every open, non-reduce-only order's remaining qty."""
    totals: dict[tuple[str, str], Decimal] = {}
    for order in state.open_orders.values():
        instrument = state.instruments.get(order.symbol)
        price = order.reserve_price
        if order.reduce_only or instrument is None or price is None:
            continue
        key = (order.account, instrument.quote_currency)
        margin = (order.qty - order.filled_qty) * price * instrument.contract_size
        totals[key] = totals.get(key, ZERO) + margin * instrument.margin_rate
    return totals


def nonzero(mapping: dict[tuple[str, str], Decimal]) -> dict[tuple[str, str], Decimal]:
    return {k: v for k, v in mapping.items() if v != ZERO}


# --- indexing ---------------------------------------------------------------------------------


def test_oms_state_initialized_order_indexed_by_id_client_id_key_and_parent():
    parent = init("0-1", idempotency_key="k1")
    child = init("0-2", parent_order_id="0-1", side=Side.SELL)

    state = state_with(parent, child)

    order = state.orders["0-1"]
    assert state.by_client_id["coid-0-1"] is order
    assert state.by_idempotency_key[("a", "k1")] is order
    assert state.children == {"0-1": ["0-2"]}
    assert order.status is OrderStatus.NEW
    assert state.open_orders == {}


def test_oms_state_order_count_tracks_highest_order_number():
    state = state_with(init("0-7"), init("0-3"))

    assert state.order_count == 7
    assert state.next_order_id() == "0-8"


def test_oms_state_next_order_id_uses_partition():
    assert OmsState(partition=4).next_order_id() == "4-1"


def test_oms_state_counts_events_and_keeps_latest_ts():
    state = state_with(init("0-1", ts=50), BalanceAdjusted("a", "USDT", D("5"), "dep", 30))

    assert state.event_count == 4
    assert state.last_ts == 50


def test_oms_state_open_orders_follow_status():
    order = init()
    state = state_with(order)

    state.apply(OrderApproved(order.order_id, D("100"), 11))
    assert set(state.open_orders) == {"0-1"}
    state.apply(OrderCanceled(order.order_id, None, None, 12))

    assert state.open_orders == {}


# --- reserved margin --------------------------------------------------------------------------


def test_oms_state_new_order_reserves_nothing_until_approved():
    state = state_with(init())

    assert nonzero(state.reserved) == {}


def test_oms_state_limit_order_reserves_margin_at_its_price():
    state = state_with(*working(init(qty="2", price="100")))

    assert state.reserved == {("a", "USDT"): D("20")}  # 2 * 100 * 0.1


def test_oms_state_partial_fill_releases_filled_part():
    order = init(qty="2", price="100")
    state = state_with(*working(order))

    state.apply(fill(order, "0.5", "100", "T1"))

    assert state.reserved[("a", "USDT")] == D("15")


def test_oms_state_full_fill_releases_all():
    order = init(qty="2", price="100")
    state = state_with(*working(order), fill(order, "0.5", "100", "T1"))

    state.apply(fill(order, "1.5", "100", "T2"))

    assert nonzero(state.reserved) == {}
    assert state.open_orders == {}


def test_oms_state_cancel_releases_all():
    order = init(qty="2", price="100")
    state = state_with(*working(order), OrderCancelRequested(order.order_id, None, 30))
    assert state.reserved[("a", "USDT")] == D("20")  # still reserved while the cancel flies

    state.apply(OrderCanceled(order.order_id, None, None, 31))

    assert nonzero(state.reserved) == {}


def test_oms_state_reduce_only_order_reserves_nothing():
    state = state_with(*working(init(reduce_only=True)))

    assert nonzero(state.reserved) == {}
    assert "0-1" in state.open_orders


def test_oms_state_market_order_reserves_at_reference_price():
    order = init(type=OrderType.MARKET, price=None, qty="1")

    state = state_with(*working(order, reference_price="250"))

    assert state.reserved == {("a", "USDT"): D("25")}


def test_oms_state_stop_order_reserves_at_stop_price():
    order = init(type=OrderType.STOP, price=None, stop_price="300", qty="1")

    state = state_with(*working(order, reference_price="250"))

    assert state.reserved == {("a", "USDT"): D("30")}


def test_oms_state_replace_moves_reservation_only_when_confirmed():
    order = init(qty="2", price="100")
    state = state_with(*working(order))

    state.apply(OrderReplaceRequested(order.order_id, D("3"), D("90"), None, 30))
    assert state.reserved[("a", "USDT")] == D("20")
    state.apply(OrderReplaced(order.order_id, D("3"), D("90"), None, 31))

    assert state.reserved[("a", "USDT")] == D("27")


def test_oms_state_reserved_keyed_by_account_and_quote_currency():
    state = state_with(
        *working(init("0-1", account="a", qty="1", price="100")),
        *working(init("0-2", account="b", qty="1", price="100")),
        *working(init("0-3", account="a", symbol=EURUSD.symbol, qty="1", price="1.1")),
    )

    assert nonzero(state.reserved) == {
        ("a", "USDT"): D("10"),
        ("b", "USDT"): D("10"),
        ("a", "USD"): D("1100"),  # 1 lot * 1.1 * 100,000 * 0.01
    }


@pytest.mark.parametrize("case", ["margin-rate-raised", "instrument-defined-late"])
def test_oms_state_instrument_updated_with_open_orders_reserved_stays_exact(case):
    order = init(qty="2", price="100")
    if case == "margin-rate-raised":
        state = state_with(*working(order))
        state.apply(InstrumentUpdated(dataclasses.replace(BTC, margin_rate=D("0.2")), 40))
    else:
        state = OmsState()
        for event in working(order):
            state.apply(event)
        state.apply(InstrumentUpdated(BTC, 40))

    state.apply(fill(order, "0.5", "100", "T1"))
    assert nonzero(state.reserved) == nonzero(recomputed_reserved(state))
    state.apply(OrderCanceled(order.order_id, None, None, 50))

    assert nonzero(state.reserved) == {}


def test_oms_state_replace_confirmed_below_filled_never_reserves_negative_margin():
    order = init(qty="2", price="100")
    state = state_with(*working(order))
    state.apply(OrderReplaceRequested(order.order_id, D("1"), D("100"), None, 30))
    state.apply(fill(order, "1.5", "100", "T1", ts=31))

    state.apply(OrderReplaced(order.order_id, D("1"), D("100"), None, 32))

    assert all(margin >= ZERO for margin in state.reserved.values())


def test_oms_state_refused_event_raises_and_changes_nothing():
    order = init(qty="2", price="100")
    state = state_with(*working(order))
    state.take_changes()
    view_before = OrderView.of(state.orders[order.order_id])
    before = (dict(state.reserved), dict(state.open_orders), state.event_count, state.last_ts)

    with pytest.raises(InvalidTransition):
        state.apply(OrderApproved(order.order_id, D("100"), 99))

    after = (dict(state.reserved), dict(state.open_orders), state.event_count, state.last_ts)
    assert after == before
    assert OrderView.of(state.orders[order.order_id]) == view_before
    assert state.take_changes().orders == []


def test_oms_state_duplicate_fill_raises_and_changes_nothing():
    order = init(qty="2", price="100")
    state = state_with(*working(order), fill(order, "0.5", "100", "T1"))
    state.take_changes()
    position = state.book.get("a", BTC.symbol)
    assert position is not None
    position_before = PositionView.of(position)

    with pytest.raises(DuplicateFill):
        state.apply(fill(order, "0.5", "100", "T1"))

    assert state.reserved[("a", "USDT")] == D("15")
    assert PositionView.of(position) == position_before
    changes = state.take_changes()
    assert (changes.orders, changes.fills, changes.positions) == ([], [], [])


# --- fills, positions, balances ---------------------------------------------------------------


def test_oms_state_fills_build_position_and_move_balance():
    buy = init("0-1", qty="2", price="100")
    sell = init("0-2", side=Side.SELL, qty="1", price="130")
    state = state_with(
        BalanceAdjusted("a", "USDT", D("1000"), "deposit", 2),
        *working(buy),
        *working(sell),
        fill(buy, "2", "100", "T1", fee="0.1"),
        fill(sell, "1", "130", "T2", fee="0.2", fee_currency="BNB"),
    )

    position = state.book.get("a", BTC.symbol)
    assert position is not None
    assert (position.qty, position.avg_price, position.realized_pnl) == (D("1"), D("100"), D("30"))
    assert state.accounts["a"].balances == {"USDT": D("1029.9"), "BNB": D("-0.2")}


def test_oms_state_take_changes_returns_rows_since_last_call_then_nothing():
    order = init(qty="2", price="100")
    state = state_with(BalanceAdjusted("a", "USDT", D("1000"), "deposit", 2), *working(order))
    first = state.take_changes()
    assert [o.status for o in first.orders] == [OrderStatus.ACCEPTED]
    assert first.balances == [BalanceView("a", "USDT", D("1000"), 2)]

    state.apply(fill(order, "0.5", "101", "T1", ts=30))
    second = state.take_changes()

    assert second.orders == [OrderView.of(state.orders["0-1"])]
    assert [f.trade_id for f in second.fills] == ["T1"]
    assert [(p.qty, p.avg_price) for p in second.positions] == [(D("0.5"), D("101"))]
    assert [b.currency for b in second.balances] == ["USDT"]
    empty = state.take_changes()
    assert (empty.orders, empty.fills, empty.positions, empty.balances) == ([], [], [], [])


def test_oms_state_free_margin_subtracts_reserved_and_position_margin():
    order = init("0-1", qty="2", price="100")
    closed = init("0-2", qty="1", price="100")
    state = state_with(
        BalanceAdjusted("a", "USDT", D("1000"), "deposit", 2),
        *working(order),
        *working(closed),
        fill(closed, "1", "100", "T1"),
    )

    free = state.free_margin("a", "USDT", lambda symbol: D("120"))

    # 1000 balance + 20 unrealized - 20 reserved by 0-1 - 12 position margin (1 * 120 * 0.1)
    assert free == D("988")
    assert state.free_margin("a", "EUR", lambda symbol: None) == ZERO
    assert state.free_margin("nobody", "USDT", lambda symbol: None) == ZERO


@pytest.mark.parametrize("marks", [{}, {BTC.symbol: D("90"), EURUSD.symbol: D("1.2")}])
def test_oms_state_free_margin_agrees_with_margin_by_currency(marks):
    btc = init("0-1", qty="1", price="100")
    eur = init("0-2", symbol=EURUSD.symbol, side=Side.SELL, qty="1", price="1.1")
    resting = init("0-3", qty="3", price="95")
    other = init("0-4", account="b", qty="5", price="100")
    state = state_with(
        BalanceAdjusted("a", "USDT", D("500"), "deposit", 2),
        BalanceAdjusted("a", "USD", D("4000"), "deposit", 2),
        *working(btc),
        *working(eur, reference_price="1.1"),
        *working(resting),
        *working(other),
        fill(btc, "1", "100", "T1"),
        fill(eur, "1", "1.1", "T2", fee_currency="USD"),
    )
    positions = [p for p in state.book if p.account == "a"]
    order_margin = {ccy: m for (acct, ccy), m in state.reserved.items() if acct == "a"}

    expected = margin_by_currency(
        state.accounts["a"].balances, positions, order_margin, state.instruments, marks
    )

    for currency in ("USDT", "USD"):
        assert state.free_margin("a", currency, marks.get) == expected[currency].free_margin


def test_oms_state_replay_rebuilds_same_state_digest():
    order = init(qty="2", price="100")
    events: list[Event] = [
        InstrumentUpdated(BTC, 1),
        BalanceAdjusted("a", "USDT", D("1000"), "deposit", 2),
        *working(order),
        fill(order, "0.5", "100", "T1"),
        OrderCancelRequested(order.order_id, None, 40),
        OrderCanceled(order.order_id, None, None, 41),
    ]
    live = OmsState()
    for event in events:
        live.apply(event)
        live.take_changes()

    replayed = OmsState.replay(events)

    assert state_digest(replayed) == state_digest(live)
    changes = replayed.take_changes()
    assert changes.orders == [OrderView.of(live.orders["0-1"])]
    assert len(changes.fills) == 1
    assert replayed.reserved == live.reserved


# --- property: reserved margin equals a recomputation -----------------------------------------

PROPERTY_SETTINGS = settings(
    max_examples=120,
    database=None,
)
ORDER_EVENT_KINDS = [
    "approve",
    "deny",
    "submit",
    "accept",
    "reject",
    "fill",
    "request_cancel",
    "cancel",
    "reject_cancel",
    "request_replace",
    "replace",
    "reject_replace",
    "expire",
    "unknown",
]


@st.composite
def order_spec(draw: st.DrawFn, number: int) -> OrderInitialized:
    instrument = draw(st.sampled_from([BTC, EURUSD]))
    order_type = draw(st.sampled_from(OrderType))
    price = draw(st.integers(1, 20_000)) * instrument.tick_size
    return init(
        f"0-{number}",
        account=draw(st.sampled_from(["a", "b"])),
        symbol=instrument.symbol,
        side=draw(st.sampled_from(Side)),
        type=order_type,
        qty=draw(st.integers(1, 500)) * instrument.lot_step,
        price=price if order_type.needs_price else None,
        stop_price=price if order_type.needs_stop_price else None,
        reduce_only=draw(st.booleans()),
        ts=number,
    )


def draw_order_event(data: st.DataObject, order: Order, ts: int) -> OrderEvent:
    instrument = INSTRUMENTS[order.symbol]
    kind = data.draw(st.sampled_from(ORDER_EVENT_KINDS), label="kind")
    oid = order.order_id
    steps = data.draw(st.integers(1, 300), label="steps")
    ticks = data.draw(st.integers(1, 20_000), label="ticks")
    qty = steps * instrument.lot_step
    price = ticks * instrument.tick_size
    events: dict[str, Any] = {
        "approve": lambda: OrderApproved(oid, price, ts),
        "deny": lambda: OrderDenied(oid, "QTY_BELOW_MIN", "x", ts),
        "submit": lambda: OrderSubmitted(oid, None, ts),
        "accept": lambda: OrderAccepted(oid, None, ts),
        "reject": lambda: OrderRejected(oid, "VENUE_REJECTED", "x", ts),
        "fill": lambda: fill(order, qty, price, f"{oid}-T{data.draw(st.integers(0, 5))}", ts=ts),
        "request_cancel": lambda: OrderCancelRequested(oid, None, ts),
        "cancel": lambda: OrderCanceled(oid, None, None, ts),
        "reject_cancel": lambda: OrderCancelRejected(oid, "X", "x", ts),
        # Replacement quantities stay above what has filled (the engine's own rule).
        "request_replace": lambda: OrderReplaceRequested(
            oid, order.filled_qty + qty, order.price and price, order.stop_price and price, ts
        ),
        "replace": lambda: OrderReplaced(
            oid, order.filled_qty + qty, order.price and price, order.stop_price and price, ts
        ),
        "reject_replace": lambda: OrderReplaceRejected(oid, "X", "x", ts),
        "expire": lambda: OrderExpired(oid, None, ts),
        "unknown": lambda: OrderStatusUnknown(oid, "timeout", ts),
    }
    event: OrderEvent = events[kind]()
    return event


@PROPERTY_SETTINGS
@given(data=st.data(), order_count=st.integers(1, 4), length=st.integers(1, 60))
def test_oms_state_reserved_equals_recomputation_after_any_events(data, order_count, length):
    specs = [data.draw(order_spec(n + 1), label=f"order {n + 1}") for n in range(order_count)]
    state = state_with(*specs)

    for step in range(length):
        order = state.orders[data.draw(st.sampled_from(specs), label="which").order_id]
        event = draw_order_event(data, order, ts=100 + step)
        if not order.can_apply(event):
            continue
        state.apply(event)

        assert nonzero(state.reserved) == nonzero(recomputed_reserved(state))
        assert state.open_orders == {oid: o for oid, o in state.orders.items() if o.status.is_open}


def test_oms_state_journal_is_opened_once():
    state = OmsState()
    state.apply(JournalOpened("a1", 1))

    with pytest.raises(InvalidRequest):
        state.apply(JournalOpened("b2", 2))

    assert state.journal_id == "a1"
