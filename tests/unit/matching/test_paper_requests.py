"""Submit, cancel and replace refusals, order queries, ids and the venue sequence."""

from __future__ import annotations

import pytest
from tests.unit.matching.matching_support import (
    BALANCES,
    D,
    fills_of,
    kinds,
    make_engine,
    quoted,
    request,
    step,
    submit,
    walk,
)

from ordergate.domain.errors import RejectedByVenue
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderStatus, OrderType, Side
from ordergate.engine.venue_reports import (
    VenueOrderCanceled,
    VenueOrderRejected,
    VenueOrderReplaced,
)
from ordergate.matching import (
    DUPLICATE_CLIENT_ORDER_ID,
    ORDER_CLOSED,
    ORDER_NOT_FOUND,
    ExecutionRules,
    MarketDataError,
)
from ordergate.matching.core import FORGET_EVERY

BUY, SELL = Side.BUY, Side.SELL
LIMIT, MARKET, STOP = OrderType.LIMIT, OrderType.MARKET, OrderType.STOP


def test_submit_duplicate_client_order_id_raises_and_creates_nothing():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("c1", BUY, LIMIT, "1", "90.0"))

    with pytest.raises(RejectedByVenue) as raised:
        engine.submit(request("c1", BUY, LIMIT, "2", "91.0"))

    assert raised.value.code == DUPLICATE_CLIENT_ORDER_ID
    assert [order.qty for order in engine.open_orders("acc")] == [D(1)]


def test_submit_reusing_id_of_rejected_order_raises_duplicate():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("c1", BUY, LIMIT, "1", "90.05"))  # off tick: rejected

    with pytest.raises(RejectedByVenue) as raised:
        engine.submit(request("c1", BUY, LIMIT, "1", "90.0"))

    assert raised.value.code == DUPLICATE_CLIENT_ORDER_ID


def test_submit_same_client_order_id_on_another_account_is_accepted():
    balances = {**BALANCES, "other": {"USDT": D(1000)}}
    engine = make_engine(balances=balances)
    walk(engine, 0, "100.0")
    submit(engine, request("c1", BUY, LIMIT, "1", "90.0"))

    events = submit(engine, request("c1", BUY, LIMIT, "1", "90.0", account="other"))

    assert kinds(events) == ["VenueOrderAccepted"]


def test_submit_unknown_symbol_returns_receipt_and_rejects_on_stream():
    engine = make_engine()

    venue_order_id, events = engine.submit(request("c1", BUY, MARKET, "1", symbol="DOGEUSDT"))

    assert venue_order_id == "s1-O1"
    assert kinds(events) == ["VenueOrderRejected"]
    assert isinstance(events[0], VenueOrderRejected)
    assert "symbol" in events[0].reason
    report = engine.order_report("acc", "DOGEUSDT", "c1")
    assert report is not None
    assert report.status is OrderStatus.REJECTED


@pytest.mark.parametrize(
    ("order_type", "qty", "price", "stop"),
    [
        (LIMIT, "1.0005", "90.0", None),  # off the lot step
        (LIMIT, "0", "90.0", None),
        (LIMIT, "1", "90.05", None),  # off the tick
        (LIMIT, "1", None, None),  # a limit needs a price
        (MARKET, "1", "90.0", None),  # a market order takes no price
        (STOP, "1", None, None),
        (LIMIT, "0.01", "90.0", None),  # notional 0.9 below the minimum 5
    ],
)
def test_submit_off_grid_or_inconsistent_terms_is_rejected(order_type, qty, price, stop):
    engine = make_engine()
    walk(engine, 0, "100.0")

    events = submit(engine, request("c1", BUY, order_type, qty, price, stop))

    assert kinds(events) == ["VenueOrderRejected"]
    assert isinstance(events[0], VenueOrderRejected)
    assert events[0].reason_code == ReasonCode.VENUE_REJECTED


def test_cancel_open_order_emits_canceled_and_closes_it():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("c1", BUY, LIMIT, "1", "90.0"))

    events = engine.cancel("acc", "BTCUSDT", "c1")

    assert kinds(events) == ["VenueOrderCanceled"]
    assert isinstance(events[0], VenueOrderCanceled)
    assert events[0].reason_code is None
    assert engine.open_orders("acc") == []
    assert walk(engine, 1, "80.0") == []


