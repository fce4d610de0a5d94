"""POST /v1/reconcile and the seed 002 POST /api/v1/sync: a structured diff per account.

The background reconciler is stopped in these tests (`quiet`), so that only the request
under test reconciles and nothing races it; the routes call `Reconciler.run` directly.
Differences are made at the paper venue itself: an order placed there behind ordergate's
back is an ORDER_UNKNOWN, and its fill a FILL_MISSING.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.integration.api.support import Api, make_settings, running

from ordergate.auth.keys import Scope
from ordergate.domain.events import AlertRaised, ReconciliationRecorded
from ordergate.domain.values import OrderType, Side, TimeInForce
from ordergate.engine.venue_reports import VenueOrderRequest

D = Decimal
ALERT_ALL = {
    "order_missing": "ALERT",
    "order_unknown": "ALERT",
    "order_mismatch": "ALERT",
    "fill_missing": "ALERT",
    "position_mismatch": "ALERT",
}


async def quiet(api: Api) -> Api:
    """Stop the background reconciler: only the requests of the test reconcile."""
    await api.application.partition.engine.stop_reconciling()
    return api


async def place_at_venue(
    api: Api,
    client_order_id: str,
    *,
    order_type: OrderType = OrderType.LIMIT,
    price: str | None = "1.09000",
    account: str = "default",
) -> None:
    """An order placed at the venue by someone else: ordergate never saw it."""
    await api.venue.submit_order(
        VenueOrderRequest(
            client_order_id=client_order_id,
            account=account,
            symbol="EURUSD",
            side=Side.BUY,
            type=order_type,
            qty=D("0.10"),
            price=None if price is None else D(price),
            stop_price=None,
            time_in_force=TimeInForce.GTC,
            reduce_only=False,
        )
    )
    await api.settle()


def journaled(api: Api, kind: type) -> list[Any]:
    return [e for e in api.application.partition.store.events() if isinstance(e, kind)]


async def post(api: Api, path: str, expected: int = 200, **params: str) -> Any:
    response = await api.http.post(path, params=params)
    assert response.status_code == expected, response.text
    return response.json()


# --- agreement ----------------------------------------------------------------------------------


async def test_reconcile_agreeing_answers_agreed_report_per_account(api: Api) -> None:
    await quiet(api)
    await api.place(symbol="EURUSD", side="BUY", qty="0.10")

    reports = await post(api, "/v1/reconcile")

    assert reports == [
        {"account": "alt", "scope": "all", "agreed": True, "diffs": [], "actions": []},
        {"account": "default", "scope": "all", "agreed": True, "diffs": [], "actions": []},
    ]


async def test_reconcile_one_account_answers_only_that_account(api: Api) -> None:
    await quiet(api)

    reports = await post(api, "/v1/reconcile", account="alt", scope="orders")

    assert [(r["account"], r["scope"]) for r in reports] == [("alt", "orders")]
    recorded = journaled(api, ReconciliationRecorded)
    assert (recorded[-1].account, recorded[-1].scope) == ("alt", "orders")


# --- differences --------------------------------------------------------------------------------


async def test_reconcile_order_unknown_answers_structured_diff_and_action(market: Path) -> None:
    async with running(make_settings(market, reconcile=ALERT_ALL)) as api:
        await quiet(api)
        await place_at_venue(api, "manual-1")

        reports = await post(api, "/v1/reconcile", account="default")

        assert len(reports) == 1
        result = reports[0]
        assert result["agreed"] is False
        assert len(result["diffs"]) == 1
        diff = result["diffs"][0]
        assert diff["kind"] == "ORDER_UNKNOWN"
        assert diff["symbol"] == "EURUSD"
        assert diff["client_order_id"] == "manual-1"
        assert diff["ours"] is None
        assert diff["venue"] == "ACCEPTED"
        assert "0.10" in diff["detail"]
        assert result["actions"] == [f"alerted ORDER_UNKNOWN EURUSD: {diff['detail']}"]
        alerts = journaled(api, AlertRaised)
        assert [(a.kind, a.account, a.symbol) for a in alerts] == [
            ("RECONCILIATION", "default", "EURUSD")
        ]


@pytest.mark.parametrize(
    ("scope", "kinds"),
    [
        ("orders", ["ORDER_UNKNOWN"]),
        ("positions", ["FILL_MISSING"]),
        ("all", ["ORDER_UNKNOWN", "FILL_MISSING"]),
    ],
)
async def test_sync_scope_answers_only_its_kinds_of_diff(
    market: Path, scope: str, kinds: list[str]
) -> None:
    async with running(make_settings(market, reconcile=ALERT_ALL)) as api:
        await quiet(api)
        await place_at_venue(api, "manual-rest")  # rests: ORDER_UNKNOWN
        await place_at_venue(api, "manual-fill", order_type=OrderType.MARKET, price=None)

        reports = await post(api, "/api/v1/sync", scope=scope)

        by_account = {r["account"]: r for r in reports}
        assert set(by_account) == {"alt", "default"}
        assert by_account["alt"]["agreed"] is True
        default = by_account["default"]
        assert default["scope"] == scope
        assert [d["kind"] for d in default["diffs"]] == kinds
        for diff in default["diffs"]:
            expected = "manual-rest" if diff["kind"] == "ORDER_UNKNOWN" else "manual-fill"
            assert diff["client_order_id"] == expected
            assert diff["symbol"] == "EURUSD"
        assert len(default["actions"]) == len(kinds)


async def test_sync_without_scope_reconciles_orders(api: Api) -> None:
    await quiet(api)

    reports = await post(api, "/api/v1/sync")

    assert {r["scope"] for r in reports} == {"orders"}


@pytest.mark.parametrize("path", ["/v1/reconcile", "/api/v1/sync"])
async def test_reconcile_bad_scope_is_422(api: Api, path: str) -> None:
    body = await post(api, path, 422, scope="everything")

    assert body["reason_code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize("path", ["/v1/reconcile", "/api/v1/sync"])
async def test_reconcile_trade_key_is_refused_403(market: Path, path: str) -> None:
    async with running(make_settings(market), scope=Scope.TRADE) as api:
        body = await post(api, path, 403)

    assert body["reason_code"] == "API_KEY_SCOPE"


async def test_reconcile_default_policy_adopts_external_order(api: Api) -> None:
    await quiet(api)
    await place_at_venue(api, "manual-1")

    reports = await post(api, "/v1/reconcile", account="default")

    assert reports[0]["actions"] == ["adopted external order manual-1"]
    assert reports[0]["agreed"] is True
    assert api.application.partition.engine.running
    listed = await api.orders()
    assert [o["client_order_id"] for o in listed] == ["manual-1"]


async def test_reconcile_venue_unreachable_is_503(api: Api) -> None:
    await quiet(api)
    await api.venue.disconnect()

    body = await post(api, "/v1/reconcile", 503)

    assert body["reason_code"] == "VENUE_RETRYABLE"
