"""The simulator's payloads have the shape of Bybit's recorded ones, key by key.

For every endpoint and topic with a recording in the reference folder, the simulator's
answer is compared with the recording recursively (a list through its first element):
a missing or extra key fails and names its path, and so does a value of another JSON
type (string, number, boolean, object, list) where the recording has a value.

Where a recording is known to be trimmed, the keys real Bybit sends anyway are listed
in `RECORDING_OMITS` with why; nothing else may differ.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from tests.integration.simulators.bybit.support import PrivateReader, RawBybit
from tests.waiting import eventually

REPO = Path(__file__).resolve().parents[4]
REFERENCE = REPO.parent / "shared" / "reference" / "bybit-v5"

pytestmark = pytest.mark.skipif(
    not REFERENCE.is_dir(),
    reason=f"Bybit reference payloads not found at {REFERENCE} (they sit beside the repository)",
)

RECORDING_OMITS: dict[str, set[str]] = {
    # Every v5 REST answer carries the full envelope; these two recordings were cut.
    "http_get_orderbook.json": {"retExtInfo"},
    "http_get_account_info.json": {"retExtInfo", "time"},
    # Bybit's wallet topic names the account type; ccxt routes the update by it. It also
    # carries what Bybit documents for the topic and the REST wallet recording has (the
    # total spelled `totalPerpUPL`, the coin's valuation and collateral keys), which
    # NautilusTrader's schema requires; the recorded `totalPerpUpl` is kept beside it.
    "ws_account_wallet.json": {
        "data[0].accountType",
        "data[0].totalPerpUPL",
        *(
            f"data[0].coin[0].{key}"
            for key in (
                "usdValue",
                "unrealisedPnl",
                "cumRealisedPnl",
                "bonus",
                "collateralSwitch",
                "marginCollateral",
                "locked",
                "spotHedgingQty",
            )
        ),
    },
    # The two instrument recordings were trimmed differently: this one lost the market
    # order maximum that `http_get_instruments_linear.json` keeps (NautilusTrader needs it).
    "http_get_instruments_linear_symbol_type.json": {"result.list[0].lotSizeFilter.maxMktOrderQty"},
    # The recorded auth answer is the trade stream's spelling; Bybit documents the private
    # stream's as `success`, `ret_msg`, `conn_id` (what NautilusTrader reads): both are sent.
    "ws_auth_success.json": {"ret_msg", "conn_id"},
    "ws_auth_failure.json": {"ret_msg", "conn_id"},
}


def shape_differences(recorded: Any, served: Any, path: str = "") -> Iterator[str]:
    """Every path where `served` departs from `recorded`'s keys or value types."""
    if recorded is None:
        return
    if _kind(recorded) != _kind(served):
        yield f"{path or '<root>'}: recorded {_kind(recorded)}, served {_kind(served)}"
        return
    if isinstance(recorded, dict):
        for key in sorted(recorded.keys() - served.keys()):
            yield f"{path}{'.' if path else ''}{key}: missing"
        for key in sorted(served.keys() - recorded.keys()):
            yield f"{path}{'.' if path else ''}{key}: extra"
        for key in sorted(recorded.keys() & served.keys()):
            yield from shape_differences(
                recorded[key], served[key], f"{path}{'.' if path else ''}{key}"
            )
    elif isinstance(recorded, list) and recorded:
        if not served:
            yield f"{path}: recorded a non-empty list, served an empty one"
        else:
            yield from shape_differences(recorded[0], served[0], f"{path}[0]")


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", dict: "object", list: "list"}.get(type(value), "null")


