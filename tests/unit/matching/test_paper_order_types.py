"""Market, limit, stop and stop-limit orders: when they fill, at what price, maker or taker."""

from __future__ import annotations

from tests.unit.matching.matching_support import (
    ACCOUNT,
    BTC,
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

from ordergate.domain.values import LiquiditySide, OrderStatus, OrderType, Side
from ordergate.matching import ExecutionRules

BUY, SELL = Side.BUY, Side.SELL
MARKET, LIMIT = OrderType.MARKET, OrderType.LIMIT
STOP, STOP_LIMIT = OrderType.STOP, OrderType.STOP_LIMIT
SLIP_2 = {"BTCUSDT": ExecutionRules(slippage_ticks=2)}


def test_market_buy_with_price_fills_at_once_at_ask_plus_slippage():
    engine = make_engine(rules=SLIP_2)
    engine.apply_step(step(0, quoted(("99.5", "100.0"))))

    events = submit(engine, request("m1", BUY, MARKET, "1"))

    assert kinds(events) == ["VenueOrderAccepted", "VenueFill"]
    (fill,) = fills_of(events)
    assert fill.price == D("100.2")
    assert fill.qty == D(1)
    assert fill.liquidity is LiquiditySide.TAKER
    assert fill.ts == T0


def test_market_sell_with_price_fills_at_once_at_bid_minus_slippage():
    engine = make_engine(rules=SLIP_2)
    engine.apply_step(step(0, quoted(("99.5", "100.0"))))

    (fill,) = fills_of(submit(engine, request("m1", SELL, MARKET, "1")))

    assert fill.price == D("99.3")


def test_market_order_without_slippage_fills_at_the_quote():
    engine = make_engine()
    engine.apply_step(step(0, quoted(("99.5", "100.0"))))

    (fill,) = fills_of(submit(engine, request("m1", BUY, MARKET, "1")))

    assert fill.price == D("100.0")


def test_market_order_before_any_price_rests_then_fills_at_next_point():
    engine = make_engine(rules=SLIP_2)

    assert kinds(submit(engine, request("m1", BUY, MARKET, "1"))) == ["VenueOrderAccepted"]
    events = walk(engine, 0, "101.0", "103.0", "99.0", "102.0")

    (fill,) = fills_of(events)
    assert fill.price == D("101.2")
    assert fill.liquidity is LiquiditySide.TAKER
    assert fill.ts == T0


def test_limit_buy_marketable_on_arrival_fills_at_ask_as_taker():
    engine = make_engine()
    engine.apply_step(step(0, quoted(("99.5", "100.0"))))

    (fill,) = fills_of(submit(engine, request("l1", BUY, LIMIT, "1", "101.0")))

    assert fill.price == D("100.0")
    assert fill.liquidity is LiquiditySide.TAKER


def test_limit_sell_marketable_on_arrival_fills_at_bid_without_slippage():
    engine = make_engine(rules=SLIP_2)
    engine.apply_step(step(0, quoted(("99.5", "100.0"))))

    (fill,) = fills_of(submit(engine, request("l1", SELL, LIMIT, "1", "99.0")))

    assert fill.price == D("99.5")


def test_limit_buy_touched_within_bar_fills_at_limit_as_maker():
    engine = make_engine()
    walk(engine, 0, "100.0")
    assert kinds(submit(engine, request("l1", BUY, LIMIT, "1", "98.0"))) == ["VenueOrderAccepted"]

    events = walk(engine, 1, "100.0", "101.0", "97.0", "99.0")

    (fill,) = fills_of(events)
    assert fill.price == D("98.0")
    assert fill.liquidity is LiquiditySide.MAKER
    assert fill.ts == T0 + MINUTE


def test_limit_buy_gapped_through_at_open_fills_at_its_limit():
    # A resting order is in the book: the market cannot trade past it without trading
    # with it at its price (docs/decisions/0034).
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("l1", BUY, LIMIT, "1", "98.0"))

    (fill,) = fills_of(walk(engine, 1, "96.0", "99.0", "95.0", "97.0"))

    assert fill.price == D("98.0")
    assert fill.liquidity is LiquiditySide.MAKER


def test_limit_sell_gapped_through_at_open_fills_at_its_limit():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("l1", SELL, LIMIT, "1", "102.0"))

    (fill,) = fills_of(walk(engine, 1, "104.0", "105.0", "103.0", "104.0"))

    assert (fill.price, fill.liquidity) == (D("102.0"), LiquiditySide.MAKER)


def test_prices_off_the_tick_are_snapped_to_it_before_matching_and_quoting():
    # A bar at 100.25 / 99.95 / 100.35 on a 0.1 tick (real data has such bars): no fill
    # and no quote may carry a price the instrument cannot trade at. Half to even:
    # 99.95 → 100.0 does not reach a buy at 99.9; 100.35 → 100.4.
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("l1", BUY, LIMIT, "1", "99.9"))

    events = walk(engine, 1, "100.25", "99.95", "100.35")
    submit_events = submit(engine, request("m1", BUY, MARKET, "1"))

    assert fills_of(events) == []
    assert [f.price for f in fills_of(submit_events)] == [D("100.4")]
    quote = engine.quote("BTCUSDT")
    assert quote is not None
    assert (quote.bid, quote.ask) == (D("100.4"), D("100.4"))


def test_limit_sell_touched_fills_at_limit():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("l1", SELL, LIMIT, "1", "102.0"))

    (fill,) = fills_of(walk(engine, 1, "100.0", "103.0", "99.0", "101.0"))

    assert fill.price == D("102.0")


