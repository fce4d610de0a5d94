"""/live, /ready and /health; the OpenAPI document and /docs."""

from __future__ import annotations

from datetime import datetime

import pytest
from tests.integration.api.support import Api, market_time

ROUTES = {
    "/v1/orders": {"get", "post"},
    "/v1/orders/{order_id}": {"get"},
    "/v1/orders/{order_id}/cancel": {"post"},
    "/v1/orders/{order_id}/replace": {"post"},
    "/v1/fills": {"get"},
    "/v1/positions": {"get"},
    "/v1/positions/{symbol}/close": {"post"},
    "/v1/account": {"get"},
    "/v1/admin/close-all": {"post"},
    "/health": {"get"},
    "/live": {"get"},
    "/ready": {"get"},
    "/metrics": {"get"},
    "/paper/order": {"post"},
    "/paper/orders": {"get"},
    "/paper/orders/{order_id}": {"get"},
    "/paper/orders/{order_id}/cancel": {"post"},
    "/api/v1/orders": {"get"},
    "/api/v1/orders/{order_id}": {"get"},
    "/api/v1/positions": {"get"},
    "/api/v1/positions/{asset}": {"get"},
    "/api/v1/sync": {"post"},
}


# --- health -----------------------------------------------------------------------------------


async def test_live_running_200_ok(api: Api) -> None:
    response = await api.http.get("/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_running_200_ready(api: Api) -> None:
    response = await api.http.get("/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_health_fresh_start_venue_market_time_and_no_orders(api: Api) -> None:
    response = await api.http.get("/health")

    assert response.status_code == 200
    health = response.json()
    assert health["status"] == "ok"
    assert health["engine_running"] is True
    assert health["venue"] == "paper"
    assert datetime.fromisoformat(health["market_time"]) == market_time(0)
    assert health["orders"] == 0
    assert health["open_orders"] == 0
    assert health["journal_events"] > 0


async def test_health_after_orders_counts_orders_and_events(api: Api) -> None:
    before = (await api.http.get("/health")).json()
    await api.place(symbol="EURUSD", side="BUY", qty="0.10")
    await api.place(symbol="EURUSD", side="BUY", qty="0.10", type="LIMIT", price="1.09000")
    await api.place(symbol="XAUUSD", side="BUY", qty="1")

    health = (await api.http.get("/health")).json()

    assert health["orders"] == 3
    assert health["open_orders"] == 1
    assert health["journal_events"] > before["journal_events"]


async def test_health_market_moves_market_time_follows(api: Api) -> None:
    await api.advance(2)

    health = (await api.http.get("/health")).json()

    assert datetime.fromisoformat(health["market_time"]) == market_time(2)


async def test_ready_engine_stopped_503_and_orders_refused(api: Api) -> None:
    await api.application.partition.engine.stop()

    ready = await api.http.get("/ready")
    health = await api.http.get("/health")
    live = await api.http.get("/live")
    place = await api.http.post("/v1/orders", json={"symbol": "EURUSD", "side": "BUY", "qty": "1"})

    assert ready.status_code == 503
    assert ready.json() == {
        "status": "not ready",
        "failing": [{"name": "engine", "reason": "the engine is not running"}],
    }
    assert health.status_code == 503
    assert health.json()["engine_running"] is False
    assert live.status_code == 200
    assert place.status_code == 503
    assert place.json()["reason_code"] == "ENGINE_STOPPED"


# --- OpenAPI ----------------------------------------------------------------------------------


async def test_openapi_lists_every_route(api: Api) -> None:
    response = await api.http.get("/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    for path, methods in ROUTES.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path


async def test_openapi_place_order_documents_201_200_and_422(api: Api) -> None:
    operation = (await api.http.get("/openapi.json")).json()["paths"]["/v1/orders"]["post"]

    assert {"200", "201", "422"} <= set(operation["responses"])


@pytest.mark.parametrize(
    "parameter",
    [
        "symbol",
        "status",
        "strategy",
        "side",
        "account",
        "since",
        "until",
        "limit",
        "offset",
        "cursor",
        "sort",
        "order",
    ],
)
async def test_openapi_list_orders_documents_query_parameter(api: Api, parameter: str) -> None:
    operation = (await api.http.get("/openapi.json")).json()["paths"]["/v1/orders"]["get"]

    assert parameter in {p["name"] for p in operation["parameters"]}


async def test_docs_200_html(api: Api) -> None:
    response = await api.http.get("/docs")

    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "/openapi.json" in response.text