@pytest.mark.parametrize(
    ("account", "symbol", "client_order_id"),
    [("acc", "BTCUSDT", "nope"), ("acc", "EURUSD", "c1"), ("other", "BTCUSDT", "c1")],
)
def test_cancel_unknown_order_raises_order_not_found(account, symbol, client_order_id):
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("c1", BUY, LIMIT, "1", "90.0"))

    with pytest.raises(RejectedByVenue) as raised:
        engine.cancel(account, symbol, client_order_id)

    assert raised.value.code == ORDER_NOT_FOUND


def test_cancel_filled_or_canceled_order_raises_order_closed():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("filled", BUY, MARKET, "1"))
    submit(engine, request("canceled", BUY, LIMIT, "1", "90.0"))
    engine.cancel("acc", "BTCUSDT", "canceled")

    for client_order_id in ("filled", "canceled"):
        with pytest.raises(RejectedByVenue) as raised:
            engine.cancel("acc", "BTCUSDT", client_order_id)
        assert raised.value.code == ORDER_CLOSED


def test_replace_price_applies_at_once_and_is_reported():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("c1", BUY, LIMIT, "1", "90.0"))

    events = engine.replace("acc", "BTCUSDT", "c1", D(2), D("95.0"), None)

    assert events[0] == VenueOrderReplaced(
        "c1", D(2), D("95.0"), None, events[0].venue_seq, events[0].ts
    )
    (report,) = engine.open_orders("acc")
    assert (report.qty, report.price) == (D(2), D("95.0"))
    assert fills_of(walk(engine, 1, "100.0", "94.0"))[0].price == D("95.0")


def test_replace_limit_that_now_crosses_fills_at_once_as_taker():
    engine = make_engine()
    engine.apply_step(step(0, quoted(("99.5", "100.0"))))
    submit(engine, request("c1", BUY, LIMIT, "1", "90.0"))

    events = engine.replace("acc", "BTCUSDT", "c1", D(1), D("101.0"), None)

    assert kinds(events) == ["VenueOrderReplaced", "VenueFill"]
    assert fills_of(events)[0].price == D("100.0")


def test_replace_stop_to_a_touched_price_triggers_at_once():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("s1", SELL, STOP, "1", None, "95.0"))

    events = engine.replace("acc", "BTCUSDT", "s1", D(1), None, D("100.0"))

    assert kinds(events) == ["VenueOrderReplaced", "VenueFill"]


def test_replace_below_filled_quantity_raises():
    engine = make_engine(rules={"BTCUSDT": ExecutionRules(max_passive_qty_per_step=D("0.5"))})
    walk(engine, 0, "100.0")
    submit(engine, request("c1", BUY, LIMIT, "2", "98.0"))
    walk(engine, 1, "97.0")

    with pytest.raises(RejectedByVenue) as raised:
        engine.replace("acc", "BTCUSDT", "c1", D("0.4"), None, None)

    assert raised.value.code == ReasonCode.REPLACE_BELOW_FILLED


def test_replace_down_to_filled_quantity_completes_the_order():
    engine = make_engine(rules={"BTCUSDT": ExecutionRules(max_passive_qty_per_step=D("0.5"))})
    walk(engine, 0, "100.0")
    submit(engine, request("c1", BUY, LIMIT, "2", "98.0"))
    walk(engine, 1, "97.0")

    events = engine.replace("acc", "BTCUSDT", "c1", D("0.5"), None, None)

    assert kinds(events) == ["VenueOrderReplaced"]
    report = engine.order_report("acc", "BTCUSDT", "c1")
    assert report is not None
    assert (report.status, report.filled_qty) == (OrderStatus.FILLED, D("0.5"))
    assert engine.open_orders("acc") == []


@pytest.mark.parametrize(
    ("qty", "price", "stop", "code"),
    [
        (D(1), None, D("95.0"), ReasonCode.ORDER_NOT_REPLACEABLE),  # a limit has no stop
        (D(1), D("90.05"), None, ReasonCode.ORDER_NOT_REPLACEABLE),  # off the tick
        (D("1.0001"), None, None, ReasonCode.ORDER_NOT_REPLACEABLE),  # off the step
        (D(1000), None, None, ReasonCode.VENUE_INSUFFICIENT_MARGIN),  # 900 > 100 of margin
    ],
)
def test_replace_with_bad_terms_raises_and_changes_nothing(qty, price, stop, code):
    engine = make_engine(balances={"acc": {"USDT": D(100)}})
    walk(engine, 0, "100.0")
    submit(engine, request("c1", BUY, LIMIT, "1", "90.0"))

    with pytest.raises(RejectedByVenue) as raised:
        engine.replace("acc", "BTCUSDT", "c1", qty, price, stop)

    assert raised.value.code == code
    (report,) = engine.open_orders("acc")
    assert (report.qty, report.price) == (D(1), D("90.0"))


