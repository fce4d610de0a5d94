"""Reduce-only, positions, cash (realized PnL and fees) and the margin check."""

from __future__ import annotations

from tests.unit.matching.matching_support import (
    BTC,
    D,
    cash,
    fills_of,
    kinds,
    make_engine,
    position_qty,
    request,
    submit,
    walk,
)

from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderStatus, OrderType, Side
from ordergate.engine.venue_reports import VenueOrderCanceled, VenueOrderRejected

BUY, SELL = Side.BUY, Side.SELL
LIMIT, MARKET, STOP = OrderType.LIMIT, OrderType.MARKET, OrderType.STOP
SMALL = {"acc": {"USDT": D(50)}}  # margin_rate 0.01: 5,000 USDT of notional


def test_reduce_only_fill_is_capped_at_position_and_remainder_canceled():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("open", BUY, MARKET, "1"))

    events = submit(engine, request("r1", SELL, MARKET, "3", reduce_only=True))

    assert kinds(events) == ["VenueOrderAccepted", "VenueFill", "VenueOrderCanceled"]
    assert fills_of(events)[0].qty == D(1)
    assert isinstance(events[2], VenueOrderCanceled)
    assert events[2].reason_code == ReasonCode.REDUCE_ONLY_CANCELED
    assert position_qty(engine) == D(0)


def test_reduce_only_when_flat_is_canceled_without_fill():
    engine = make_engine()
    walk(engine, 0, "100.0")

    events = submit(engine, request("r1", SELL, MARKET, "1", reduce_only=True))

    assert kinds(events) == ["VenueOrderAccepted", "VenueOrderCanceled"]
    assert isinstance(events[1], VenueOrderCanceled)
    assert events[1].reason_code == ReasonCode.REDUCE_ONLY_CANCELED


def test_reduce_only_on_the_position_side_is_canceled():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("open", BUY, MARKET, "1"))

    events = submit(engine, request("r1", BUY, MARKET, "1", reduce_only=True))

    assert fills_of(events) == []
    assert position_qty(engine) == D(1)


def test_resting_reduce_only_is_canceled_when_touched_after_position_closed():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("open", BUY, MARKET, "1"))
    submit(engine, request("tp", SELL, LIMIT, "1", "105.0", reduce_only=True))
    submit(engine, request("close", SELL, MARKET, "1"))

    events = walk(engine, 1, "100.0", "106.0")

    assert kinds(events) == ["VenueOrderCanceled"]
    assert isinstance(events[0], VenueOrderCanceled)
    assert events[0].reason_code == ReasonCode.REDUCE_ONLY_CANCELED


def test_reduce_only_stop_closes_a_short_position():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("open", SELL, MARKET, "2"))
    submit(engine, request("sl", BUY, STOP, "2", None, "103.0", reduce_only=True))

    (fill,) = fills_of(walk(engine, 1, "100.0", "104.0"))

    assert fill.price == D("103.0")
    assert position_qty(engine) == D(0)


def test_fills_move_position_and_cash_by_realized_pnl_minus_fees():
    engine = make_engine()
    walk(engine, 0, "100.0")
    (buy,) = fills_of(submit(engine, request("b", BUY, MARKET, "2")))
    submit(engine, request("s", SELL, LIMIT, "2", "110.0"))
    (sell,) = fills_of(walk(engine, 1, "100.0", "111.0"))

    assert cash(engine) == D(100_000) + D(20) - buy.fee - sell.fee
    assert engine.positions("acc") == []


def test_open_position_is_reported_with_average_price():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("b1", BUY, MARKET, "1"))
    walk(engine, 1, "102.0")
    submit(engine, request("b2", BUY, MARKET, "3"))

    (position,) = engine.positions("acc")

    assert position.qty == D(4)
    assert position.avg_price == D("101.5")
    assert cash(engine) == D(100_000) - (D(100) + D(306)) * BTC.taker_fee_rate


def test_order_beyond_free_margin_is_rejected_on_the_stream():
    engine = make_engine(balances=SMALL)
    walk(engine, 0, "100.0")

    venue_order_id, events = engine.submit(request("big", BUY, LIMIT, "51", "100.0"))

    assert venue_order_id == "s1-O1"
    assert kinds(events) == ["VenueOrderRejected"]
    assert isinstance(events[0], VenueOrderRejected)
    assert events[0].reason_code == ReasonCode.VENUE_INSUFFICIENT_MARGIN
    report = engine.order_report("acc", "BTCUSDT", "big")
    assert report is not None
    assert report.status is OrderStatus.REJECTED


def test_margin_counts_what_open_orders_reserve():
    engine = make_engine(balances=SMALL)
    walk(engine, 0, "100.0")

    first = submit(engine, request("a", BUY, LIMIT, "30", "90.0"))  # reserves 27
    second = submit(engine, request("b", BUY, LIMIT, "30", "90.0"))

    assert kinds(first) == ["VenueOrderAccepted"]
    assert kinds(second) == ["VenueOrderRejected"]


def test_order_margin_reports_what_open_orders_reserve():
    engine = make_engine(balances=SMALL)
    walk(engine, 0, "100.0")

    submit(engine, request("a", BUY, LIMIT, "30", "90.0"))
    submit(engine, request("b", SELL, LIMIT, "10", "110.0", reduce_only=True))

    assert engine.order_margin("acc", "USDT") == D(27)  # 30 x 90 x 0.01; reduce-only: none
    engine.cancel("acc", "BTCUSDT", "a")
    assert engine.order_margin("acc", "USDT") == D(0)


def test_margin_of_market_order_uses_current_price():
    engine = make_engine(balances=SMALL)
    walk(engine, 0, "100.0")

    assert kinds(submit(engine, request("a", BUY, MARKET, "49"))) == [
        "VenueOrderAccepted",
        "VenueFill",
    ]
    assert kinds(submit(engine, request("b", BUY, MARKET, "5"))) == ["VenueOrderRejected"]


def test_reduce_only_order_needs_no_margin():
    engine = make_engine(balances=SMALL)
    walk(engine, 0, "100.0")
    submit(engine, request("open", BUY, MARKET, "45"))
    walk(engine, 1, "90.0")  # unrealized -450: the account is under water

    events = submit(engine, request("close", SELL, MARKET, "45", reduce_only=True))

    assert kinds(events) == ["VenueOrderAccepted", "VenueFill"]


def test_order_on_unknown_account_is_rejected():
    engine = make_engine()
    walk(engine, 0, "100.0")

    events = submit(engine, request("x", BUY, MARKET, "1", account="nobody"))

    assert kinds(events) == ["VenueOrderRejected"]
    assert isinstance(events[0], VenueOrderRejected)
    assert events[0].reason_code == ReasonCode.VENUE_REJECTED
    assert "account" in events[0].reason
