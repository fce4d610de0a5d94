"""IOC, FOK and DAY orders, and the per-step liquidity cap on resting orders."""

from __future__ import annotations

from tests.unit.matching.matching_support import (
    MINUTE,
    T0,
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

from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.venue_reports import VenueOrderCanceled, VenueOrderExpired
from ordergate.matching import ExecutionRules

BUY, SELL = Side.BUY, Side.SELL
IOC, FOK, DAY = TimeInForce.IOC, TimeInForce.FOK, TimeInForce.DAY
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET
CAP = {"BTCUSDT": ExecutionRules(max_passive_qty_per_step=D("0.3"))}


def test_ioc_limit_not_marketable_is_canceled_ioc_unfilled():
    engine = make_engine()
    engine.apply_step(step(0, quoted(("99.5", "100.0"))))

    events = submit(engine, request("i1", BUY, LIMIT, "1", "99.0", tif=IOC))

    assert kinds(events) == ["VenueOrderAccepted", "VenueOrderCanceled"]
    assert isinstance(events[1], VenueOrderCanceled)
    assert events[1].reason_code == ReasonCode.IOC_UNFILLED
    assert walk(engine, 1, "90.0") == []


def test_ioc_limit_marketable_fills_at_once():
    engine = make_engine()
    engine.apply_step(step(0, quoted(("99.5", "100.0"))))

    events = submit(engine, request("i1", BUY, LIMIT, "1", "100.0", tif=IOC))

    assert kinds(events) == ["VenueOrderAccepted", "VenueFill"]


def test_ioc_market_before_any_price_is_canceled_ioc_unfilled():
    engine = make_engine()

    events = submit(engine, request("i1", BUY, MARKET, "1", tif=IOC))

    assert isinstance(events[-1], VenueOrderCanceled)
    assert events[-1].reason_code == ReasonCode.IOC_UNFILLED


def test_fok_limit_not_marketable_is_canceled_without_fill():
    engine = make_engine()
    walk(engine, 0, "100.0")

    events = submit(engine, request("f1", BUY, LIMIT, "1", "99.0", tif=FOK))

    assert kinds(events) == ["VenueOrderAccepted", "VenueOrderCanceled"]
    assert isinstance(events[1], VenueOrderCanceled)
    assert events[1].reason_code == ReasonCode.FOK_UNFILLED


def test_fok_market_with_price_fills_completely():
    engine = make_engine()
    walk(engine, 0, "100.0")

    (fill,) = fills_of(submit(engine, request("f1", BUY, MARKET, "5", tif=FOK)))

    assert fill.qty == D(5)


def test_fok_reduce_only_larger_than_position_is_canceled_without_fill():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("open", BUY, MARKET, "1"))

    events = submit(engine, request("f1", SELL, MARKET, "2", tif=FOK, reduce_only=True))

    assert fills_of(events) == []
    assert isinstance(events[-1], VenueOrderCanceled)
    assert events[-1].reason_code == ReasonCode.FOK_UNFILLED


def test_day_order_rests_through_its_acceptance_date():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("d1", BUY, LIMIT, "1", "90.0", tif=DAY))

    assert walk(engine, 23 * 60 + 59, "100.0") == []  # 23:59 the same UTC day
    assert engine.open_orders("acc")[0].client_order_id == "d1"


def test_day_order_expires_at_first_step_of_the_next_utc_date():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("d1", BUY, LIMIT, "1", "90.0", tif=DAY))
    submit(engine, request("g1", BUY, LIMIT, "1", "90.0"))

    events = walk(engine, 24 * 60 + 7, "80.0")  # next day; the price would fill it

    assert kinds(events)[0] == "VenueOrderExpired"
    assert isinstance(events[0], VenueOrderExpired)
    assert events[0].reason_code == ReasonCode.DAY_ORDER_EXPIRED
    assert events[0].ts == T0 + (24 * 60 + 7) * MINUTE
    assert [fill.client_order_id for fill in fills_of(events)] == ["g1"]
    report = engine.order_report("acc", "BTCUSDT", "d1")
    assert report is not None
    assert report.status is OrderStatus.EXPIRED


def test_liquidity_cap_fills_resting_order_partially_per_step():
    engine = make_engine(rules=CAP)
    walk(engine, 0, "100.0")
    submit(engine, request("l1", BUY, LIMIT, "1", "98.0"))

    first = fills_of(walk(engine, 1, "97.0", "99.0", "96.0", "97.5"))
    report = engine.order_report("acc", "BTCUSDT", "l1")
    later = [fills_of(walk(engine, minute, "97.0")) for minute in (2, 3, 4)]

    assert [fill.qty for fill in first] == [D("0.3")]
    assert report is not None
    assert report.status is OrderStatus.PARTIALLY_FILLED
    assert report.filled_qty == D("0.3")
    assert [[fill.qty for fill in fills] for fills in later] == [[D("0.3")], [D("0.3")], [D("0.1")]]
    final = engine.order_report("acc", "BTCUSDT", "l1")
    assert final is not None
    assert final.status is OrderStatus.FILLED


def test_liquidity_cap_does_not_limit_market_orders():
    engine = make_engine(rules=CAP)
    walk(engine, 0, "100.0")

    (fill,) = fills_of(submit(engine, request("m1", BUY, MARKET, "2")))

    assert fill.qty == D(2)
