"""API keys on the REST API: refusals by code, what each scope may do, public routes,
OpenAPI, and a router added after the fact getting the same protection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from tests.integration.api.support import Api, make_settings, running
from tests.integration.auth.auth_support import headers, key_id_of, new_key, refusal

from ordergate.api.app import create_app
from ordergate.api.auth import CallerDep
from ordergate.auth import Scope

RESTING = {"symbol": "EURUSD", "side": "BUY", "qty": "0.10", "type": "LIMIT", "price": "1.09000"}
MARKET = {"symbol": "EURUSD", "side": "BUY", "qty": "0.10"}
PAPER = {"symbol": "EURUSD", "side": "BUY", "qty": 0.1, "type": "market"}

PRIVATE: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/v1/orders", None),
    ("POST", "/v1/orders", MARKET),
    ("GET", "/v1/orders/0-1", None),
    ("POST", "/v1/orders/0-1/cancel", None),
    ("GET", "/v1/fills", None),
    ("GET", "/v1/positions", None),
    ("POST", "/v1/positions/EURUSD/close", None),
    ("GET", "/v1/account", None),
    ("POST", "/v1/admin/close-all", None),
    ("GET", "/paper/orders", None),
    ("POST", "/paper/order", PAPER),
]
READS = [(m, p, b) for m, p, b in PRIVATE if m == "GET" and p != "/v1/orders/0-1"]
WRITES = [(m, p, b) for m, p, b in PRIVATE if m != "GET" and "/admin/" not in p]
PUBLIC = ["/health", "/live", "/ready", "/docs", "/openapi.json"]


@pytest.fixture
async def api(market: Path) -> AsyncIterator[Api]:
    """A running in-memory app and a client that sends no key unless told."""
    async with running(make_settings(market), scope=None) as client:
        yield client


async def call(
    api: Api, method: str, path: str, body: dict[str, Any] | None, key: str | None = None
) -> httpx.Response:
    return await api.http.request(
        method, path, json=body, headers=None if key is None else headers(key)
    )


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "body"), PRIVATE)
async def test_request_without_key_401_api_key_missing(
    api: Api, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = await call(api, method, path, body)

    assert refusal(response) == (401, "API_KEY_MISSING")
    assert response.headers["WWW-Authenticate"] == "APIKey"


async def test_request_without_key_places_nothing(api: Api) -> None:
    await call(api, "POST", "/v1/orders", MARKET)
    await call(api, "POST", "/paper/order", PAPER)

    assert api.application.partition.engine.state.orders == {}


@pytest.mark.parametrize(
    "presented",
    [
        "secret",
        "og_",
        "Bearer og_0123456789ab_" + "a" * 43,
        "og_0123456789AB_" + "a" * 43,  # the id is lowercase hex
        "og_0123456789ab_" + "a" * 42,
        "og_0123456789ab_" + "a" * 43 + "x",
        "xx_0123456789ab_" + "a" * 43,
    ],
)
async def test_request_malformed_key_401_api_key_invalid(api: Api, presented: str) -> None:
    response = await call(api, "GET", "/v1/orders", None, presented)

    assert refusal(response) == (401, "API_KEY_INVALID")


async def test_request_wrong_secret_for_known_id_401_api_key_invalid(api: Api) -> None:
    key = new_key(api, Scope.ADMIN)
    forged = f"og_{key_id_of(key)}_{'A' * 43}"

    response = await call(api, "GET", "/v1/orders", None, forged)

    assert refusal(response) == (401, "API_KEY_INVALID")


async def test_request_revoked_key_same_answer_as_unknown_key(api: Api) -> None:
    revoked = new_key(api, Scope.ADMIN)
    api.application.keys.revoke(key_id_of(revoked), actor="tests")
    unknown = "og_0123456789ab_" + "a" * 43

    to_revoked = await call(api, "GET", "/v1/orders", None, revoked)
    to_unknown = await call(api, "GET", "/v1/orders", None, unknown)

    assert refusal(to_revoked) == (401, "API_KEY_INVALID")
    assert to_revoked.json() == to_unknown.json()


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
async def test_read_key_trade_route_403_api_key_scope_names_trade(
    api: Api, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = await call(api, method, path, body, new_key(api, Scope.READ))

    assert refusal(response) == (403, "API_KEY_SCOPE")
    assert "'trade'" in response.json()["detail"]


async def test_read_key_place_order_refused_nothing_placed(api: Api) -> None:
    await call(api, "POST", "/v1/orders", MARKET, new_key(api, Scope.READ))

    assert api.application.partition.engine.state.orders == {}


@pytest.mark.parametrize("scope", [Scope.READ, Scope.TRADE])
async def test_key_below_admin_close_all_403_api_key_scope_names_admin(
    api: Api, scope: Scope
) -> None:
    trade = new_key(api, Scope.TRADE)
    placed = await call(api, "POST", "/v1/orders", RESTING, trade)

    response = await call(api, "POST", "/v1/admin/close-all", None, new_key(api, scope))

    assert refusal(response) == (403, "API_KEY_SCOPE")
    assert "'admin'" in response.json()["detail"]
    order = await call(api, "GET", f"/v1/orders/{placed.json()['id']}", None, trade)
    assert order.json()["status"] == "ACCEPTED"


@pytest.mark.parametrize("path", ["/v1/reconcile", "/api/v1/sync", "/v1/admin/state"])
async def test_trade_key_admin_exception_route_403_names_admin(api: Api, path: str) -> None:
    response = await call(api, "POST", path, {}, new_key(api, Scope.TRADE))

    assert refusal(response) == (403, "API_KEY_SCOPE")
    assert "'admin'" in response.json()["detail"]


# --- what each scope may do ---------------------------------------------------------------------


async def test_read_key_order_preview_not_refused(api: Api) -> None:
    response = await call(api, "POST", "/v1/orders/preview", MARKET, new_key(api, Scope.READ))

    assert response.status_code not in (401, 403, 404, 429), response.text
    assert api.application.partition.engine.state.orders == {}


@pytest.mark.parametrize(("method", "path", "body"), READS)
async def test_read_key_get_route_200(
    api: Api, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = await call(api, method, path, body, new_key(api, Scope.READ))

    assert response.status_code == 200, response.text


async def test_read_key_get_order_placed_by_trade_key_200(api: Api) -> None:
    placed = await call(api, "POST", "/v1/orders", RESTING, new_key(api, Scope.TRADE))

    got = await call(
        api, "GET", f"/v1/orders/{placed.json()['id']}", None, new_key(api, Scope.READ)
    )

    assert got.status_code == 200
    assert got.json()["id"] == placed.json()["id"]


async def test_trade_key_place_replace_cancel_2xx(api: Api) -> None:
    key = new_key(api, Scope.TRADE)

    placed = await call(api, "POST", "/v1/orders", RESTING, key)
    order_id = placed.json()["id"]
    replaced = await call(api, "POST", f"/v1/orders/{order_id}/replace", {"price": "1.09100"}, key)
    canceled = await call(api, "POST", f"/v1/orders/{order_id}/cancel", None, key)
    paper = await call(api, "POST", "/paper/order", PAPER, key)

    assert placed.status_code == 201, placed.text
    assert replaced.status_code == 200, replaced.text
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "CANCELED"
    assert paper.status_code == 201, paper.text


async def test_admin_key_every_route_2xx(api: Api) -> None:
    key = new_key(api, Scope.ADMIN)
    resting = (await call(api, "POST", "/v1/orders", RESTING, key)).json()["id"]
    steps = [
        ("POST", "/v1/orders", MARKET),
        ("GET", "/v1/orders", None),
        ("GET", f"/v1/orders/{resting}", None),
        ("POST", f"/v1/orders/{resting}/replace", {"price": "1.09100"}),
        ("POST", f"/v1/orders/{resting}/cancel", None),
        ("GET", "/v1/fills", None),
        ("GET", "/v1/positions", None),
        ("GET", "/v1/account", None),
        ("POST", "/paper/order", PAPER),
        ("GET", "/paper/orders", None),
        ("POST", "/v1/positions/EURUSD/close", None),
        ("POST", "/v1/admin/close-all", None),
    ]

    statuses = {(m, p): (await call(api, m, p, b, key)).status_code for m, p, b in steps}

    assert all(200 <= s < 300 for s in statuses.values()), statuses


# --- public routes and OpenAPI ----------------------------------------------------------------


@pytest.mark.parametrize("path", PUBLIC)
async def test_public_route_without_key_200(api: Api, path: str) -> None:
    response = await api.http.get(path)

    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/health", "/ready"])
async def test_public_route_with_invalid_key_still_200(api: Api, path: str) -> None:
    response = await api.http.get(path, headers=headers("not-a-key"))

    assert response.status_code == 200


async def test_openapi_api_key_scheme_on_private_routes_not_public_ones(api: Api) -> None:
    document = (await api.http.get("/openapi.json")).json()

    scheme = document["components"]["securitySchemes"]["ApiKey"]
    assert scheme == scheme | {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    paths = document["paths"]
    assert paths["/v1/orders"]["post"]["security"] == [{"ApiKey": []}]
    assert paths["/v1/admin/close-all"]["post"]["security"] == [{"ApiKey": []}]
    assert paths["/paper/orders"]["get"]["security"] == [{"ApiKey": []}]
    for path in ("/health", "/live", "/ready"):
        assert paths[path]["get"]["security"] == [], path


# --- a router added later ---------------------------------------------------------------------


def widgets_router() -> APIRouter:
    """What another engineer's new router looks like: no auth code of its own."""
    router = APIRouter(prefix="/v1/widgets")

    @router.get("")
    async def list_widgets(key: CallerDep) -> dict[str, str]:
        return {"caller": key.key_id}

    @router.post("")
    async def make_widget() -> dict[str, str]:
        return {"made": "yes"}

    @router.post("/admin/reset")
    async def reset_widgets() -> dict[str, str]:
        return {"reset": "yes"}

    return router


@pytest.fixture
async def widgets(market: Path) -> AsyncIterator[Api]:
    app = create_app(make_settings(market))
    app.include_router(widgets_router())
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://ordergate.test") as client,
    ):
        yield Api(app, client)


async def test_router_included_later_without_key_401(widgets: Api) -> None:
    response = await widgets.http.get("/v1/widgets")

    assert refusal(response) == (401, "API_KEY_MISSING")


async def test_router_included_later_scopes_by_method_and_admin_segment(widgets: Api) -> None:
    read = new_key(widgets, Scope.READ)
    trade = new_key(widgets, Scope.TRADE)

    listed = await widgets.http.get("/v1/widgets", headers=headers(read))
    made_by_read = await widgets.http.post("/v1/widgets", headers=headers(read))
    made_by_trade = await widgets.http.post("/v1/widgets", headers=headers(trade))
    reset_by_trade = await widgets.http.post("/v1/widgets/admin/reset", headers=headers(trade))

    assert listed.status_code == 200
    assert listed.json() == {"caller": key_id_of(read)}
    assert refusal(made_by_read) == (403, "API_KEY_SCOPE")
    assert made_by_trade.status_code == 200
    assert refusal(reset_by_trade) == (403, "API_KEY_SCOPE")
