"""Bybit v5 through real ccxt: the requests the adapter makes, and recorded payloads read back."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ccxt_support import COID, D, offline, recorded, request

from ordergate.domain.errors import AmbiguousVenueError, RejectedByVenue, RetryableVenueError
from ordergate.domain.limits import Rate
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.retry import RetryPolicy
from ordergate.venues.ccxt.budget import RequestBudget
from ordergate.venues.ccxt.dialects import OrderRef
from ordergate.venues.ccxt.dialects.bybit import BYBIT_ORDER_TYPES
from ordergate.venues.ccxt.errors import UnmappedVenueValue, UnsupportedByVenue
from ordergate.venues.ccxt.gateway import Gateway

SYMBOL = "BTC/USDT:USDT"
CREATED = {"retCode": 0, "retMsg": "OK", "result": {"orderId": "v-1", "orderLinkId": COID}}
EMPTY_LIST = {"retCode": 0, "retMsg": "OK", "result": {"list": [], "nextPageCursor": ""}}


@pytest.fixture
async def bybit():
    async with offline("bybit", "swap", ("BTCUSDT", "ETHUSDT")) as venue:
        venue.transport.answer("POST", "/v5/order/create", CREATED)
        yield venue


def gateway_of(venue) -> Gateway:
    return Gateway(venue.exchange, RequestBudget(Rate(D(1000), 1000)), RetryPolicy(base_delay=0))


async def created(venue, order_request) -> dict:
    entry = venue.markets.entry(order_request.symbol)
    call = venue.dialect.order_call(venue.exchange, order_request, entry)
    await venue.exchange.create_order(
        entry.ccxt_symbol, call.type, call.side, call.amount, call.price, call.params
    )
    return venue.transport.last("/v5/order/create").json()


# --- requests ---------------------------------------------------------------------------


async def test_limit_order_sends_the_client_order_id_as_order_link_id(bybit):
    body = await created(bybit, request(qty="0.010", price="30000.5"))

    assert body["orderLinkId"] == COID
    assert "clientOrderId" not in body
    assert (body["side"], body["orderType"], body["timeInForce"]) == ("Buy", "Limit", "GTC")
    assert (D(body["qty"]), D(body["price"])) == (D("0.010"), D("30000.5"))
    assert body["category"] == "linear"
    assert "reduceOnly" not in body
    assert "triggerPrice" not in body


async def test_market_order_sends_no_price_and_no_time_in_force(bybit):
    body = await created(bybit, request(OrderType.MARKET, price=None, tif=TimeInForce.IOC))

    assert (body["orderType"], body["side"]) == ("Market", "Buy")
    assert "price" not in body
    assert "timeInForce" not in body


async def test_stop_sell_triggers_descending_with_reduce_only(bybit):
    order = request(OrderType.STOP, Side.SELL, price=None, stop_price="29000.5", reduce_only=True)

    body = await created(bybit, order)

    assert (body["orderType"], body["side"]) == ("Market", "Sell")
    assert (D(body["triggerPrice"]), body["triggerDirection"]) == (D("29000.5"), 2)
    assert body["reduceOnly"] is True


async def test_stop_limit_buy_triggers_ascending_with_its_limit(bybit):
    order = request(OrderType.STOP_LIMIT, price="31010", stop_price="31000", tif=TimeInForce.IOC)

    body = await created(bybit, order)

    assert (body["orderType"], body["timeInForce"]) == ("Limit", "IOC")
    assert (D(body["price"]), D(body["triggerPrice"]), body["triggerDirection"]) == (
        D("31010"),
        D("31000"),
        1,
    )


async def test_fill_or_kill_is_sent_as_such(bybit):
    body = await created(bybit, request(tif=TimeInForce.FOK))

    assert body["timeInForce"] == "FOK"


async def test_day_orders_are_refused_before_anything_is_sent(bybit):
    with pytest.raises(UnsupportedByVenue):
        await created(bybit, request(tif=TimeInForce.DAY))

    assert bybit.transport.to("/v5/order/create") == []


@pytest.mark.parametrize(
    ("qty", "price", "code"),
    [
        ("0.0105", "30000.5", ReasonCode.QTY_NOT_ON_STEP),
        ("0.010", "30000.3", ReasonCode.PRICE_NOT_ON_TICK),
    ],
)
async def test_terms_off_the_grid_are_refused_instead_of_rounded(bybit, qty, price, code):
    with pytest.raises(RejectedByVenue) as refused:
        await created(bybit, request(qty=qty, price=price))

    assert refused.value.code == code


async def test_cancel_names_the_order_by_order_link_id(bybit):
    bybit.transport.answer("POST", "/v5/order/cancel", CREATED)
    entry = bybit.markets.entry("BTCUSDT")

    await bybit.dialect.cancel(gateway_of(bybit), entry, OrderRef(COID, "v-1"))

    body = bybit.transport.last("/v5/order/cancel").json()
    assert (body["orderLinkId"], body["symbol"], body["category"]) == (COID, "BTCUSDT", "linear")
    assert "orderId" not in body


async def test_cancel_of_an_external_order_names_its_venue_id(bybit):
    bybit.transport.answer("POST", "/v5/order/cancel", CREATED)

    await bybit.dialect.cancel(
        gateway_of(bybit), bybit.markets.entry("BTCUSDT"), OrderRef(None, "v-9")
    )

    body = bybit.transport.last("/v5/order/cancel").json()
    assert body["orderId"] == "v-9"
    assert "orderLinkId" not in body


async def test_amend_sends_new_terms_by_order_link_id_and_no_stray_fields(bybit):
    bybit.transport.answer("POST", "/v5/order/amend", CREATED)

    await bybit.dialect.amend(
        gateway_of(bybit),
        bybit.markets.entry("BTCUSDT"),
        OrderRef(COID, None),
        OrderType.STOP_LIMIT,
        Side.BUY,
        D("0.020"),
        D("31010"),
        D("31000.5"),
    )

    body = bybit.transport.last("/v5/order/amend").json()
    assert body["orderLinkId"] == COID
    assert (D(body["qty"]), D(body["price"]), D(body["triggerPrice"])) == (
        D("0.020"),
        D("31010"),
        D("31000.5"),
    )
    assert "clientOrderId" not in body
    assert "orderId" not in body


async def test_lookup_asks_open_then_history_by_order_link_id(bybit):
    history = recorded("http_get_orders_history_with_duplicate.json")
    bybit.transport.answer("GET", "/v5/order/realtime", EMPTY_LIST)
    bybit.transport.answer("GET", "/v5/order/history", history)

    found = await bybit.dialect.find_order(
        gateway_of(bybit), bybit.markets.entry("ETHUSDT"), OrderRef("client-open-1", None)
    )

    assert found is not None
    assert found["id"] == "open-order-1"
    assert bybit.transport.last("/v5/order/realtime").params["orderLinkId"] == "client-open-1"
    sent = bybit.transport.last("/v5/order/history").params
    assert sent["orderLinkId"] == "client-open-1"
    assert "orderStatus" not in sent


async def test_lookup_of_an_unknown_client_order_id_answers_none(bybit):
    bybit.transport.answer("GET", "/v5/order/realtime", EMPTY_LIST)
    bybit.transport.answer("GET", "/v5/order/history", EMPTY_LIST)

    found = await bybit.dialect.find_order(
        gateway_of(bybit), bybit.markets.entry("BTCUSDT"), OrderRef(COID, None)
    )

    assert found is None


# --- errors, through ccxt's own mapping of Bybit's retCodes ----------------------------------


def refusal(code: int, message: str) -> dict:
    return {"retCode": code, "retMsg": message, "result": {}, "retExtInfo": {}, "time": 1}


@pytest.mark.parametrize(
    ("ret_code", "message", "error", "reason"),
    [
        (110072, "OrderLinkedID is duplicate", AmbiguousVenueError, None),
        (10006, "Too many visits!", RetryableVenueError, None),
        (10016, "System error. Please try again later.", AmbiguousVenueError, None),
        (5004, "Server Timeout", AmbiguousVenueError, None),
        (110007, "ab not enough for new order", RejectedByVenue, "VENUE_INSUFFICIENT_MARGIN"),
        (10001, "params error", RejectedByVenue, "VENUE_REJECTED"),
        (110001, "Order does not exist", RejectedByVenue, "VENUE_ORDER_NOT_FOUND"),
    ],
)
async def test_create_errors_are_classified_by_what_the_venue_may_have_done(
    bybit, ret_code, message, error, reason
):
    bybit.transport.answer("POST", "/v5/order/create", refusal(ret_code, message))
    order = request()
    entry = bybit.markets.entry("BTCUSDT")
    call = bybit.dialect.order_call(bybit.exchange, order, entry)

    with pytest.raises(error) as raised:
        await gateway_of(bybit).write(
            "create order",
            lambda: bybit.exchange.create_order(
                SYMBOL, call.type, call.side, call.amount, call.price, call.params
            ),
        )

    assert type(raised.value) is error
    if reason is not None:
        assert raised.value.code == reason


async def test_a_server_error_on_create_is_ambiguous_and_on_a_read_retryable(bybit):
    bybit.transport.answer("POST", "/v5/order/create", "<html>bad gateway</html>", status=502)
    bybit.transport.answer("GET", "/v5/order/realtime", "<html>bad gateway</html>", status=502)
    gateway = gateway_of(bybit)

    with pytest.raises(AmbiguousVenueError):
        await gateway.write(
            "create", lambda: bybit.exchange.create_order(SYMBOL, "limit", "buy", "0.01", "30000")
        )
    with pytest.raises(RetryableVenueError):
        await gateway.read("open orders", lambda: bybit.exchange.fetch_open_orders(SYMBOL))

    assert len(bybit.transport.to("/v5/order/create")) == 1  # a write is never repeated
    assert len(bybit.transport.to("/v5/order/realtime")) == RetryPolicy().max_attempts


# --- recorded payloads read back ------------------------------------------------------------


def parsed_order(venue, name: str, index: int = 0) -> dict:
    raw = recorded(name)
    items = raw["data"] if "data" in raw else raw["result"]["list"]
    return venue.exchange.parse_order(items[index])


async def test_recorded_open_orders_read_as_accepted_limits(bybit):
    for index in (0, 1):
        report = bybit.translator.order(parsed_order(bybit, "http_get_orders_realtime.json", index))

        assert report is not None
        assert (report.symbol, report.type, report.status) == (
            "ETHUSDT",
            OrderType.LIMIT,
            OrderStatus.ACCEPTED,
        )
        assert (report.qty, report.filled_qty, report.stop_price) == (D("0.010"), 0, None)
    assert report.client_order_id == "client-open-2"
    assert (report.side, report.price, report.venue_order_id) == (
        Side.SELL,
        D("3940.42"),
        "open-order-2",
    )
    assert report.ts == 1761355905609 * 1_000_000


async def test_recorded_filled_order_reads_as_filled(bybit):
    order = parsed_order(bybit, "ws_account_order_filled.json")

    report = bybit.translator.order(order)

    assert report is not None
    assert (report.status, report.filled_qty, report.avg_fill_price) == (
        OrderStatus.FILLED,
        D("0.100"),
        D("30000.50"),
    )
    # a triggered stop-limit: Bybit keeps its trigger price on it
    assert (report.type, report.price, report.stop_price) == (
        OrderType.STOP_LIMIT,
        D("30000.50"),
        D("29500.00"),
    )


async def test_recorded_untriggered_stops_read_as_stops(bybit):
    stop = bybit.translator.order(parsed_order(bybit, "ws_account_order_buy_stop_market.json"))
    stop_limit = bybit.translator.order(parsed_order(bybit, "ws_account_order_stop_limit.json"))

    assert stop is not None
    assert stop_limit is not None
    assert (stop.type, stop.status, stop.price, stop.stop_price) == (
        OrderType.STOP,
        OrderStatus.ACCEPTED,
        None,
        D("55000.00"),
    )
    assert (stop_limit.type, stop_limit.side, stop_limit.price, stop_limit.stop_price) == (
        OrderType.STOP_LIMIT,
        Side.SELL,
        D("44500.00"),
        D("45000.00"),
    )


@pytest.mark.parametrize(
    ("bybit_status", "filled", "status"),
    [
        ("Untriggered", "0", OrderStatus.ACCEPTED),
        ("Triggered", "0", OrderStatus.ACCEPTED),
        ("New", "0", OrderStatus.ACCEPTED),  # triggered, resting as a limit
        ("PartiallyFilled", "0.040", OrderStatus.PARTIALLY_FILLED),
        ("Filled", "0.100", OrderStatus.FILLED),
        ("Deactivated", "0", OrderStatus.CANCELED),  # cancelled before it triggered
        ("Cancelled", "0.040", OrderStatus.CANCELED),  # cancelled after it triggered
    ],
)
async def test_a_conditional_order_reads_as_a_stop_limit_in_every_status(
    bybit, bybit_status, filled, status
):
    raw = recorded("ws_account_order_stop_limit.json")["data"][0]
    leaves = str(D("0.100") - D(filled)) if status.is_open else "0"
    order = bybit.exchange.parse_order(
        {**raw, "orderStatus": bybit_status, "cumExecQty": filled, "leavesQty": leaves}
    )

    report = bybit.translator.order(order)

    assert report is not None
    assert (report.status, report.filled_qty) == (status, D(filled))
    assert (report.type, report.price, report.stop_price) == (
        OrderType.STOP_LIMIT,
        D("44500.00"),
        D("45000.00"),
    )


async def test_partially_filled_then_rejected_reads_as_canceled_with_its_fill(bybit):
    # APEXUSDT is not configured: read it through ETHUSDT's market by renaming the symbol
    raw = recorded("ws_account_order_partially_filled_rejected.json")["data"][0]
    order = bybit.exchange.parse_order({**raw, "symbol": "ETHUSDT", "price": "1.50"})

    report = bybit.translator.order(order)

    assert report is not None
    assert (report.status, report.filled_qty) == (OrderStatus.CANCELED, D("50.0"))


async def test_rejected_order_without_fills_reads_as_rejected(bybit):
    raw = recorded("http_get_order_partially_filled_rejected.json")["result"]["list"][0]
    order = bybit.exchange.parse_order({**raw, "cumExecQty": "0", "leavesQty": "0.010"})

    report = bybit.translator.order(order)

    assert report is not None
    assert report.status is OrderStatus.REJECTED


async def test_position_take_profit_and_stop_loss_orders_are_not_ordergate_types(bybit):
    order = parsed_order(bybit, "http_get_orders_history.json")  # stopOrderType StopLoss

    with pytest.raises(UnmappedVenueValue):
        bybit.translator.order(order)


async def test_an_unknown_order_status_raises(bybit):
    raw = recorded("http_get_orders_realtime.json")["result"]["list"][0]
    order = bybit.exchange.parse_order({**raw, "orderStatus": "Frozen"})

    with pytest.raises(UnmappedVenueValue):
        bybit.translator.order(order)


async def test_markets_not_configured_are_not_translated(bybit):
    raw = recorded("ws_account_order_partially_filled_rejected.json")["data"][0]

    assert bybit.translator.order(bybit.exchange.parse_order(raw)) is None  # APEXUSDT


async def test_recorded_executions_read_as_fills_with_their_order_link_id(bybit):
    rest = recorded("http_get_executions.json")["result"]["list"]
    ws = recorded("ws_account_execution.json")["data"]
    fills = []
    for raw in [*rest, *ws]:
        trade = bybit.exchange.parse_trade(raw)
        client_order_id = bybit.dialect.trade_client_order_id(trade)
        assert client_order_id is not None
        fills.append(bybit.translator.fill(trade, client_order_id))

    maker, taker, market_sell = fills
    assert maker is not None
    assert taker is not None
    assert market_sell is not None
    assert (maker.client_order_id, maker.trade_id, maker.side) == (
        "test-order-001",
        "e0cbe81d-0f18-5866-9415-cf319b5dab3b",
        Side.BUY,
    )
    assert (maker.qty, maker.price, maker.fee, maker.fee_currency) == (
        D("0.100"),
        D("50000.00"),
        D("0.0150"),
        "USDT",
    )
    assert (maker.liquidity, taker.liquidity) == (LiquiditySide.MAKER, LiquiditySide.TAKER)
    assert (taker.symbol, taker.qty, taker.fee) == ("ETHUSDT", D("0.500"), D("0.9000"))
    assert (market_sell.side, market_sell.fee, market_sell.ts) == (
        Side.SELL,
        D("26.3725275"),
        1746270400353 * 1_000_000,
    )
    assert all(f.venue_seq is None for f in fills)  # Bybit's seq is per symbol, not ours


async def test_an_execution_without_order_link_id_names_no_client_order(bybit):
    trade = bybit.exchange.parse_trade(recorded("ws_account_execution_adl.json")["data"][0])

    assert bybit.dialect.trade_client_order_id(trade) is None


async def test_market_grid_comes_from_the_instruments_payload(bybit):
    btc = bybit.markets.entry("BTCUSDT")
    eth = bybit.markets.entry("ETHUSDT")

    assert (btc.ccxt_symbol, btc.settle, btc.contract) == (SYMBOL, "USDT", True)
    instrument = btc.instrument
    assert (instrument.tick_size, instrument.lot_step, instrument.min_qty) == (
        D("0.5"),
        D("0.001"),
        D("0.001"),
    )
    # Bybit's lotSizeFilter.minNotionalValue, which ccxt does not carry into its limits
    assert (instrument.min_notional, instrument.max_qty) == (D("5"), D("100.0"))
    assert (instrument.base_currency, instrument.quote_currency) == ("BTC", "USDT")
    assert eth.instrument.tick_size == Decimal("0.05")


async def test_an_unconfigured_symbol_is_refused(bybit):
    with pytest.raises(RejectedByVenue) as refused:
        bybit.markets.entry("SOLUSDT")

    assert refused.value.code == ReasonCode.SYMBOL_NOT_ALLOWED


TERMS = {
    OrderType.MARKET: {"price": None},
    OrderType.LIMIT: {},
    OrderType.STOP: {"price": None, "stop_price": "29000.5"},
    OrderType.STOP_LIMIT: {"stop_price": "29000.5"},
}


@pytest.mark.parametrize("order_type", list(OrderType))
async def test_each_order_type_goes_out_in_the_spelling_it_is_read_back_from(bybit, order_type):
    body = await created(bybit, request(order_type, **TERMS[order_type]))

    assert BYBIT_ORDER_TYPES.from_venue((body["orderType"], "triggerPrice" in body)) is order_type
