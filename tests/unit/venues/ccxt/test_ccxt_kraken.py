"""Kraken spot through real ccxt: requests made, payloads read back.

The payloads are written from Kraken's public REST documentation (AddOrder, OpenOrders,
ClosedOrders, TradesHistory).
"""

from __future__ import annotations

import pytest
from ccxt_support import COID, D, offline, request

from ordergate.domain.errors import RejectedByVenue
from ordergate.domain.limits import Rate
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.retry import RetryPolicy
from ordergate.venues.ccxt.budget import RequestBudget
from ordergate.venues.ccxt.dialects import OrderRef
from ordergate.venues.ccxt.dialects.kraken import KRAKEN_ORDER_TYPES
from ordergate.venues.ccxt.errors import UnmappedVenueValue, UnsupportedByVenue
from ordergate.venues.ccxt.gateway import Gateway

SYMBOL = "XXBTZUSD"
ADDED = {
    "error": [],
    "result": {
        "descr": {"order": "buy 0.01 XBTUSD @ limit 30000.5"},
        "txid": ["OQCLML-BW3P3-BUCMWZ"],
    },
}
OPEN_ORDER = {
    "refid": None,
    "userref": 0,
    "cl_ord_id": COID,
    "status": "open",
    "opentm": 1688666559.8974,
    "starttm": 0,
    "expiretm": 0,
    "descr": {
        "pair": "XBTUSD",
        "type": "buy",
        "ordertype": "limit",
        "price": "30010.0",
        "price2": "0",
        "leverage": "none",
        "order": "buy 1.25000000 XBTUSD @ limit 30010.0",
        "close": "",
    },
    "vol": "1.25000000",
    "vol_exec": "0.37500000",
    "cost": "11253.7",
    "fee": "0.00000",
    "price": "30010.0",
    "stopprice": "0.00000",
    "limitprice": "0.00000",
    "misc": "",
    "oflags": "fciq",
    "trades": ["TCCCTY-WE2O6-P3NB37"],
}
STOP_LIMIT_ORDER = {
    **OPEN_ORDER,
    "status": "canceled",
    "vol_exec": "0.00000000",
    "closetm": 1688666600.1,
    "reason": "User requested",
    "descr": {
        "pair": "XBTUSD",
        "type": "sell",
        "ordertype": "stop-loss-limit",
        "price": "29000.0",
        "price2": "28990.0",
        "leverage": "none",
        "order": "sell 1.25000000 XBTUSD @ stop loss 29000.0 -> limit 28990.0",
        "close": "",
    },
}
TRADE = {
    "ordertxid": "OQCLML-BW3P3-BUCMWZ",
    "postxid": "TKH2SE-M7IF5-CFI7LT",
    "pair": "XXBTZUSD",
    "time": 1688667796.8802,
    "type": "buy",
    "ordertype": "limit",
    "price": "30010.00000",
    "cost": "600.20000",
    "fee": "0.96032",
    "vol": "0.02000000",
    "margin": "0.00000",
    "misc": "",
    "trade_id": 40274859,
    "maker": True,
}


@pytest.fixture
async def kraken():
    async with offline("kraken", "spot", (SYMBOL,)) as venue:
        venue.transport.answer("POST", "/0/private/AddOrder", ADDED)
        yield venue


def gateway_of(venue) -> Gateway:
    return Gateway(venue.exchange, RequestBudget(Rate(D(1000), 1000)), RetryPolicy(base_delay=0))


async def sent(venue, order_request) -> dict[str, str]:
    entry = venue.markets.entry(order_request.symbol)
    call = venue.dialect.order_call(venue.exchange, order_request, entry)
    await venue.exchange.create_order(
        entry.ccxt_symbol, call.type, call.side, call.amount, call.price, call.params
    )
    return venue.transport.last("/0/private/AddOrder").params


async def test_limit_sends_the_client_order_id_as_cl_ord_id(kraken):
    params = await sent(kraken, request(price="30000.5", symbol=SYMBOL, tif=TimeInForce.IOC))

    assert params["cl_ord_id"] == COID
    assert "userref" not in params
    assert (params["pair"], params["type"], params["ordertype"], params["timeinforce"]) == (
        SYMBOL,
        "buy",
        "limit",
        "IOC",
    )
    assert (D(params["volume"]), D(params["price"])) == (D("0.010"), D("30000.5"))


async def test_stop_is_stop_loss_with_the_trigger_as_price(kraken):
    order = request(OrderType.STOP, Side.SELL, price=None, stop_price="29000.5", symbol=SYMBOL)

    params = await sent(kraken, order)

    assert (params["ordertype"], D(params["price"])) == ("stop-loss", D("29000.5"))
    assert "price2" not in params
    assert "timeinforce" not in params


async def test_stop_limit_is_stop_loss_limit_with_the_limit_as_price2(kraken):
    order = request(OrderType.STOP_LIMIT, price="31010", stop_price="31000", symbol=SYMBOL)

    params = await sent(kraken, order)

    assert (params["ordertype"], D(params["price"]), D(params["price2"])) == (
        "stop-loss-limit",
        D("31000"),
        D("31010"),
    )


async def test_fill_or_kill_is_refused_before_anything_is_sent(kraken):
    with pytest.raises(UnsupportedByVenue):
        await sent(kraken, request(tif=TimeInForce.FOK, symbol=SYMBOL))

    assert kraken.transport.to("/0/private/AddOrder") == []


async def test_cancel_names_the_order_by_cl_ord_id_only(kraken):
    kraken.transport.answer("POST", "/0/private/CancelOrder", {"error": [], "result": {"count": 1}})

    await kraken.dialect.cancel(
        gateway_of(kraken), kraken.markets.entry(SYMBOL), OrderRef(COID, None)
    )

    params = kraken.transport.last("/0/private/CancelOrder").params
    assert params["cl_ord_id"] == COID
    assert "txid" not in params


