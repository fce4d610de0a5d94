"""The simulator's payloads decode with NautilusTrader 1.221.0's own Bybit schemas.

Beside the recordings (`test_bybit_sim_shape`), the second client the simulator serves:
NautilusTrader's Bybit adapter decodes every answer and message with strict msgspec
structs, and a missing key fails the whole payload (an instrument, a wallet update, a
restart's order list). Each payload NautilusTrader reads is decoded here with the struct
it uses, after a fill, a resting order and a cancel; and the trade websocket, which only
NautilusTrader uses, is held to the recorded `ws_order_response` too.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import msgspec
import pytest
from nautilus_trader.adapters.bybit.schemas import ws
from nautilus_trader.adapters.bybit.schemas.account.balance import BybitWalletBalanceResponse
from nautilus_trader.adapters.bybit.schemas.account.fee_rate import BybitFeeRateResponse
from nautilus_trader.adapters.bybit.schemas.asset.coin_info import BybitCoinInfoResponse
from nautilus_trader.adapters.bybit.schemas.instrument import BybitInstrumentsLinearResponse
from nautilus_trader.adapters.bybit.schemas.market.ticker import BybitTickersLinearResponse
from nautilus_trader.adapters.bybit.schemas.order import (
    BybitOpenOrdersResponseStruct,
    BybitOrderHistoryResponseStruct,
)
from nautilus_trader.adapters.bybit.schemas.position import BybitPositionResponseStruct
from nautilus_trader.adapters.bybit.schemas.trade import BybitTradeHistoryResponseStruct
from tests.integration.simulators.bybit.support import PrivateReader, RawBybit, now_ms
from tests.integration.simulators.bybit.test_bybit_sim_shape import REFERENCE, assert_shape
from tests.waiting import eventually

from ordergate.simulators.bybit import BybitSimulator, ws_auth_signature

LINEAR = {"category": "linear"}


def decodes(payload: Any, schema: Any) -> Any:
    return msgspec.json.decode(json.dumps(payload).encode(), type=schema)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def traded(sim, raw: RawBybit, session) -> AsyncIterator[PrivateReader]:
    """Every topic subscribed, then a fill, a resting order and a cancel."""
    reader = PrivateReader(await session.ws_connect(sim.ws_private_url))
    key, secret = sim.api_credentials
    decodes(await reader.auth(key, secret), ws.BybitWsPrivateChannelAuthMsg)
    await reader.subscribe("order", "execution", "position", "wallet")
    await raw.create(symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.01", orderLinkId="m1")
    await raw.create(symbol="BTCUSDT", side="Buy", orderType="Limit", qty="0.01", price="40000")
    cancelled = await raw.create(
        symbol="BTCUSDT", side="Sell", orderType="Limit", qty="0.01", price="60000"
    )
    await raw.post(
        "/v5/order/cancel",
        {**LINEAR, "symbol": "BTCUSDT", "orderId": cancelled["result"]["orderId"]},
    )
    await eventually(lambda: len(reader.topic("wallet")) == 4, message="every update")
    yield reader
    await reader.close()


@pytest.mark.parametrize(
    ("path", "params", "schema"),
    [
        ("/v5/asset/coin/query-info", {}, BybitCoinInfoResponse),
        ("/v5/account/fee-rate", LINEAR, BybitFeeRateResponse),
        ("/v5/account/wallet-balance", {"accountType": "UNIFIED"}, BybitWalletBalanceResponse),
        ("/v5/position/list", {**LINEAR, "settleCoin": "USDT"}, BybitPositionResponseStruct),
        ("/v5/order/realtime", {**LINEAR, "settleCoin": "USDT"}, BybitOpenOrdersResponseStruct),
        ("/v5/order/history", {**LINEAR, "openOnly": 0}, BybitOrderHistoryResponseStruct),
        ("/v5/execution/list", LINEAR, BybitTradeHistoryResponseStruct),
    ],
)
async def test_private_rest_answers_decode_with_nautilus_traders_schemas(
    traded, raw, path, params, schema
):
    answer, _ = await raw.get(path, params)

    assert answer["retCode"] == 0, answer
    decoded = decodes(answer, schema)
    assert decoded.result is not None


async def test_coin_information_lists_the_coins_traded_and_held(traded, raw):
    answer, _ = await raw.get("/v5/asset/coin/query-info", {})
    one, _ = await raw.get("/v5/asset/coin/query-info", {"coin": "BTC"})

    assert [row["coin"] for row in answer["result"]["rows"]] == ["BTC", "ETH", "USDT"]
    assert [row["coin"] for row in one["result"]["rows"]] == ["BTC"]


@pytest.mark.parametrize(
    ("path", "schema"),
    [
        ("/v5/market/instruments-info", BybitInstrumentsLinearResponse),
        ("/v5/market/tickers", BybitTickersLinearResponse),
    ],
)
async def test_public_rest_answers_decode_with_nautilus_traders_schemas(sim, raw, path, schema):
    answer = await raw.public(path, LINEAR)

    decoded = decodes(answer, schema)
    assert decoded.result.list


@pytest.mark.parametrize(
    ("topic", "schema"),
    [
        ("order", ws.BybitWsAccountOrderMsg),
        ("execution", ws.BybitWsAccountExecutionMsg),
        ("position", ws.BybitWsAccountPositionMsg),
        ("wallet", ws.BybitWsAccountWalletMsg),
    ],
)
async def test_private_topic_messages_decode_with_nautilus_traders_schemas(traded, topic, schema):
    messages = traded.topic(topic)

    assert messages
    for message in messages:
        decodes(message, schema)


async def trade_socket(
    session: aiohttp.ClientSession, sim: BybitSimulator
) -> tuple[PrivateReader, dict[str, Any]]:
    reader = PrivateReader(await session.ws_connect(sim.ws_trade_url))
    key, secret = sim.api_credentials
    return reader, await reader.auth(key, secret)


@pytest.mark.skipif(not REFERENCE.is_dir(), reason=f"no Bybit recordings at {REFERENCE}")
async def test_the_trade_websocket_places_and_cancels_as_rest_does(sim: BybitSimulator, session):
    reader, auth = await trade_socket(session, sim)
    create = {"symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.01"}
    await reader.send(
        {
            "reqId": "r1",
            "header": {"X-BAPI-TIMESTAMP": str(now_ms())},
            "op": "order.create",
            "args": [{**LINEAR, **create, "price": "40000", "orderLinkId": "ws-1"}],
        }
    )
    created = await reader.next_where(lambda m: m.get("reqId") == "r1")
    await reader.send(
        {
            "reqId": "r2",
            "op": "order.cancel",
            "args": [{**LINEAR, "symbol": "BTCUSDT", "orderLinkId": "ws-1"}],
        }
    )
    cancelled = await reader.next_where(lambda m: m.get("reqId") == "r2")
    await reader.send(
        {
            "reqId": "r3",
            "op": "order.cancel",
            "args": [{**LINEAR, "symbol": "BTCUSDT", "orderLinkId": "ws-1"}],
        }
    )
    again = await reader.next_where(lambda m: m.get("reqId") == "r3")
    await reader.close()

    assert decodes(auth, ws.BybitWsTradeAuthMsg).is_auth_success()
    assert_shape("ws_order_response.json", created)
    decodes(created, ws.BybitWsPlaceOrderResponseMsg)
    assert created["data"]["orderLinkId"] == "ws-1"
    assert (cancelled["retCode"], again["retCode"]) == (0, 110001)
    assert [o.status.value for o in sim.orders("BTCUSDT")] == ["Cancelled"]
    assert not [r for r in sim.requests() if r.path.startswith("/v5/order/")]


async def test_the_trade_websocket_refuses_an_unauthenticated_order(sim: BybitSimulator, session):
    reader = PrivateReader(await session.ws_connect(sim.ws_trade_url))
    expires = str(now_ms() + 10_000)
    await reader.send(
        {"op": "auth", "args": ["not-the-key", expires, ws_auth_signature("x", expires)]}
    )
    refused_auth = await reader.next_where(lambda m: m.get("op") == "auth")
    await reader.send(
        {"reqId": "r1", "op": "order.create", "args": [{**LINEAR, "symbol": "BTCUSDT"}]}
    )
    refused = await reader.next_where(lambda m: m.get("reqId") == "r1")
    await reader.close()

    assert refused_auth["retCode"] == 10003
    assert (refused["retCode"], refused["data"]) == (10003, {})
    assert sim.orders() == []
