"""Binance spot and USDⓈ-M futures through real ccxt: requests made, payloads read back.

The payloads are written from Binance's public API documentation (new order, query
order, algo order, account trade list).
"""

from __future__ import annotations

import pytest
from ccxt_support import COID, D, offline, request

from ordergate.domain.errors import AmbiguousVenueError, RejectedByVenue
from ordergate.domain.limits import Rate
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.retry import RetryPolicy
from ordergate.venues.ccxt.budget import RequestBudget
from ordergate.venues.ccxt.dialects import OrderRef
from ordergate.venues.ccxt.dialects.binance import FUTURES_ORDER_TYPES, SPOT_ORDER_TYPES
from ordergate.venues.ccxt.errors import UnmappedVenueValue, UnsupportedByVenue
from ordergate.venues.ccxt.gateway import Gateway

FUTURES_ORDER = {
    "avgPrice": "30000.50",
    "clientOrderId": COID,
    "cumQuote": "120.002",
    "executedQty": "0.004",
    "orderId": 1917641,
    "origQty": "0.010",
    "origType": "LIMIT",
    "price": "30000.50",
    "reduceOnly": False,
    "side": "BUY",
    "positionSide": "BOTH",
    "status": "PARTIALLY_FILLED",
    "stopPrice": "0",
    "closePosition": False,
    "symbol": "BTCUSDT",
    "time": 1700000000000,
    "timeInForce": "GTC",
    "type": "LIMIT",
    "updateTime": 1700000001000,
    "workingType": "CONTRACT_PRICE",
    "priceProtect": False,
}
ALGO_ORDER = {
    "algoId": 2146760,
    "clientAlgoId": COID,
    "algoType": "CONDITIONAL",
    "orderType": "STOP_MARKET",
    "symbol": "BTCUSDT",
    "side": "SELL",
    "positionSide": "BOTH",
    "timeInForce": "GTC",
    "quantity": "0.010",
    "algoStatus": "NEW",
    "triggerPrice": "29000.50",
    "price": "0",
    "reduceOnly": True,
    "createTime": 1700000000000,
    "updateTime": 1700000000000,
}
FUTURES_TRADE = {
    "buyer": False,
    "commission": "0.07819010",
    "commissionAsset": "USDT",
    "id": 698759,
    "maker": False,
    "orderId": 1917641,
    "price": "30000.50",
    "qty": "0.004",
    "quoteQty": "120.002",
    "realizedPnl": "0",
    "side": "SELL",
    "positionSide": "BOTH",
    "symbol": "BTCUSDT",
    "time": 1700000001000,
}
SPOT_TRADE_IN_BNB = {
    "symbol": "BTCUSDT",
    "id": 28457,
    "orderId": 100234,
    "orderListId": -1,
    "price": "30000.01",
    "qty": "0.00100",
    "quoteQty": "30.00001",
    "commission": "0.00004312",
    "commissionAsset": "BNB",
    "time": 1700000002000,
    "isBuyer": True,
    "isMaker": True,
    "isBestMatch": True,
}
NOT_FOUND = {"code": -2013, "msg": "Order does not exist."}


@pytest.fixture
async def futures():
    async with offline("binance", "swap", ("BTCUSDT",)) as venue:
        venue.transport.answer("POST", "/fapi/v1/order", FUTURES_ORDER)
        venue.transport.answer("POST", "/fapi/v1/algoOrder", ALGO_ORDER)
        yield venue


@pytest.fixture
async def spot():
    async with offline("binance", "spot", ("BTCUSDT",)) as venue:
        venue.transport.answer(
            "POST", "/api/v3/order", {**FUTURES_ORDER, "status": "NEW", "executedQty": "0"}
        )
        yield venue


def gateway_of(venue) -> Gateway:
    return Gateway(venue.exchange, RequestBudget(Rate(D(1000), 1000)), RetryPolicy(base_delay=0))