def test_limit_not_touched_stays_open_without_events():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("l1", BUY, LIMIT, "1", "98.0"))

    assert walk(engine, 1, "100.0", "101.0", "98.1", "99.0") == []
    report = engine.order_report("acc", "BTCUSDT", "l1")
    assert report is not None
    assert report.status is OrderStatus.ACCEPTED


def test_limit_buy_with_spread_is_touched_by_the_ask_not_the_bid():
    engine = make_engine()
    engine.apply_step(step(0, quoted(("100.0", "100.5"))))
    submit(engine, request("l1", BUY, LIMIT, "1", "99.0"))

    assert engine.apply_step(step(1, quoted(("98.9", "99.4")))) == []
    (fill,) = fills_of(engine.apply_step(step(2, quoted(("98.5", "99.0")))))
    assert fill.price == D("99.0")


def test_stop_buy_triggered_within_bar_fills_at_stop_plus_slippage():
    engine = make_engine(rules={"BTCUSDT": ExecutionRules(slippage_ticks=1)})
    walk(engine, 0, "100.0")
    assert kinds(submit(engine, request("s1", BUY, STOP, "1", None, "102.0"))) == [
        "VenueOrderAccepted"
    ]

    (fill,) = fills_of(walk(engine, 1, "100.0", "103.0", "99.0", "101.0"))

    assert fill.price == D("102.1")
    assert fill.liquidity is LiquiditySide.TAKER


def test_stop_sell_gapped_through_fills_at_the_worse_open_minus_slippage():
    engine = make_engine(rules={"BTCUSDT": ExecutionRules(slippage_ticks=1)})
    walk(engine, 0, "100.0")
    submit(engine, request("s1", SELL, STOP, "1", None, "98.0"))

    (fill,) = fills_of(walk(engine, 1, "95.0", "97.0", "94.0", "96.0"))

    assert fill.price == D("94.9")


def test_stop_not_reached_stays_open():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("s1", BUY, STOP, "1", None, "102.0"))

    assert walk(engine, 1, "100.0", "101.9", "99.0", "101.0") == []


def test_stop_already_touched_on_arrival_triggers_at_once_at_current_price():
    engine = make_engine()
    walk(engine, 0, "100.0")

    events = submit(engine, request("s1", BUY, STOP, "1", None, "99.0"))

    assert kinds(events) == ["VenueOrderAccepted", "VenueFill"]
    assert fills_of(events)[0].price == D("100.0")


def test_stop_limit_triggered_and_marketable_fills_at_trigger_as_taker():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("sl1", BUY, STOP_LIMIT, "1", "102.5", "102.0"))

    (fill,) = fills_of(walk(engine, 1, "100.0", "103.0", "99.0", "101.0"))

    assert fill.price == D("102.0")
    assert fill.liquidity is LiquiditySide.TAKER


def test_stop_limit_triggered_above_limit_rests_then_fills_as_maker():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("sl1", BUY, STOP_LIMIT, "1", "101.0", "102.0"))

    (fill,) = fills_of(walk(engine, 1, "100.0", "103.0", "100.5", "101.5"))

    assert fill.price == D("101.0")
    assert fill.liquidity is LiquiditySide.MAKER


def test_stop_limit_triggered_but_never_touched_rests_as_limit():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("sl1", SELL, STOP_LIMIT, "1", "99.0", "98.0"))

    assert walk(engine, 1, "100.0", "97.0", "98.5") == []  # triggered at 98, limit 99 not reached
    (fill,) = fills_of(walk(engine, 2, "98.5", "99.5", "99.0"))
    assert fill.price == D("99.0")
    assert fill.liquidity is LiquiditySide.MAKER


def test_a_stop_says_whether_it_has_triggered_even_when_it_rests_silently():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("sl1", SELL, STOP_LIMIT, "1", "99.0", "98.0"))
    submit(engine, request("l1", SELL, LIMIT, "1", "110.0"))

    untouched = engine.has_triggered(ACCOUNT, "sl1")
    assert walk(engine, 1, "100.0", "97.0", "98.5") == []  # triggered, rests as a limit

    assert (untouched, engine.has_triggered(ACCOUNT, "sl1")) == (False, True)
    assert not engine.has_triggered(ACCOUNT, "l1")  # not a stop
    assert not engine.has_triggered(ACCOUNT, "unknown")


def test_fill_fee_is_notional_times_taker_or_maker_rate_in_quote_currency():
    engine = make_engine()
    walk(engine, 0, "100.0")

    (taker,) = fills_of(submit(engine, request("t1", BUY, MARKET, "2")))
    submit(engine, request("m1", SELL, LIMIT, "2", "110.0"))
    (maker,) = fills_of(walk(engine, 1, "100.0", "111.0"))

    assert taker.fee == D("200.0") * BTC.taker_fee_rate
    assert taker.fee_currency == "USDT"
    assert maker.fee == D("220.0") * BTC.maker_fee_rate
    assert maker.liquidity is LiquiditySide.MAKER


def test_resting_orders_touched_at_one_point_fill_in_arrival_order():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("b", BUY, LIMIT, "1", "97.0"))
    submit(engine, request("a", BUY, LIMIT, "1", "98.0"))

    events = walk(engine, 1, "100.0", "96.0")

    assert [fill.client_order_id for fill in fills_of(events)] == ["b", "a"]
    assert [fill.price for fill in fills_of(events)] == [D("97.0"), D("98.0")]
