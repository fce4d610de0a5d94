"""The real ccxt `bybit` (REST) trading against the simulator: no mocks on either side."""

from __future__ import annotations

import ccxt
import pytest
from tests.integration.simulators.bybit.support import BTC, ETH, D

from ordergate.simulators.bybit import OrderStatus


async def test_load_markets_linear_perpetuals_have_bybit_precision_and_limits(exchange):
    btc, eth = exchange.market(BTC), exchange.market(ETH)

    assert set(exchange.markets) == {BTC, ETH}
    assert (btc["id"], btc["type"], btc["linear"], btc["settle"]) == (
        "BTCUSDT",
        "swap",
        True,
        "USDT",
    )
    assert btc["precision"] == {"amount": 0.001, "price": 0.1}
    assert btc["limits"]["amount"] == {"min": 0.001, "max": 1190.0}
    assert btc["limits"]["cost"]["min"] == 5.0
    assert btc["limits"]["leverage"]["max"] == 100.0
    assert eth["precision"] == {"amount": 0.01, "price": 0.01}
    assert exchange.amount_to_precision(BTC, 0.0123456) == "0.012"


async def test_every_url_ccxt_knows_points_at_the_simulator(sim, exchange):
    def strings(value):
        if isinstance(value, dict):
            for item in value.values():
                yield from strings(item)
        elif isinstance(value, str):
            yield value

    host = sim.rest_url.split("://")[1]
    urls = list(strings(exchange.urls["api"]))

    assert len(urls) > 10
    assert [url for url in urls if url.split("://")[1].split("/")[0] != host] == []


async def test_market_data_time_ticker_and_book_answer_the_current_quote(sim, exchange):
    sim.set_quote("BTCUSDT", bid=D("51000.5"), ask=D("51000.7"), last=D("51000.6"))

    server_ms = await exchange.fetch_time()
    ticker = await exchange.fetch_ticker(BTC)
    book = await exchange.fetch_order_book(BTC)

    assert abs(server_ms - exchange.milliseconds()) < 5_000
    assert (ticker["bid"], ticker["ask"], ticker["last"]) == (51000.5, 51000.7, 51000.6)
    assert book["bids"][0][0] == 51000.5
    assert book["asks"][0][0] == 51000.7


async def test_create_limit_with_client_order_id_maps_to_order_link_id(sim, exchange):
    order = await exchange.create_order(BTC, "limit", "buy", 0.01, 49000, {"clientOrderId": "c-1"})

    (truth,) = sim.orders()
    assert (order["id"], order["clientOrderId"]) == (truth.order_id, "c-1")
    assert truth.order_link_id == "c-1"
    assert (truth.status, truth.price, truth.qty) == (OrderStatus.NEW, D("49000"), D("0.01"))
    fetched = await exchange.fetch_open_order(order["id"], BTC)
    assert (fetched["status"], fetched["price"], fetched["amount"]) == ("open", 49000.0, 0.01)
    assert fetched["clientOrderId"] == "c-1"


async def test_market_order_fills_at_the_ask_with_taker_fee(sim, exchange):
    order = await exchange.create_order(BTC, "market", "buy", 0.02)

    fetched = await exchange.fetch_order(order["id"], BTC, {"acknowledged": True})
    assert (fetched["status"], fetched["filled"], fetched["average"]) == ("closed", 0.02, 50000.1)
    (trade,) = await exchange.fetch_my_trades(BTC)
    assert (trade["order"], trade["price"], trade["amount"]) == (order["id"], 50000.1, 0.02)
    assert trade["takerOrMaker"] == "taker"
    assert trade["fee"]["currency"] == "USDT"
    assert D(str(trade["fee"]["cost"])) == D("0.02") * D("50000.1") * D("0.00055")


async def test_edit_order_amends_quantity_and_price(sim, exchange):
    order = await exchange.create_order(BTC, "limit", "buy", 0.01, 49000)

    edited = await exchange.edit_order(order["id"], BTC, "limit", "buy", 0.03, 49500)

    assert edited["id"] == order["id"]
    (truth,) = sim.orders()
    assert (truth.qty, truth.price) == (D("0.03"), D("49500"))
    (listed,) = await exchange.fetch_open_orders(BTC)
    assert (listed["amount"], listed["price"]) == (0.03, 49500.0)