async def sent(venue, order_request) -> dict[str, str]:
    entry = venue.markets.entry(order_request.symbol)
    call = venue.dialect.order_call(venue.exchange, order_request, entry)
    await venue.exchange.create_order(
        entry.ccxt_symbol, call.type, call.side, call.amount, call.price, call.params
    )
    return venue.transport.sent[-1].params


# --- requests ---------------------------------------------------------------------------


async def test_futures_limit_sends_new_client_order_id(futures):
    params = await sent(futures, request(qty="0.010", price="30000.5", tif=TimeInForce.IOC))

    assert futures.transport.sent[-1].path == "/fapi/v1/order"
    assert params["newClientOrderId"] == COID
    assert (params["type"], params["side"], params["timeInForce"]) == ("LIMIT", "BUY", "IOC")
    assert (D(params["quantity"]), D(params["price"])) == (D("0.010"), D("30000.5"))


async def test_futures_market_sends_neither_price_nor_time_in_force(futures):
    params = await sent(futures, request(OrderType.MARKET, price=None, tif=TimeInForce.IOC))

    assert params["type"] == "MARKET"
    assert "price" not in params
    assert "timeInForce" not in params


async def test_futures_stop_goes_to_the_algo_api_with_its_client_algo_id(futures):
    order = request(OrderType.STOP, Side.SELL, price=None, stop_price="29000.5", reduce_only=True)

    params = await sent(futures, order)

    assert futures.transport.sent[-1].path == "/fapi/v1/algoOrder"
    assert (params["clientAlgoId"], params["type"], params["algoType"]) == (
        COID,
        "STOP_MARKET",
        "CONDITIONAL",
    )
    assert (D(params["triggerPrice"]), params["reduceOnly"]) == (D("29000.5"), "true")
    assert "price" not in params


async def test_futures_stop_limit_is_binance_stop_with_price_and_trigger(futures):
    params = await sent(futures, request(OrderType.STOP_LIMIT, price="31010", stop_price="31000"))

    assert params["type"] == "STOP"
    assert (D(params["price"]), D(params["triggerPrice"]), params["timeInForce"]) == (
        D("31010"),
        D("31000"),
        "GTC",
    )


async def test_spot_stop_limit_is_stop_loss_limit_with_stop_price(spot):
    params = await sent(spot, request(OrderType.STOP_LIMIT, price="31010", stop_price="31000"))

    assert spot.transport.sent[-1].path == "/api/v3/order"
    assert (params["newClientOrderId"], params["type"]) == (COID, "STOP_LOSS_LIMIT")
    assert (D(params["price"]), D(params["stopPrice"])) == (D("31010"), D("31000"))


async def test_spot_market_buy_is_a_base_quantity_not_a_quote_one(spot):
    params = await sent(spot, request(OrderType.MARKET, qty="0.00150", price=None))

    assert (params["type"], D(params["quantity"])) == ("MARKET", D("0.0015"))
    assert "quoteOrderQty" not in params


async def test_lookup_by_client_order_id_tries_plain_then_algo_orders(futures):
    futures.transport.answer("GET", "/fapi/v1/order", NOT_FOUND, status=400)
    futures.transport.answer("GET", "/fapi/v1/algoOrder", ALGO_ORDER)

    found = await futures.dialect.find_order(
        gateway_of(futures), futures.markets.entry("BTCUSDT"), OrderRef(COID, None)
    )

    assert found is not None
    assert found["clientOrderId"] == COID
    assert futures.transport.last("/fapi/v1/order").params["origClientOrderId"] == COID
    assert futures.transport.last("/fapi/v1/algoOrder").params["clientAlgoId"] == COID
    report = futures.translator.order(found)
    assert report is not None
    assert (report.type, report.side, report.stop_price) == (
        OrderType.STOP,
        Side.SELL,
        D("29000.50"),
    )