async def test_amend_keeps_the_order_and_sends_the_new_terms(kraken):
    kraken.transport.answer(
        "POST",
        "/0/private/AmendOrder",
        {"error": [], "result": {"amend_id": "TJSMEH-AA67V-YUSQ6O"}},
    )

    await kraken.dialect.amend(
        gateway_of(kraken),
        kraken.markets.entry(SYMBOL),
        OrderRef(COID, None),
        OrderType.STOP_LIMIT,
        Side.SELL,
        D("0.5"),
        D("28990"),
        D("29000"),
    )

    params = kraken.transport.last("/0/private/AmendOrder").params
    assert params["cl_ord_id"] == COID
    assert "txid" not in params
    assert (D(params["order_qty"]), D(params["limit_price"]), D(params["trigger_price"])) == (
        D("0.5"),
        D("28990"),
        D("29000"),
    )


async def test_lookup_goes_through_open_then_closed_orders_by_cl_ord_id(kraken):
    kraken.transport.answer("POST", "/0/private/OpenOrders", {"error": [], "result": {"open": {}}})
    kraken.transport.answer(
        "POST",
        "/0/private/ClosedOrders",
        {"error": [], "result": {"closed": {"OQCLML-BW3P3-BUCMWZ": STOP_LIMIT_ORDER}, "count": 1}},
    )

    found = await kraken.dialect.find_order(
        gateway_of(kraken), kraken.markets.entry(SYMBOL), OrderRef(COID, None)
    )

    assert kraken.transport.last("/0/private/OpenOrders").params["cl_ord_id"] == COID
    assert kraken.transport.last("/0/private/ClosedOrders").params["cl_ord_id"] == COID
    assert found is not None
    report = kraken.translator.order(found)
    assert report is not None
    assert (report.type, report.status, report.side) == (
        OrderType.STOP_LIMIT,
        OrderStatus.CANCELED,
        Side.SELL,
    )
    assert (report.price, report.stop_price, report.venue_order_id) == (
        D("28990.0"),
        D("29000.0"),
        "OQCLML-BW3P3-BUCMWZ",
    )


async def test_an_open_partially_filled_limit_reads_as_such(kraken):
    order = kraken.exchange.parse_order({**OPEN_ORDER, "id": "OQCLML-BW3P3-BUCMWZ"})

    report = kraken.translator.order(order)

    assert report is not None
    assert (report.client_order_id, report.status, report.type) == (
        COID,
        OrderStatus.PARTIALLY_FILLED,
        OrderType.LIMIT,
    )
    assert (report.qty, report.filled_qty, report.price) == (
        D("1.25000000"),
        D("0.37500000"),
        D("30010.0"),
    )


async def test_take_profit_is_not_an_ordergate_type(kraken):
    descr = {**OPEN_ORDER["descr"], "ordertype": "take-profit"}
    order = kraken.exchange.parse_order({**OPEN_ORDER, "id": "O-1", "descr": descr})

    with pytest.raises(UnmappedVenueValue):
        kraken.translator.order(order)


async def test_a_trade_reads_as_a_fill_with_its_fee_in_quote(kraken):
    trade = kraken.exchange.parse_trade({**TRADE, "id": "THVRQM-33VKH-UCI7BS"})

    fill = kraken.translator.fill(trade, COID)

    assert kraken.dialect.trade_client_order_id(trade) is None
    assert fill is not None
    assert (fill.symbol, fill.trade_id, fill.side, fill.liquidity) == (
        SYMBOL,
        "THVRQM-33VKH-UCI7BS",
        Side.BUY,
        LiquiditySide.MAKER,
    )
    assert (fill.qty, fill.price, fill.fee, fill.fee_currency) == (
        D("0.02000000"),
        D("30010.00000"),
        D("0.96032"),
        "USD",
    )


async def test_grid_comes_from_the_asset_pair(kraken):
    entry = kraken.markets.entry(SYMBOL)

    assert (entry.ccxt_symbol, entry.contract, entry.settle) == ("BTC/USD", False, None)
    instrument = entry.instrument
    assert (instrument.tick_size, instrument.lot_step, instrument.min_qty) == (
        D("0.1"),
        D("0.00000001"),
        D("0.00005"),
    )
    assert (instrument.base_currency, instrument.quote_currency, instrument.min_notional) == (
        "BTC",
        "USD",
        D("0.5"),
    )


async def test_unknown_order_on_cancel_is_refused_as_not_found(kraken):
    kraken.transport.answer(
        "POST", "/0/private/CancelOrder", {"error": ["EOrder:Unknown order"], "result": {}}
    )

    with pytest.raises(RejectedByVenue) as refused:
        await kraken.dialect.cancel(
            gateway_of(kraken), kraken.markets.entry(SYMBOL), OrderRef(COID, None)
        )

    assert refused.value.code == ReasonCode.VENUE_ORDER_NOT_FOUND


TERMS = {
    OrderType.MARKET: {"price": None},
    OrderType.LIMIT: {},
    OrderType.STOP: {"price": None, "stop_price": "29000.5"},
    OrderType.STOP_LIMIT: {"stop_price": "29000.5"},
}


@pytest.mark.parametrize("order_type", list(OrderType))
async def test_each_order_type_goes_out_in_the_spelling_it_is_read_back_from(kraken, order_type):
    params = await sent(kraken, request(order_type, symbol=SYMBOL, **TERMS[order_type]))

    assert KRAKEN_ORDER_TYPES.from_venue(params["ordertype"]) is order_type
