"""Trace ids over REST: `X-Trace-Id` (or a made-up id) follows an order to the venue call,
its stored row and every message published for it; a malformed one is refused."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from typing import Any

import httpx
import structlog
from tests.integration.api.support import Api, make_settings, running
from tests.waiting import eventually

from ordergate.bus.envelope import Envelope, EnvelopeFold
from ordergate.config.settings import Settings

EUR_MARKET = {"symbol": "EURUSD", "side": "BUY", "qty": "0.10"}
EUR_RESTING = {"symbol": "EURUSD", "side": "BUY", "qty": "0.10", "type": "LIMIT", "price": "1.09"}


def captured_logs() -> Any:
    """Capture log lines with the log context merged in, as `configure_logging` does."""
    return structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars])


def traced(trace_id: str) -> dict[str, str]:
    return {"X-Trace-Id": trace_id}


async def stored_trace_id(api: Api, order_id: str) -> str | None:
    response = await api.http.get(f"/api/v1/orders/{order_id}")
    assert response.status_code == 200, response.text
    trace_id: str | None = response.json()["trace_id"]
    return trace_id


async def published_for(api: Api, order_id: str) -> list[Envelope]:
    """The messages the relay would publish for the order, built from the journal."""
    store = api.application.partition.store
    assert store is not None
    fold = EnvelopeFold(store.partition)
    envelopes = [e async for record in store.records_after(0) for e in fold.envelopes(record)]
    return [e for e in envelopes if json.loads(e.body)["event"].get("order_id") == order_id]


def venue_requests(logs: list[dict[str, Any]], order_id: str) -> list[dict[str, Any]]:
    return [e for e in logs if e["event"] == "venue request" and e["order_id"] == order_id]


async def test_trace_header_follows_the_order_to_venue_store_and_events(api: Api) -> None:
    with captured_logs() as logs:
        response = await api.http.post("/v1/orders", json=EUR_MARKET, headers=traced("bot-42/1"))
        await api.settle()

    assert response.status_code == 201, response.text
    assert response.headers["X-Trace-Id"] == "bot-42/1"
    order_id = response.json()["id"]
    assert response.json()["trace_id"] == "bot-42/1"
    assert await stored_trace_id(api, order_id) == "bot-42/1"
    [submit] = venue_requests(logs, order_id)
    assert (submit["request"], submit["trace_id"]) == ("submit", "bot-42/1")
    published = await published_for(api, order_id)
    assert {"OrderInitialized", "OrderFilled", "PositionChanged"} <= {e.type for e in published}
    assert {e.trace_id for e in published} == {"bot-42/1"}
    assert {json.loads(e.body)["trace_id"] for e in published} == {"bot-42/1"}


async def test_cancel_under_another_trace_id_keeps_the_orders_own(api: Api) -> None:
    placed = await api.http.post("/v1/orders", json=EUR_RESTING, headers=traced("placer"))
    order_id = placed.json()["id"]

    with captured_logs() as logs:
        canceled = await api.http.post(f"/v1/orders/{order_id}/cancel", headers=traced("canceller"))
        await api.settle()

    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["status"] == "CANCELED"
    assert canceled.headers["X-Trace-Id"] == "canceller"
    [cancel] = venue_requests(logs, order_id)
    assert (cancel["request"], cancel["trace_id"]) == ("cancel", "placer")
    published = await published_for(api, order_id)
    assert {"OrderCancelRequested", "OrderCanceled"} <= {e.type for e in published}
    assert {e.trace_id for e in published} == {"placer"}


async def test_no_trace_header_a_made_up_id_is_echoed_and_stored(api: Api) -> None:
    first = await api.http.post("/v1/orders", json=EUR_MARKET)
    second = await api.http.post("/v1/orders", json=EUR_MARKET)

    assert first.status_code == second.status_code == 201
    made_up = first.headers["X-Trace-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made_up)
    assert second.headers["X-Trace-Id"] != made_up
    assert await stored_trace_id(api, first.json()["id"]) == made_up


async def test_malformed_trace_header_is_422_and_places_nothing(api: Api) -> None:
    response = await api.http.post("/v1/orders", json=EUR_MARKET, headers=traced("t" * 65))

    assert response.status_code == 422
    assert response.json()["reason_code"] == "TRACE_ID_INVALID"
    assert await api.orders() == []


async def test_paper_order_close_and_close_all_take_the_request_trace_id(api: Api) -> None:
    paper = await api.http.post("/paper/order", json=EUR_MARKET, headers=traced("paper-1"))
    assert paper.status_code == 201, paper.text
    assert await stored_trace_id(api, paper.json()["id"]) == "paper-1"

    close = await api.http.post(
        "/v1/positions/EURUSD/close", json={"qty": "0.05"}, headers=traced("close-1")
    )
    assert close.status_code == 200, close.text
    assert await stored_trace_id(api, close.json()["id"]) == "close-1"

    close_all = await api.http.post("/v1/admin/close-all", headers=traced("close-all-1"))
    assert close_all.status_code == 200, close_all.text
    [closing] = close_all.json()["closing"]
    assert await stored_trace_id(api, closing["id"]) == "close-all-1"


async def test_key_refusals_and_public_routes_echo_the_trace_id(market: Path) -> None:
    async with running(make_settings(market), scope=None) as keyless:
        refused = await keyless.http.post("/v1/orders", json=EUR_MARKET, headers=traced("nokey"))
        health = await keyless.http.get("/health", headers=traced("probe-1"))

    assert refused.status_code == 401
    assert refused.json()["reason_code"] == "API_KEY_MISSING"
    assert refused.headers["X-Trace-Id"] == "nokey"
    assert health.status_code == 200
    assert health.headers["X-Trace-Id"] == "probe-1"


async def test_ccxt_adapter_lines_during_the_venue_call_carry_the_trace_id() -> None:
    # REST → engine → ccxt → the Bybit simulator, whose first order create answers 5xx:
    # the adapter's own line about the failure is written inside the venue call.
    port = free_port()
    settings = Settings(
        _env_file=None,
        venue="bybit-sim",
        db=":memory:",
        sim_port=port,
        sim_bars_per_second=0,
        venue_request_timeout=1.0,
        venue_retry_base_delay=0.02,
        venue_retry_max_delay=0.2,
        quote_poll_interval=0.05,
        reconcile_interval_seconds=3600,
    )
    control = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/sim")
    async with running(settings) as api, control:
        quote = {"symbol": "BTCUSDT", "bid": "50000.0", "ask": "50010.0"}
        assert (await control.post("/quote", json=quote)).status_code == 200
        await eventually(
            lambda: api.application.partition.wiring.market.quote("BTCUSDT") is not None,
            message="ordergate to see the BTCUSDT quote",
        )
        fault = {"kind": "http_error", "scope": "/v5/order/create", "count": 1}
        assert (await control.post("/faults", json=fault)).status_code == 200

        with captured_logs() as logs:
            response = await api.http.post(
                "/v1/orders",
                json={"symbol": "BTCUSDT", "side": "BUY", "qty": "0.010"},
                headers=traced("ccxt-1"),
            )
            order_id = response.json()["id"]
            await eventually(
                lambda: venue_requests(logs, order_id), message="the logged venue requests"
            )

    assert response.status_code == 201, response.text
    [failed, *_] = [e for e in logs if e["event"] == "venue request failed"]
    assert (failed["what"], failed["trace_id"]) == ("create order", "ccxt-1")
    assert {r["trace_id"] for r in venue_requests(logs, order_id)} == {"ccxt-1"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_openapi_documents_the_trace_header_on_routes_that_place_orders(api: Api) -> None:
    spec = (await api.http.get("/openapi.json")).json()

    def headers(path: str, method: str = "post") -> set[str]:
        parameters = spec["paths"][path][method].get("parameters", [])
        return {p["name"] for p in parameters if p["in"] == "header"}

    assert "X-Trace-Id" in headers("/v1/orders")
    assert "X-Trace-Id" in headers("/paper/order")
