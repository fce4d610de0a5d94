"""Conditional orders through the real ccxt `bybit` and the raw wire."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import ccxt
import pytest
from tests.integration.simulators.bybit.support import BTC, D, private_reader
from tests.waiting import eventually

from ordergate.simulators.bybit import OrderStatus

REALTIME = "/v5/order/realtime"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def stop_sell(exchange, trigger: float = 49000, link: str = "stop-1") -> dict:
    params = {"triggerPrice": trigger, "triggerDirection": "descending", "clientOrderId": link}
    order: dict = await exchange.create_order(BTC, "market", "sell", 0.01, None, params)
    return order


async def test_stop_is_listed_open_untriggered_by_every_query_that_takes_it(sim, exchange, raw):
    placed = await stop_sell(exchange)
    await exchange.create_order(BTC, "limit", "buy", 0.01, 48000, {"clientOrderId": "plain"})

    every = await exchange.fetch_open_orders(BTC)
    triggers = await exchange.fetch_open_orders(BTC, None, None, {"trigger": True})
    by_link = await exchange.fetch_open_orders(BTC, None, None, {"orderLinkId": "stop-1"})
    plain, _ = await raw.get(
        REALTIME, {"category": "linear", "symbol": "BTCUSDT", "orderFilter": "Order"}
    )

    assert sorted(o["clientOrderId"] for o in every) == ["plain", "stop-1"]
    [stop] = triggers
    assert (stop["id"], stop["status"], stop["type"], stop["triggerPrice"]) == (
        placed["id"],
        "open",
        "market",
        49000.0,
    )
    assert stop["info"]["orderStatus"] == "Untriggered"
    assert (stop["info"]["stopOrderType"], stop["info"]["triggerDirection"]) == ("Stop", 2)
    assert stop["info"]["triggerBy"] == "LastPrice"
    assert [o["id"] for o in by_link] == [placed["id"]]
    assert [o["orderLinkId"] for o in plain["result"]["list"]] == ["plain"]


async def test_stop_streams_untriggered_triggered_then_filled(sim, exchange, session):
    reader = await private_reader(session, sim, "order", "execution")
    placed = await stop_sell(exchange)

    sim.set_quote("BTCUSDT", bid=D("48990.0"), ask=D("48990.1"))
    await eventually(lambda: len(reader.topic("execution")) == 1, message="the execution")
    await eventually(lambda: len(reader.topic("order")) == 3, message="the order's states")
    await reader.close()

    states = [m["data"][0]["orderStatus"] for m in reader.topic("order")]
    assert states == ["Untriggered", "Triggered", "Filled"]
    [execution] = reader.topic("execution")[0]["data"]
    assert (execution["orderId"], execution["stopOrderType"]) == (placed["id"], "Stop")
    [trade] = await exchange.fetch_my_trades(BTC)
    assert (trade["price"], trade["info"]["createType"]) == (48990.0, "CreateByStopOrder")
    closed = await exchange.fetch_canceled_and_closed_orders(BTC)
    assert [(o["status"], o["triggerPrice"]) for o in closed] == [("closed", 49000.0)]


async def test_edit_moves_the_trigger_and_cancel_deactivates(sim, exchange):
    placed = await stop_sell(exchange)

    await exchange.edit_order(
        placed["id"], BTC, "market", "sell", 0.02, None, {"triggerPrice": 48500}
    )
    sim.set_quote("BTCUSDT", bid=D("48900.0"), ask=D("48900.1"))  # past the old trigger only
    moved = sim.order(order_id=placed["id"])
    await exchange.cancel_order(placed["id"], BTC)

    assert moved is not None
    assert moved.trigger is not None
    assert (moved.status, moved.qty, moved.trigger.price) == (
        OrderStatus.UNTRIGGERED,
        D("0.02"),
        D(48500),
    )
    done = sim.order(order_id=placed["id"])
    assert done is not None
    assert done.status is OrderStatus.DEACTIVATED
    [canceled] = await exchange.fetch_canceled_and_closed_orders(BTC)
    assert (canceled["status"], canceled["info"]["orderStatus"]) == ("canceled", "Deactivated")


async def test_a_trigger_already_passed_is_refused_as_an_invalid_order(sim, exchange):
    with pytest.raises(ccxt.InvalidOrder, match="110093"):
        await stop_sell(exchange, trigger=50000)

    assert sim.orders() == []


async def test_cancel_all_cancels_conditional_orders_too_unless_filtered(sim, exchange, raw):
    await stop_sell(exchange)
    await exchange.create_order(BTC, "limit", "buy", 0.01, 48000, {"clientOrderId": "plain"})

    answer, _ = await raw.post(
        "/v5/order/cancel-all",
        {"category": "linear", "symbol": "BTCUSDT", "orderFilter": "Order"},
    )
    await exchange.cancel_all_orders(BTC)

    assert [o["orderLinkId"] for o in answer["result"]["list"]] == ["plain"]
    assert [(o.order_link_id, o.status) for o in sim.orders()] == [
        ("stop-1", OrderStatus.DEACTIVATED),
        ("plain", OrderStatus.CANCELLED),
    ]
