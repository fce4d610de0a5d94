"""The seed paper OMS's API under /paper, over the ordergate engine.

The first five tests are the seed's own (`tests/test_oms.py`, same names), run with the
seed's settings (`OMS_MIN_QTY`, `OMS_ALLOWED_SYMBOLS`) against both journals; the others
run the seed's example curl requests and pin how /paper maps ordergate's statuses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from tests.integration.api.support import Api, running

from ordergate.config.settings import Settings

SEED_CURL_BODY = {
    "symbol": "EURUSD",
    "side": "BUY",
    "qty": 0.10,
    "type": "market",
    "stop_loss": 1.0950,
    "take_profit": 1.1050,
    "idempotency_key": "oms-demo-001",
}


@pytest.fixture(params=["memory", "sqlite"])
async def seed_api(
    request: pytest.FixtureRequest, market: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Api]:
    """The app configured the seed's way, from the environment, on either journal."""
    db = ":memory:" if request.param == "memory" else str(tmp_path / "seed.db")
    for name, value in {
        "OMS_MIN_QTY": "0.05",
        "OMS_ALLOWED_SYMBOLS": "EURUSD,BTCUSDT",
        "ORDERGATE_DB": db,
        "ORDERGATE_PAPER_BARS_PER_SECOND": "0",
        "ORDERGATE_PAPER_DATA": str(market),
    }.items():
        monkeypatch.setenv(name, value)
    async with running(Settings()) as api:
        yield api


async def test_place_order_filled_creates_fill(seed_api: Api) -> None:
    api = seed_api
    order = await api.paper_place(symbol="EURUSD", side="BUY", qty="0.10", type="market")

    assert order["status"] == "FILLED"
    assert Decimal(order["filled_qty"]) == Decimal("0.10")
    assert Decimal(order["fill_price"]) == Decimal("1.10000")
    fills = await api.fills(order_id=order["id"])
    assert len(fills) == 1
    assert fills[0]["order_id"] == order["id"]
    assert Decimal(fills[0]["qty"]) == Decimal("0.10")
    assert Decimal(fills[0]["price"]) == Decimal("1.10000")


async def test_place_order_rejected_no_fill_no_position_change(seed_api: Api) -> None:
    api = seed_api
    await api.paper_place(symbol="EURUSD", side="BUY", qty="0.10", type="market")
    positions_before = await api.positions()
    fills_before = await api.fills()

    order = await api.paper_place(symbol="EURUSD", side="BUY", qty="0.01", type="market")

    assert order["status"] == "REJECTED"
    assert order["reason_code"] == "QTY_BELOW_MIN"
    assert order["reject_reason"]
    assert Decimal(order["filled_qty"]) == 0
    assert order["fill_price"] is None
    assert await api.fills(order_id=order["id"]) == []
    assert await api.fills() == fills_before
    assert await api.positions() == positions_before
    assert Decimal(positions_before["EURUSD"]["qty"]) == Decimal("0.10")


async def test_idempotency_key_returns_same_order(seed_api: Api) -> None:
    api = seed_api
    body = {"symbol": "EURUSD", "side": "BUY", "qty": "0.10", "idempotency_key": "seed-key-1"}
    first = await api.http.post("/paper/order", json=body)
    second = await api.http.post("/paper/order", json=body)

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["status"] == "FILLED"
    assert len(await api.fills()) == 1
    assert Decimal((await api.positions())["EURUSD"]["qty"]) == Decimal("0.10")


async def test_list_orders_filters_work(seed_api: Api) -> None:
    api = seed_api
    eur_filled = await api.paper_place(symbol="EURUSD", side="BUY", qty="0.10")
    btc_filled = await api.paper_place(symbol="BTCUSDT", side="BUY", qty="0.100")
    eur_rejected = await api.paper_place(symbol="EURUSD", side="BUY", qty="0.01")
    # /paper is market-only: a resting order of the default account comes from /v1.
    eur_new = await api.place(
        symbol="EURUSD", side="BUY", qty="0.10", type="LIMIT", price="1.09000"
    )

    async def ids(**params: str) -> set[str]:
        response = await api.http.get("/paper/orders", params=params)
        assert response.status_code == 200, response.text
        return {o["id"] for o in response.json()}

    assert await ids() == {eur_filled["id"], btc_filled["id"], eur_rejected["id"], eur_new["id"]}
    assert await ids(symbol="EURUSD") == {eur_filled["id"], eur_rejected["id"], eur_new["id"]}
    assert await ids(symbol="BTCUSDT") == {btc_filled["id"]}
    assert await ids(status="FILLED") == {eur_filled["id"], btc_filled["id"]}
    assert await ids(status="REJECTED") == {eur_rejected["id"]}
    assert await ids(status="NEW") == {eur_new["id"]}
    assert await ids(status="CANCELED") == set()
    assert await ids(symbol="EURUSD", status="FILLED") == {eur_filled["id"]}
    assert await ids(symbol="BTCUSDT", status="REJECTED") == set()
    assert await ids(symbol="GBPUSD") == set()


async def test_cancel_new_order(seed_api: Api) -> None:
    api = seed_api
    placed = await api.place(symbol="EURUSD", side="BUY", qty="0.10", type="LIMIT", price="1.09")
    order = (await api.http.get(f"/paper/orders/{placed['id']}")).json()
    assert order["status"] == "NEW"

    canceled = await api.http.post(f"/paper/orders/{order['id']}/cancel")
    again = await api.http.post(f"/paper/orders/{order['id']}/cancel")

    assert canceled.status_code == 200
    assert canceled.json()["status"] == "CANCELED"
    assert again.status_code == 409
    assert again.json()["reason_code"] == "ORDER_ALREADY_TERMINAL"
    assert (await api.http.get(f"/paper/orders/{order['id']}")).json()["status"] == "CANCELED"
    assert await api.fills() == []