async def test_cancel_order_then_lookups_find_it_cancelled(sim, exchange):
    order = await exchange.create_order(BTC, "limit", "buy", 0.01, 49000, {"clientOrderId": "c-2"})

    await exchange.cancel_order(order["id"], BTC)

    assert await exchange.fetch_open_orders(BTC) == []
    # Bybit's realtime endpoint still finds a recently closed order by id.
    by_id = await exchange.fetch_open_order(order["id"], BTC)
    assert by_id["status"] == "canceled"
    (history,) = await exchange.fetch_canceled_and_closed_orders(BTC)
    assert (history["id"], history["status"]) == (order["id"], "canceled")
    assert sim.order(order_link_id="c-2").status is OrderStatus.CANCELLED


async def test_cancel_all_orders_cancels_every_open_order(sim, exchange):
    for price in (48000, 48500):
        await exchange.create_order(BTC, "limit", "buy", 0.01, price)
    await exchange.create_order(ETH, "limit", "sell", 0.1, 3100)

    cancelled = await exchange.cancel_all_orders()

    assert len(cancelled) == 3
    assert all(order.status is OrderStatus.CANCELLED for order in sim.orders())
    assert await exchange.fetch_open_orders() == []


async def test_closed_orders_and_closed_order_lookup_answer_filled_ones(exchange):
    filled = await exchange.create_order(BTC, "market", "sell", 0.01)
    await exchange.create_order(BTC, "limit", "buy", 0.01, 45000)

    closed = await exchange.fetch_closed_orders(BTC)
    lookup = await exchange.fetch_closed_order(filled["id"], BTC)

    assert [order["id"] for order in closed] == [filled["id"]]
    assert (lookup["status"], lookup["side"], lookup["filled"]) == ("closed", "sell", 0.01)


async def test_balance_and_positions_follow_a_fill(sim, exchange):
    await exchange.create_order(ETH, "market", "sell", 1.5)

    (position,) = await exchange.fetch_positions()
    balance = await exchange.fetch_balance()

    assert (position["symbol"], position["side"], position["contracts"]) == (ETH, "short", 1.5)
    assert position["entryPrice"] == 3000.0
    assert position["leverage"] == 10.0
    fee = D("1.5") * D("3000.00") * D("0.00055")
    assert D(str(balance["USDT"]["total"])) == D(100_000) - fee  # the wallet balance
    # Free: equity (the short is 1.5 x 0.025 down at the mid) less its initial margin.
    margin = D("1.5") * D("3000.025") / 10
    free = D(100_000) - fee - D("1.5") * D("0.025") - margin
    assert D(str(balance["USDT"]["free"])) == free
    (truth,) = sim.positions()
    assert (truth.symbol, truth.size, truth.avg_price) == ("ETHUSDT", D("-1.5"), D("3000.00"))
    one_symbol = await exchange.fetch_positions([BTC])
    assert one_symbol[0]["contracts"] == 0.0  # a named symbol answers even when flat


async def test_duplicate_order_link_id_is_refused_even_after_the_first_closed(exchange):
    first = await exchange.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "dup"})
    assert first["id"]

    with pytest.raises(ccxt.InvalidOrder, match="110072"):
        await exchange.create_order(BTC, "limit", "buy", 0.01, 40000, {"clientOrderId": "dup"})


async def test_order_beyond_free_margin_is_refused_with_110007(sim, exchange):
    # 100,000 USDT at 10x leverage carries at most ~1,000,000 USDT of BTC.
    with pytest.raises(ccxt.InsufficientFunds, match="110007"):
        await exchange.create_order(BTC, "limit", "buy", 25, 45000)

    assert sim.orders() == []


async def test_unknown_order_cancel_is_order_not_found(exchange):
    with pytest.raises(ccxt.OrderNotFound, match="110001"):
        await exchange.cancel_order("00000000-0000-4000-8000-000000000000", BTC)


async def test_reduce_only_without_position_is_refused_with_110017(exchange):
    with pytest.raises(ccxt.InvalidOrder, match="110017"):
        await exchange.create_order(BTC, "market", "sell", 0.01, None, {"reduceOnly": True})


async def test_trading_fee_is_the_instrument_fee(exchange):
    fee = await exchange.fetch_trading_fee(BTC)

    assert (fee["maker"], fee["taker"]) == (0.0002, 0.00055)
