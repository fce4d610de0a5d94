"""Bybit's parameters read into orders, and the terms refused before matching."""

from __future__ import annotations

import pytest
from bybit_sim_builders import D

from ordergate.domain.values import OrderType, Side
from ordergate.simulators.bybit.admission import parse_amendment, parse_new_order
from ordergate.simulators.bybit.config import BTCUSDT, ETHUSDT
from ordergate.simulators.bybit.errors import BybitError, RetCode
from ordergate.simulators.bybit.params import Params
from ordergate.simulators.bybit.records import TimeInForce, Trigger, TriggerBy, TriggerDirection

SPECS = {"BTCUSDT": BTCUSDT, "ETHUSDT": ETHUSDT}
LIMIT = {
    "category": "linear",
    "symbol": "BTCUSDT",
    "side": "Buy",
    "orderType": "Limit",
    "qty": "0.010",
    "price": "50000.5",
}
STOP = {**LIMIT, "orderType": "Market", "triggerPrice": "51000", "triggerDirection": 1}


def test_limit_order_reads_every_term():
    order = parse_new_order(
        Params({**LIMIT, "orderLinkId": "a-1", "reduceOnly": True, "timeInForce": "PostOnly"}),
        SPECS,
    )

    assert (order.symbol, order.side, order.order_type) == ("BTCUSDT", Side.BUY, OrderType.LIMIT)
    assert (order.qty, order.price) == (D("0.01"), D("50000.5"))
    assert (order.order_link_id, order.reduce_only) == ("a-1", True)
    assert order.time_in_force is TimeInForce.POST_ONLY


def test_market_order_works_as_ioc_and_ignores_a_price():
    order = parse_new_order(Params({**LIMIT, "orderType": "Market", "timeInForce": "GTC"}), SPECS)

    assert (order.price, order.time_in_force) == (None, TimeInForce.IOC)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"category": "spot"}, RetCode.PARAMS_ERROR),
        ({"symbol": "DOGEUSDT"}, RetCode.PARAMS_ERROR),
        ({"side": "buy"}, RetCode.PARAMS_ERROR),
        ({"orderType": "Stop"}, RetCode.PARAMS_ERROR),
        ({"qty": "0.0105"}, RetCode.PARAMS_ERROR),
        ({"qty": "0.0001"}, RetCode.PARAMS_ERROR),
        ({"qty": "1190.001"}, RetCode.PARAMS_ERROR),
        ({"qty": "-1"}, RetCode.PARAMS_ERROR),
        ({"price": "50000.05"}, RetCode.PARAMS_ERROR),
        ({"price": "2000000"}, RetCode.PRICE_OUT_OF_RANGE),
        ({"price": None}, RetCode.PARAMS_ERROR),
        ({"timeInForce": "GTD"}, RetCode.PARAMS_ERROR),
        ({"orderLinkId": "x" * 37}, RetCode.PARAMS_ERROR),
        ({"orderLinkId": "no spaces"}, RetCode.PARAMS_ERROR),
        ({"triggerPrice": "51000"}, RetCode.PARAMS_ERROR),
        ({"positionIdx": 1}, RetCode.PARAMS_ERROR),
        ({"reduceOnly": "yes"}, RetCode.PARAMS_ERROR),
    ],
)
def test_bad_terms_are_refused_with_bybit_codes(change, code):
    params = {key: value for key, value in {**LIMIT, **change}.items() if value is not None}

    with pytest.raises(BybitError) as refused:
        parse_new_order(Params(params), SPECS)

    assert refused.value.code is code


def test_conditional_order_reads_its_trigger_and_a_market_one_keeps_its_time_in_force():
    stop = parse_new_order(Params(STOP), SPECS)
    sell_limit = {"side": "Sell", "orderType": "Limit", "triggerDirection": "2"}
    stop_limit = parse_new_order(
        Params({**STOP, **sell_limit, "triggerBy": "MarkPrice", "timeInForce": "IOC"}), SPECS
    )

    assert (stop.order_type, stop.price, stop.time_in_force) == (
        OrderType.MARKET,
        None,
        TimeInForce.GTC,
    )
    assert stop.trigger == Trigger(D(51000), TriggerDirection.RISE, TriggerBy.LAST_PRICE)
    assert (stop_limit.price, stop_limit.time_in_force) == (D("50000.5"), TimeInForce.IOC)
    assert stop_limit.trigger == Trigger(D(51000), TriggerDirection.FALL, TriggerBy.MARK_PRICE)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"triggerDirection": None}, RetCode.PARAMS_ERROR),
        ({"triggerDirection": 3}, RetCode.PARAMS_ERROR),
        ({"triggerDirection": 2}, RetCode.PARAMS_ERROR),  # a Buy falling: not simulated
        ({"triggerBy": "BestPrice"}, RetCode.PARAMS_ERROR),
        ({"orderType": "Limit", "timeInForce": "PostOnly"}, RetCode.PARAMS_ERROR),
        ({"triggerPrice": "51000.05"}, RetCode.PARAMS_ERROR),
        ({"triggerPrice": "0"}, RetCode.PARAMS_ERROR),
        ({"triggerPrice": "2000000"}, RetCode.PRICE_OUT_OF_RANGE),
        ({"takeProfit": "60000"}, RetCode.PARAMS_ERROR),
    ],
)
def test_bad_conditional_terms_are_refused(change, code):
    params = {key: value for key, value in {**STOP, **change}.items() if value is not None}

    with pytest.raises(BybitError) as refused:
        parse_new_order(Params(params), SPECS)

    assert refused.value.code is code


def test_amendment_may_move_a_trigger():
    base = {"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "a"}

    amendment = parse_amendment(
        Params({**base, "triggerPrice": "51000", "triggerBy": "LastPrice"}), SPECS
    )
    with pytest.raises(BybitError) as off_tick:
        parse_amendment(Params({**base, "triggerPrice": "51000.01"}), SPECS)

    assert (amendment.qty, amendment.price, amendment.trigger_price, amendment.trigger_by) == (
        None,
        None,
        D(51000),
        TriggerBy.LAST_PRICE,
    )
    assert off_tick.value.code is RetCode.PARAMS_ERROR


def test_market_order_above_the_market_quantity_limit_is_refused():
    params = {**LIMIT, "orderType": "Market", "qty": "119.001"}

    with pytest.raises(BybitError, match="maximum"):
        parse_new_order(Params(params), SPECS)


def test_amendment_needs_an_order_and_a_change():
    base = {"category": "linear", "symbol": "BTCUSDT"}

    for params in ({**base, "qty": "0.02"}, {**base, "orderId": "x"}):
        with pytest.raises(BybitError):
            parse_amendment(Params(params), SPECS)
    amendment = parse_amendment(Params({**base, "orderLinkId": "a", "price": "49000"}), SPECS)

    assert (amendment.ref.order_link_id, amendment.qty, amendment.price) == ("a", None, D(49000))