def assert_shape(recording: str, served: Any) -> None:
    recorded = json.loads((REFERENCE / recording).read_text())
    allowed = RECORDING_OMITS.get(recording, set())
    problems = [
        problem
        for problem in shape_differences(recorded, served)
        if problem.rsplit(":", 1)[0] not in allowed or not problem.endswith("extra")
    ]
    assert problems == [], f"{recording}: {problems}"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def traded(sim, raw: RawBybit, session) -> AsyncIterator[PrivateReader]:
    """A private reader subscribed to every topic, then a fill, an open order and a cancel."""
    reader = PrivateReader(await session.ws_connect(sim.ws_private_url))
    key, secret = sim.api_credentials
    await reader.auth(key, secret)
    await reader.subscribe("order", "execution", "position", "wallet")
    await raw.create(symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.01", orderLinkId="m1")
    await raw.create(symbol="BTCUSDT", side="Buy", orderType="Limit", qty="0.01", price="40000")
    cancelled = await raw.create(
        symbol="BTCUSDT", side="Sell", orderType="Limit", qty="0.01", price="60000"
    )
    await raw.post(
        "/v5/order/cancel",
        {"category": "linear", "symbol": "BTCUSDT", "orderId": cancelled["result"]["orderId"]},
    )
    await eventually(lambda: len(reader.topic("wallet")) == 4, message="every update")
    yield reader
    await reader.close()


@pytest.mark.parametrize(
    ("recording", "path", "params"),
    [
        ("http_get_wallet_balance.json", "/v5/account/wallet-balance", {"accountType": "UNIFIED"}),
        (
            "http_get_positions.json",
            "/v5/position/list",
            {"category": "linear", "symbol": "BTCUSDT"},
        ),
        ("http_get_executions.json", "/v5/execution/list", {"category": "linear"}),
        (
            "http_get_orders_realtime.json",
            "/v5/order/realtime",
            {"category": "linear", "settleCoin": "USDT"},
        ),
        ("http_get_orders_history.json", "/v5/order/history", {"category": "linear"}),
        ("http_get_fee_rate.json", "/v5/account/fee-rate", {"category": "linear"}),
        ("http_get_account_info.json", "/v5/account/info", {}),
        ("http_get_user_query_api.json", "/v5/user/query-api", {}),
    ],
)
async def test_private_rest_answer_has_the_recorded_shape(traded, raw, recording, path, params):
    answer, _ = await raw.get(path, params)

    assert answer["retCode"] == 0, answer
    assert_shape(recording, answer)


@pytest.mark.parametrize(
    ("recording", "path", "params"),
    [
        (
            "http_get_instruments_linear_symbol_type.json",
            "/v5/market/instruments-info",
            {"category": "linear"},
        ),
        (
            "http_get_orderbook.json",
            "/v5/market/orderbook",
            {"category": "linear", "symbol": "BTCUSDT"},
        ),
    ],
)
async def test_public_rest_answer_has_the_recorded_shape(sim, raw, recording, path, params):
    answer = await raw.public(path, params)

    assert_shape(recording, answer)


@pytest.mark.parametrize(
    ("recording", "topic"),
    [
        ("ws_account_order.json", "order"),
        ("ws_account_execution.json", "execution"),
        ("ws_account_position.json", "position"),
        ("ws_account_wallet.json", "wallet"),
    ],
)
async def test_private_topic_message_has_the_recorded_shape(traded, recording, topic):
    for message in traded.topic(topic):
        assert_shape(recording, message)


@pytest.mark.parametrize(
    ("order_type", "price", "recording"),
    [
        ("Market", None, "ws_account_order_stop_market.json"),
        ("Limit", "48900", "ws_account_order_stop_limit.json"),
    ],
)
async def test_conditional_orders_have_the_recorded_shapes(
    sim, raw, session, order_type, price, recording
):
    reader = PrivateReader(await session.ws_connect(sim.ws_private_url))
    key, secret = sim.api_credentials
    await reader.auth(key, secret)
    await reader.subscribe("order")
    terms = {"orderType": order_type, "triggerPrice": "49000", "triggerDirection": 2}
    if price is not None:
        terms["price"] = price
    placed = await raw.create(symbol="BTCUSDT", side="Sell", qty="0.01", **terms)
    await eventually(lambda: len(reader.topic("order")) == 1, message="the untriggered order")
    answer, _ = await raw.get(
        "/v5/order/realtime",
        {"category": "linear", "symbol": "BTCUSDT", "orderFilter": "StopOrder"},
    )
    await reader.close()

    assert placed["retCode"] == 0, placed
    [message] = reader.topic("order")
    assert message["data"][0]["orderStatus"] == "Untriggered"
    assert_shape(recording, message)
    assert_shape("http_get_orders_realtime_tp_sl.json", answer)


async def test_stream_control_answers_have_the_recorded_shapes(sim, session):
    key, secret = sim.api_credentials
    good = PrivateReader(await session.ws_connect(sim.ws_private_url))
    bad = PrivateReader(await session.ws_connect(sim.ws_private_url))

    assert_shape("ws_auth_success.json", await good.auth(key, secret))
    assert_shape("ws_auth_failure.json", await bad.auth("not-the-key", secret))
    assert_shape("ws_subscription_ack.json", await good.subscribe("order"))
    await good.send({"op": "subscribe", "args": ["invalid.topic.BTCUSDT"]})
    failure = await good.next_where(lambda m: m.get("success") is False)
    assert_shape("ws_subscription_failure.json", failure)
    await good.close()
    await bad.close()


def test_shape_differences_name_missing_extra_and_retyped_paths():
    recorded = {"a": "1", "b": [{"c": 1, "d": None}], "e": True}
    served = {"a": 1, "b": [{"c": 2, "d": "x", "z": 0}], "f": True}

    assert list(shape_differences(recorded, served)) == [
        "e: missing",
        "f: extra",
        "a: recorded string, served number",
        "b[0].z: extra",
    ]