async def test_lookup_of_an_unknown_order_answers_none(futures):
    futures.transport.answer("GET", "/fapi/v1/order", NOT_FOUND, status=400)
    futures.transport.answer("GET", "/fapi/v1/algoOrder", NOT_FOUND, status=400)

    found = await futures.dialect.find_order(
        gateway_of(futures), futures.markets.entry("BTCUSDT"), OrderRef(COID, None)
    )

    assert found is None


async def test_cancel_names_the_order_by_orig_client_order_id(futures):
    futures.transport.answer("DELETE", "/fapi/v1/order", {**FUTURES_ORDER, "status": "CANCELED"})

    await futures.dialect.cancel(
        gateway_of(futures), futures.markets.entry("BTCUSDT"), OrderRef(COID, None)
    )

    params = futures.transport.last("/fapi/v1/order").params
    assert params["origClientOrderId"] == COID
    assert "orderId" not in params


async def test_futures_limit_is_amended_in_place_by_client_order_id(futures):
    futures.transport.answer("PUT", "/fapi/v1/order", FUTURES_ORDER)

    await futures.dialect.amend(
        gateway_of(futures),
        futures.markets.entry("BTCUSDT"),
        OrderRef(COID, None),
        OrderType.LIMIT,
        Side.BUY,
        D("0.020"),
        D("29990.1"),
        None,
    )

    params = futures.transport.last("/fapi/v1/order").params
    assert params["origClientOrderId"] == COID
    assert (D(params["quantity"]), D(params["price"]), params["side"]) == (
        D("0.020"),
        D("29990.1"),
        "BUY",
    )


async def test_replace_is_refused_where_binance_would_make_a_new_order(spot, futures):
    for venue, order_type in ((spot, OrderType.LIMIT), (futures, OrderType.STOP)):
        with pytest.raises(UnsupportedByVenue) as refused:
            await venue.dialect.amend(
                gateway_of(venue),
                venue.markets.entry("BTCUSDT"),
                OrderRef(COID, None),
                order_type,
                Side.BUY,
                D("0.020"),
                None,
                D("29990.1"),
            )
        assert refused.value.code == ReasonCode.ORDER_NOT_REPLACEABLE


@pytest.mark.parametrize(
    ("market_type", "path", "answer"),
    [
        ("swap", "/fapi/v1/order", {"code": -4116, "msg": "ClientOrderId is duplicated."}),
        ("spot", "/api/v3/order", {"code": -2010, "msg": "Duplicate order sent."}),
    ],
)
async def test_a_duplicate_client_order_id_is_ambiguous(market_type, path, answer):
    async with offline("binance", market_type, ("BTCUSDT",)) as venue:
        venue.transport.answer("POST", path, answer, status=400)
        entry = venue.markets.entry("BTCUSDT")
        call = venue.dialect.order_call(venue.exchange, request(), entry)

        with pytest.raises(AmbiguousVenueError):
            await gateway_of(venue).write(
                "create",
                lambda: venue.exchange.create_order(
                    entry.ccxt_symbol, call.type, call.side, call.amount, call.price, call.params
                ),
            )


async def test_insufficient_margin_is_refused_for_good(futures):
    futures.transport.answer(
        "POST", "/fapi/v1/order", {"code": -2019, "msg": "Margin is insufficient."}, status=400
    )
    entry = futures.markets.entry("BTCUSDT")
    call = futures.dialect.order_call(futures.exchange, request(), entry)

    with pytest.raises(RejectedByVenue) as refused:
        await gateway_of(futures).write(
            "create",
            lambda: futures.exchange.create_order(
                entry.ccxt_symbol, call.type, call.side, call.amount, call.price, call.params
            ),
        )

    assert refused.value.code == ReasonCode.VENUE_INSUFFICIENT_MARGIN


# --- payloads read back ---------------------------------------------------------------------