def test_replace_closed_or_unknown_order_raises():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("filled", BUY, MARKET, "1"))

    with pytest.raises(RejectedByVenue) as closed:
        engine.replace("acc", "BTCUSDT", "filled", D(2), None, None)
    with pytest.raises(RejectedByVenue) as unknown:
        engine.replace("acc", "BTCUSDT", "nope", D(2), None, None)

    assert (closed.value.code, unknown.value.code) == (ORDER_CLOSED, ORDER_NOT_FOUND)


def test_order_report_answers_open_and_closed_orders():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("filled", BUY, MARKET, "2"))
    submit(engine, request("open", SELL, LIMIT, "1", "120.0"))

    filled = engine.order_report("acc", "BTCUSDT", "filled")
    still_open = engine.order_report("acc", "BTCUSDT", "open")

    assert filled is not None
    assert (filled.status, filled.filled_qty, filled.avg_fill_price) == (
        OrderStatus.FILLED,
        D(2),
        D("100.0"),
    )
    assert filled.venue_order_id == "s1-O1"
    assert still_open is not None
    assert (still_open.status, still_open.avg_fill_price) == (OrderStatus.ACCEPTED, None)
    assert engine.order_report("acc", "BTCUSDT", "never") is None


def test_open_orders_are_listed_in_arrival_order_and_filter_by_symbol():
    engine = make_engine()
    walk(engine, 0, "100.0")
    walk(engine, 0, "1.10000", symbol="EURUSD")
    submit(engine, request("z", BUY, LIMIT, "1", "90.0"))
    submit(engine, request("e", BUY, LIMIT, "1", "1.00000", symbol="EURUSD"))
    submit(engine, request("a", SELL, LIMIT, "1", "110.0"))

    assert [o.client_order_id for o in engine.open_orders("acc")] == ["z", "e", "a"]
    assert [o.client_order_id for o in engine.open_orders("acc", "BTCUSDT")] == ["z", "a"]
    assert engine.open_orders("nobody") == []


def test_venue_seq_is_strictly_increasing_across_requests_and_steps():
    engine = make_engine()
    events = [*walk(engine, 0, "100.0")]
    events += submit(engine, request("m", BUY, MARKET, "1"))
    events += submit(engine, request("l", SELL, LIMIT, "1", "101.0"))
    events += submit(engine, request("c", BUY, LIMIT, "1", "90.0"))
    events += engine.cancel("acc", "BTCUSDT", "c")
    events += submit(engine, request("r", BUY, LIMIT, "1", "95.0"))
    events += engine.replace("acc", "BTCUSDT", "r", D(1), D("96.0"), None)
    events += walk(engine, 1, "100.0", "102.0", "95.0")
    events += submit(engine, request("x", BUY, LIMIT, "1", "90.05"))

    seqs = [event.venue_seq for event in events]
    assert len(events) == 10
    assert seqs == list(range(1, len(events) + 1))


def test_ids_carry_the_session_and_count_up():
    engine = make_engine(session="777")
    walk(engine, 0, "100.0")

    first_id, first = engine.submit(request("a", BUY, MARKET, "1"))
    second_id, second = engine.submit(request("b", BUY, MARKET, "1"))

    assert (first_id, second_id) == ("777-O1", "777-O2")
    assert [fill.trade_id for fill in fills_of(first + second)] == ["777-T1", "777-T2"]


def test_step_earlier_than_venue_time_is_refused():
    engine = make_engine()
    walk(engine, 5, "100.0")

    with pytest.raises(MarketDataError, match="before the venue's time"):
        walk(engine, 4, "100.0")


def test_closed_orders_beyond_the_history_are_forgotten_and_open_ones_kept():
    """A venue's order history ends somewhere: memory follows what is open and recent."""
    engine = make_engine(history=10)
    walk(engine, 0, "100.0")
    submit(engine, request("resting", BUY, LIMIT, "1", "50.0"))
    placed = FORGET_EVERY + 5
    for n in range(placed):
        submit(engine, request(f"m{n}", BUY, MARKET, "0.001"))

    assert engine.order_report("acc", "BTCUSDT", "resting") is not None
    assert engine.order_report("acc", "BTCUSDT", "m0") is None  # forgotten
    assert engine.order_report("acc", "BTCUSDT", f"m{placed - 1}") is not None
    # Forgetting runs every FORGET_EVERY orders: between sweeps the history overshoots
    # by less than that.
    assert len(engine._orders) <= 1 + 10 + FORGET_EVERY