async def test_paper_seed_curl_body_market_near_110_fills(api: Api) -> None:
    response = await api.http.post("/paper/order", json=SEED_CURL_BODY)

    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "FILLED"
    assert order["symbol"] == "EURUSD"
    assert order["side"] == "BUY"
    assert order["type"] == "market"
    assert order["idempotency_key"] == "oms-demo-001"
    assert Decimal(order["qty"]) == Decimal("0.10")
    assert Decimal(order["filled_qty"]) == Decimal("0.10")
    assert Decimal(order["fill_price"]) == Decimal("1.10000")
    assert Decimal(order["stop_loss"]) == Decimal("1.0950")
    assert Decimal(order["take_profit"]) == Decimal("1.1050")
    assert order["reject_reason"] is None


async def test_paper_seed_curl_list_filled_eurusd_lists_order(api: Api) -> None:
    order = (await api.http.post("/paper/order", json=SEED_CURL_BODY)).json()

    response = await api.http.get("/paper/orders?symbol=EURUSD&status=FILLED&limit=50")

    assert response.status_code == 200
    assert [o["id"] for o in response.json()] == [order["id"]]


async def test_paper_seed_curl_cancel_filled_order_409(api: Api) -> None:
    order = (await api.http.post("/paper/order", json=SEED_CURL_BODY)).json()

    response = await api.http.post(f"/paper/orders/{order['id']}/cancel")

    assert response.status_code == 409
    assert response.json()["reason_code"] == "ORDER_ALREADY_TERMINAL"
    assert (await api.http.get(f"/paper/orders/{order['id']}")).json()["status"] == "FILLED"


async def test_paper_seed_curl_body_twice_same_order_one_fill(api: Api) -> None:
    first = await api.http.post("/paper/order", json=SEED_CURL_BODY)
    second = await api.http.post("/paper/order", json=SEED_CURL_BODY)

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == first.json()
    assert len(await api.fills()) == 1


async def test_paper_idempotency_key_other_body_409(api: Api) -> None:
    await api.paper_place(symbol="EURUSD", side="BUY", qty="0.10", idempotency_key="k")

    response = await api.http.post(
        "/paper/order",
        json={"symbol": "EURUSD", "side": "SELL", "qty": "0.10", "idempotency_key": "k"},
    )

    assert response.status_code == 409
    assert response.json()["reason_code"] == "IDEMPOTENCY_KEY_REUSED"
    assert len(await api.fills()) == 1


async def test_paper_get_unknown_order_404(api: Api) -> None:
    response = await api.http.get("/paper/orders/0-999")

    assert response.status_code == 404
    assert response.json()["reason_code"] == "ORDER_NOT_FOUND"


async def test_paper_cancel_unknown_order_404(api: Api) -> None:
    response = await api.http.post("/paper/orders/0-999/cancel")

    assert response.status_code == 404
    assert response.json()["reason_code"] == "ORDER_NOT_FOUND"


async def test_paper_risk_denial_reported_as_rejected_with_reason(api: Api) -> None:
    order = await api.paper_place(symbol="XAUUSD", side="BUY", qty="1")

    assert order["status"] == "REJECTED"
    assert order["reason_code"] == "SYMBOL_NOT_ALLOWED"
    assert "XAUUSD" in order["reject_reason"]


async def test_paper_status_filter_unknown_value_422(api: Api) -> None:
    response = await api.http.get("/paper/orders", params={"status": "PENDING"})

    assert response.status_code == 422
    assert response.json()["reason_code"] == "VALIDATION_ERROR"


async def test_paper_order_visible_in_v1_api(api: Api) -> None:
    order = await api.paper_place(symbol="EURUSD", side="BUY", qty="0.10")

    v1 = await api.order(order["id"])

    assert v1["status"] == "FILLED"
    assert v1["account"] == "default"
    assert v1["type"] == "MARKET"


async def test_paper_limit_order_is_rejected_as_the_seed_is_market_only(api: Api) -> None:
    order = await api.paper_place(
        symbol="EURUSD", side="BUY", qty="0.10", type="limit", price="1.09800"
    )

    assert order["status"] == "REJECTED"
    assert order["reason_code"] == "UNSUPPORTED_ORDER_TYPE"
    assert "MARKET" in order["reject_reason"]
    assert Decimal(order["filled_qty"]) == 0
    await api.advance(3)  # 1.10200, 1.10400, then 1.09800: it would have been touched
    assert (await api.http.get(f"/paper/orders/{order['id']}")).json()["status"] == "REJECTED"
    assert await api.fills() == []


async def test_v1_limit_order_of_the_default_account_shows_on_paper_and_fills(api: Api) -> None:
    placed = await api.place(symbol="EURUSD", side="BUY", qty="0.10", type="LIMIT", price="1.09800")

    await api.advance(3)  # 1.10200, 1.10400, then 1.09800: touched

    filled = (await api.http.get(f"/paper/orders/{placed['id']}")).json()
    assert filled["status"] == "FILLED"
    assert filled["type"] == "limit"
    assert Decimal(filled["fill_price"]) == Decimal("1.09800")