async def test_a_partially_filled_futures_limit_reads_as_such(futures):
    report = futures.translator.order(futures.exchange.parse_order(FUTURES_ORDER))

    assert report is not None
    assert (report.client_order_id, report.venue_order_id) == (COID, "1917641")
    assert (report.type, report.status, report.qty, report.filled_qty, report.price) == (
        OrderType.LIMIT,
        OrderStatus.PARTIALLY_FILLED,
        D("0.010"),
        D("0.004"),
        D("30000.50"),
    )
    assert report.ts == 1700000001000 * 1_000_000


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("NEW", OrderStatus.ACCEPTED),
        ("FILLED", OrderStatus.FILLED),
        ("CANCELED", OrderStatus.CANCELED),
        ("EXPIRED", OrderStatus.EXPIRED),
        ("REJECTED", OrderStatus.CANCELED),  # it had filled 0.004: it stopped working
    ],
)
async def test_futures_statuses_read_as_ordergate_statuses(futures, status, expected):
    executed = {"NEW": "0", "FILLED": "0.010"}.get(status, FUTURES_ORDER["executedQty"])
    order = futures.exchange.parse_order(
        {**FUTURES_ORDER, "status": status, "executedQty": executed}
    )

    report = futures.translator.order(order)

    assert report is not None
    assert report.status is expected


async def test_take_profit_orders_are_not_ordergate_types(futures):
    order = futures.exchange.parse_order({**FUTURES_ORDER, "type": "TAKE_PROFIT_MARKET"})

    with pytest.raises(UnmappedVenueValue):
        futures.translator.order(order)


async def test_futures_trade_reads_as_a_fill(futures):
    trade = futures.exchange.parse_trade(FUTURES_TRADE)

    fill = futures.translator.fill(trade, COID)

    assert futures.dialect.trade_client_order_id(trade) is None  # userTrades carry none
    assert fill is not None
    assert (fill.trade_id, fill.side, fill.qty, fill.price) == (
        "698759",
        Side.SELL,
        D("0.004"),
        D("30000.50"),
    )
    assert (fill.fee, fill.fee_currency, fill.liquidity) == (
        D("0.07819010"),
        "USDT",
        LiquiditySide.TAKER,
    )


async def test_a_spot_fee_paid_in_bnb_stays_in_bnb(spot):
    fill = spot.translator.fill(spot.exchange.parse_trade(SPOT_TRADE_IN_BNB), COID)

    assert fill is not None
    assert (fill.fee, fill.fee_currency) == (D("0.00004312"), "BNB")
    assert (fill.qty, fill.liquidity) == (D("0.00100"), LiquiditySide.MAKER)


async def test_spot_grid_comes_from_the_filters(spot, futures):
    spot_btc = spot.markets.entry("BTCUSDT").instrument
    futures_btc = futures.markets.entry("BTCUSDT").instrument

    assert (spot_btc.tick_size, spot_btc.lot_step, spot_btc.min_notional) == (
        D("0.01"),
        D("0.00001"),
        D("5"),
    )
    assert (futures_btc.tick_size, futures_btc.lot_step, futures_btc.min_notional) == (
        D("0.10"),
        D("0.001"),
        D("100"),
    )
    assert spot.markets.entry("BTCUSDT").ccxt_symbol == "BTC/USDT"
    assert futures.markets.entry("BTCUSDT").ccxt_symbol == "BTC/USDT:USDT"


TERMS = {
    OrderType.MARKET: {"price": None},
    OrderType.LIMIT: {},
    OrderType.STOP: {"price": None, "stop_price": "29000.5"},
    OrderType.STOP_LIMIT: {"stop_price": "29000.5"},
}


@pytest.mark.parametrize("order_type", list(OrderType))
async def test_each_order_type_goes_out_in_the_spelling_it_is_read_back_from(
    spot, futures, order_type
):
    for venue, types in ((spot, SPOT_ORDER_TYPES), (futures, FUTURES_ORDER_TYPES)):
        params = await sent(venue, request(order_type, **TERMS[order_type]))

        assert types.from_venue(params["type"]) is order_type
