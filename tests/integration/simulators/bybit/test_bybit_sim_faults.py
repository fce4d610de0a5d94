"""Each injected fault, observed through the real ccxt or the raw wire."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import aiohttp
import ccxt
import ccxt.pro
import pytest
from tests.integration.simulators.bybit.support import (
    BTC,
    PrivateReader,
    RawBybit,
    private_reader,
)
from tests.waiting import TIMEOUT, eventually

from ordergate.simulators.bybit import (
    BybitSimulator,
    FaultKind,
    FaultRule,
    OrderStatus,
    RetCode,
    SimulatorConfig,
    ccxt_settings,
)
from ordergate.simulators.bybit.corrupt import NOT_JSON_BODY, PADDING_FIELD

CREATE = "/v5/order/create"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def test_latency_delays_the_matching_endpoint_only_count_times(sim, exchange):
    sim.faults.add(FaultRule(FaultKind.LATENCY, scope="/v5/market/time", delay=0.3, count=1))

    started = time.monotonic()
    await exchange.fetch_time()
    delayed = time.monotonic() - started
    started = time.monotonic()
    await exchange.fetch_time()
    await exchange.fetch_ticker(BTC)
    undelayed = time.monotonic() - started

    assert delayed >= 0.3
    assert undelayed < 0.3
    assert [(f.kind, f.target) for f in sim.faults.fired] == [
        (FaultKind.LATENCY, "/v5/market/time")
    ]


async def test_latency_beyond_the_client_timeout_still_executes_the_request(sim):
    client = ccxt.pro.bybit(ccxt_settings(sim, timeout_ms=300))
    try:
        await client.load_markets()
        sim.faults.add(FaultRule(FaultKind.LATENCY, scope=CREATE, delay=0.8, count=1))
        with pytest.raises(ccxt.RequestTimeout):
            await client.create_order(BTC, "limit", "buy", 0.01, 49000, {"clientOrderId": "slow"})
    finally:
        await client.close()  # the client has gone before the delay ends

    await eventually(
        lambda: sim.order(order_link_id="slow") is not None, message="the delayed order"
    )
    placed = sim.order(order_link_id="slow")
    assert placed is not None
    assert (placed.status, placed.price) == (OrderStatus.NEW, 49000)


async def test_http_5xx_answers_without_executing(sim, exchange):
    sim.faults.add(FaultRule(FaultKind.HTTP_ERROR, scope=CREATE, status=503, count=1))

    with pytest.raises(ccxt.ExchangeNotAvailable):
        await exchange.create_order(BTC, "limit", "buy", 0.01, 49000)
    assert sim.orders() == []
    await exchange.create_order(BTC, "limit", "buy", 0.01, 49000)
    assert len(sim.orders()) == 1


async def test_rate_limit_fault_answers_10006_with_limit_headers(sim, exchange, raw):
    sim.faults.add(FaultRule(FaultKind.RATE_LIMIT, scope=CREATE, count=2))

    with pytest.raises(ccxt.RateLimitExceeded, match="10006"):
        await exchange.create_order(BTC, "limit", "buy", 0.01, 49000)
    answer, headers = await raw.post(
        CREATE, {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market"}
    )

    assert answer["retCode"] == RetCode.RATE_LIMITED
    assert headers["X-Bapi-Limit-Status"] == "0"
    assert int(headers["X-Bapi-Limit-Reset-Timestamp"]) > int(answer["time"])
    assert sim.orders() == []


async def test_rate_limit_refuses_requests_beyond_the_endpoint_budget(session):
    config = SimulatorConfig(rate_limits={CREATE: 2})
    async with BybitSimulator(config) as sim:
        raw = RawBybit(session, sim)
        order = {"symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.01"}
        answers = [await raw.create(**order, price=str(40000 + n)) for n in range(3)]

        assert [answer["retCode"] for answer in answers] == [0, 0, RetCode.RATE_LIMITED]
        assert len(sim.orders()) == 2


async def test_lost_response_dropped_after_the_order_was_placed(sim, exchange):
    sim.faults.add(FaultRule(FaultKind.LOST_RESPONSE, scope=CREATE, count=1))

    with pytest.raises(ccxt.NetworkError):
        await exchange.create_order(BTC, "limit", "buy", 0.01, 49000, {"clientOrderId": "amb-1"})

    placed = sim.order(order_link_id="amb-1")
    assert placed is not None
    assert placed.status is OrderStatus.NEW
    (listed,) = await exchange.fetch_open_orders(BTC)
    assert (listed["id"], listed["clientOrderId"]) == (placed.order_id, "amb-1")


async def test_lost_response_withheld_until_the_client_times_out(sim):
    client = ccxt.pro.bybit(ccxt_settings(sim, timeout_ms=400))
    try:
        await client.load_markets()
        order = await client.create_order(BTC, "limit", "buy", 0.01, 49000)
        sim.faults.add(
            FaultRule(FaultKind.LOST_RESPONSE, scope="/v5/order/cancel", drop_connection=False)
        )
        with pytest.raises(ccxt.RequestTimeout):
            await client.cancel_order(order["id"], BTC)
    finally:
        await client.close()

    assert sim.order(order_id=order["id"]).status is OrderStatus.CANCELLED


async def test_websocket_drop_closes_the_connection_and_loses_the_message(sim, exchange):
    sim.faults.add(FaultRule(FaultKind.WS_DROP, scope="order", count=1))
    watching = asyncio.create_task(exchange.watch_orders())
    await eventually(lambda: "order" in sim.subscriptions(), message="the order subscription")

    await exchange.create_order(BTC, "limit", "buy", 0.01, 49000)

    with pytest.raises(ccxt.NetworkError):
        await asyncio.wait_for(watching, TIMEOUT)
    await eventually(lambda: not sim.subscriptions(), message="the connection to close")


async def test_duplicated_message_arrives_twice(sim, session, raw):
    reader = await private_reader(session, sim, "execution")
    sim.faults.add(FaultRule(FaultKind.WS_DUPLICATE, scope="execution", count=1))

    await raw.create(symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.01")

    await eventually(lambda: len(reader.topic("execution")) == 2, message="the duplicate")
    first, second = reader.topic("execution")
    await reader.close()
    assert first == second


async def test_reordered_message_arrives_after_the_next_one(sim, session, raw):
    reader = await private_reader(session, sim, "order", "wallet")
    sim.faults.add(FaultRule(FaultKind.WS_REORDER, scope="order", count=1))

    await raw.create(symbol="BTCUSDT", side="Buy", orderType="Limit", qty="0.01", price="49000")

    await eventually(lambda: len(_topics(reader)) == 2, message="both messages")
    await reader.close()
    # The exchange sends the order, then the wallet; the held order comes second.
    assert _topics(reader) == ["wallet", "order"]


async def test_withheld_execution_leaves_a_gap_in_seq(sim, session, raw):
    reader = await private_reader(session, sim, "execution", "position")
    sim.faults.add(FaultRule(FaultKind.WS_WITHHOLD, scope="execution", count=1))

    for _ in range(2):
        await raw.create(symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.01")

    await eventually(lambda: len(reader.topic("position")) == 2, message="both position updates")
    await eventually(lambda: len(reader.topic("execution")) == 1, message="the second execution")
    await reader.close()
    assert [m["data"][0]["seq"] for m in reader.topic("execution")] == [2]
    assert [m["data"][0]["seq"] for m in reader.topic("position")] == [1, 2]
    assert [e.seq for e in sim.executions()] == [1, 2]


async def _create_as_text(raw: RawBybit, client_order_id: str) -> tuple[int, str, str]:
    """Place a limit order with a raw signed POST: the status, content type and body."""
    body = json.dumps(
        {
            "category": "linear",
            "symbol": "BTCUSDT",
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.01",
            "price": "49000",
            "orderLinkId": client_order_id,
        }
    )
    async with raw.session.post(
        f"{raw.base}{CREATE}", data=body, headers=raw.headers(body)
    ) as response:
        return response.status, response.content_type, await response.text()


async def test_a_not_json_answer_is_an_html_page_after_the_order_was_placed(sim, raw):
    sim.faults.add(FaultRule(FaultKind.NOT_JSON, scope=CREATE, count=1))

    status, content_type, text = await _create_as_text(raw, "page")

    assert (status, content_type, text) == (200, "text/html", NOT_JSON_BODY)
    assert sim.order(order_link_id="page") is not None  # executed all the same


async def test_a_truncated_answer_is_the_first_half_of_the_json(sim, raw):
    sim.faults.add(FaultRule(FaultKind.TRUNCATED, scope=CREATE, count=1))

    status, content_type, text = await _create_as_text(raw, "cut")

    assert (status, content_type) == (200, "application/json")
    assert text.startswith('{"retCode": 0')
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    placed = sim.order(order_link_id="cut")
    assert placed is not None
    assert placed.order_id not in text  # the half with the order id is gone


async def test_an_oversized_answer_is_valid_json_padded_to_the_size(sim, raw):
    sim.faults.add(FaultRule(FaultKind.OVERSIZED, scope=CREATE, count=1, size=100_000))

    status, _, text = await _create_as_text(raw, "big")

    answer = json.loads(text)
    assert (status, len(text.encode())) == (200, 100_000)
    assert answer["retCode"] == 0
    assert answer["result"]["orderLinkId"] == "big"
    assert set(answer) - {"retCode", "retMsg", "result", "retExtInfo", "time"} == {PADDING_FIELD}


@pytest.mark.parametrize(
    "kind", [FaultKind.WS_NOT_JSON, FaultKind.WS_TRUNCATED, FaultKind.WS_OVERSIZED]
)
async def test_a_corrupted_message_is_sent_in_place_of_the_message(sim, session, raw, kind):
    reader = await private_reader(session, sim, "order", "wallet")
    sim.faults.add(FaultRule(kind, scope="order", count=1, size=50_000))

    await raw.create(symbol="BTCUSDT", side="Buy", orderType="Limit", qty="0.01", price="49000")
    await raw.create(symbol="BTCUSDT", side="Buy", orderType="Limit", qty="0.01", price="48000")

    # Each create's order message goes out before its wallet message, on one connection.
    await eventually(lambda: len(reader.topic("wallet")) == 2, message="both wallet updates")
    await reader.close()
    unparsed = [text for text in reader.texts if not _parses(text)]
    orders = [text for text in reader.texts if _parses(text) and '"topic": "order"' in text]
    if kind is FaultKind.WS_OVERSIZED:
        assert unparsed == []
        spoiled, intact = orders
        assert len(spoiled.encode()) == 50_000
        assert PADDING_FIELD in json.loads(spoiled)
        assert PADDING_FIELD not in json.loads(intact)
        return
    [spoiled] = unparsed
    [_intact] = orders  # the next message is sent as it is
    if kind is FaultKind.WS_NOT_JSON:
        assert spoiled == NOT_JSON_BODY
    else:
        assert spoiled.startswith('{"id": ')
        assert '"topic": "order"' in spoiled


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return False
    return True


async def test_probability_fires_the_same_requests_for_the_same_seed(session):
    outcomes = []
    for _ in range(2):
        async with BybitSimulator(SimulatorConfig(seed=7)) as sim:
            sim.faults.add(
                FaultRule(FaultKind.HTTP_ERROR, scope="/v5/market/time", probability=0.5)
            )
            raw = RawBybit(session, sim)
            pattern = []
            for _ in range(12):
                async with session.get(f"{raw.base}/v5/market/time") as response:
                    pattern.append(response.status)
            outcomes.append(pattern)

    assert outcomes[0] == outcomes[1]
    assert set(outcomes[0]) == {200, 503}


async def test_cleared_faults_stop_firing(sim, exchange):
    sim.faults.add(FaultRule(FaultKind.HTTP_ERROR, scope="*"))
    sim.faults.clear()

    assert await exchange.fetch_time() > 0
    assert sim.faults.rules() == []


def _topics(reader: PrivateReader) -> list[str]:
    return [m["topic"] for m in reader.messages if "topic" in m]
