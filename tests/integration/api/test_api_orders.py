"""/v1/orders: place, get, list (filters, sorting, paging), cancel and replace."""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.integration.api.support import Api, iso, make_settings, market_time, running

DOCUMENTED_FIELDS = {
    "id",
    "client_order_id",
    "status",
    "symbol",
    "side",
    "qty",
    "filled_qty",
    "avg_fill_price",
    "type",
    "price",
    "reason_code",
    "reason",
    "strategy",
    "created_at",
    "updated_at",
}
EUR_MARKET = {"symbol": "EURUSD", "side": "BUY", "qty": "0.10"}
EUR_RESTING = {
    "symbol": "EURUSD",
    "side": "BUY",
    "qty": "0.10",
    "type": "LIMIT",
    "price": "1.09000",
}


def number_of(order_id: str) -> int:
    return int(order_id.rsplit("-", 1)[1])


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- place ----------------------------------------------------------------------------------


async def test_place_market_order_answers_201_with_documented_fields(api: Api) -> None:
    response = await api.http.post("/v1/orders", json={**EUR_MARKET, "strategy": "trend"})

    assert response.status_code == 201
    order = response.json()
    assert order.keys() >= DOCUMENTED_FIELDS
    assert order["status"] == "FILLED"
    assert (order["symbol"], order["side"], order["type"]) == ("EURUSD", "BUY", "MARKET")
    assert order["strategy"] == "trend"
    assert order["price"] is None
    assert order["reason_code"] is None
    assert order["reason"] is None
    for name in ("qty", "filled_qty", "avg_fill_price"):
        assert isinstance(order[name], str), name
    assert Decimal(order["qty"]) == Decimal("0.10")
    assert Decimal(order["filled_qty"]) == Decimal("0.10")
    assert Decimal(order["avg_fill_price"]) == Decimal("1.10000")
    assert moment(order["created_at"]) == market_time(0)
    assert moment(order["updated_at"]) == market_time(0)
    assert isinstance(order["id"], str)
    assert order["client_order_id"]


async def test_place_limit_order_price_answered_as_string(api: Api) -> None:
    order = await api.place(**EUR_RESTING)

    assert order["status"] == "ACCEPTED"
    assert order["price"] == "1.09000"
    assert order["filled_qty"] == "0"
    assert order["avg_fill_price"] is None


async def test_place_two_orders_distinct_ids_and_client_order_ids(api: Api) -> None:
    first = await api.place(**EUR_MARKET)
    second = await api.place(**EUR_MARKET)

    assert first["id"] != second["id"]
    assert first["client_order_id"] != second["client_order_id"]


async def test_place_same_idempotency_key_answers_200_same_order(api: Api) -> None:
    body = {**EUR_MARKET, "idempotency_key": "bot-1-0001"}
    first = await api.http.post("/v1/orders", json=body)
    second = await api.http.post("/v1/orders", json=body)

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["client_order_id"] == first.json()["client_order_id"]
    assert len(await api.fills()) == 1
    assert len(await api.orders()) == 1


async def test_place_same_key_qty_written_differently_same_order(api: Api) -> None:
    first = await api.place(symbol="EURUSD", side="BUY", qty="0.10", idempotency_key="k")
    second = await api.place(200, symbol="EURUSD", side="BUY", qty=0.1, idempotency_key="k")

    assert second["id"] == first["id"]


async def test_place_same_key_different_body_409_idempotency_key_reused(api: Api) -> None:
    await api.place(**EUR_MARKET, idempotency_key="k")

    response = await api.http.post(
        "/v1/orders", json={**EUR_MARKET, "qty": "0.20", "idempotency_key": "k"}
    )

    assert response.status_code == 409
    assert response.json()["reason_code"] == "IDEMPOTENCY_KEY_REUSED"
    assert len(await api.orders()) == 1
    assert len(await api.fills()) == 1


async def test_place_same_key_other_account_new_order(api: Api) -> None:
    first = await api.place(**EUR_MARKET, idempotency_key="k")
    second = await api.place(**EUR_MARKET, idempotency_key="k", account="alt")

    assert second["id"] != first["id"]
    assert second["account"] == "alt"
    assert second["status"] == "FILLED"


async def test_place_same_key_of_denied_order_answers_same_denial(api: Api) -> None:
    body = {"symbol": "XAUUSD", "side": "BUY", "qty": "1", "idempotency_key": "k"}
    first = await api.place(**body)
    second = await api.place(200, **body)

    assert first["status"] == second["status"] == "DENIED"
    assert second["id"] == first["id"]


@pytest.mark.parametrize(
    ("body", "reason_code"),
    [
        ({"symbol": "EURUSD", "side": "BUY", "qty": "0.001"}, "QTY_BELOW_MIN"),
        ({"symbol": "EURUSD", "side": "BUY", "qty": "0.015"}, "QTY_NOT_ON_STEP"),
        (
            {
                "symbol": "EURUSD",
                "side": "BUY",
                "qty": "0.10",
                "type": "LIMIT",
                "price": "1.090001",
            },
            "PRICE_NOT_ON_TICK",
        ),
        ({"symbol": "XAUUSD", "side": "BUY", "qty": "1"}, "SYMBOL_NOT_ALLOWED"),
        ({"symbol": "BTCUSDT", "side": "BUY", "qty": "300"}, "INSUFFICIENT_MARGIN"),
        ({**EUR_MARKET, "take_profit": "1.09000"}, "INVALID_TAKE_PROFIT"),
        ({**EUR_MARKET, "stop_loss": "1.11000"}, "INVALID_STOP_LOSS"),
        (
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "qty": "0.001",
                "type": "LIMIT",
                "price": "1000.0",
            },
            "NOTIONAL_BELOW_MIN",
        ),
        ({**EUR_MARKET, "account": "nobody"}, "UNKNOWN_ACCOUNT"),
        ({**EUR_MARKET, "reduce_only": True}, "REDUCE_ONLY_NO_POSITION"),
    ],
)
async def test_place_failing_pre_trade_check_201_denied_with_reason_code(
    api: Api, body: dict[str, Any], reason_code: str
) -> None:
    response = await api.http.post("/v1/orders", json=body)

    assert response.status_code == 201
    order = response.json()
    assert order["status"] == "DENIED"
    assert order["reason_code"] == reason_code
    assert order["reason"]
    assert Decimal(order["filled_qty"]) == 0
    assert await api.fills() == []
    assert await api.positions() == {}


async def test_place_denied_order_reserves_no_margin(api: Api) -> None:
    await api.place(symbol="BTCUSDT", side="BUY", qty="300")

    usdt = (await api.account())["USDT"]

    assert Decimal(usdt["used_margin"]) == 0
    assert Decimal(usdt["free_margin"]) == Decimal(100_000)


async def test_place_wait_false_answers_before_venue_then_fills(api: Api) -> None:
    response = await api.http.post("/v1/orders", params={"wait": "false"}, json=EUR_MARKET)

    assert response.status_code == 201
    assert response.json()["status"] in {"NEW", "PENDING_SUBMIT", "SUBMITTED"}
    await api.settle()
    assert (await api.order(response.json()["id"]))["status"] == "FILLED"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"symbol": "EURUSD", "qty": "0.10"}, "side"),
        ({"side": "BUY", "qty": "0.10"}, "symbol"),
        ({"symbol": "EURUSD", "side": "BUY"}, "qty"),
        ({"symbol": "EURUSD", "side": "BUY", "qty": "-0.10"}, "qty"),
        ({"symbol": "EURUSD", "side": "BUY", "qty": 0}, "qty"),
        ({"symbol": "EURUSD", "side": "BUY", "qty": "ten"}, "qty"),
        ({"symbol": "EURUSD", "side": "BUY", "qty": "NaN"}, "qty"),
        ({"symbol": "EURUSD", "side": "BUY", "qty": "Infinity"}, "qty"),
        ({**EUR_MARKET, "side": "HOLD"}, "side"),
        ({**EUR_MARKET, "type": "ICEBERG"}, "type"),
        ({**EUR_MARKET, "time_in_force": "FOREVER"}, "time_in_force"),
        ({**EUR_MARKET, "leverage": 100}, "leverage"),
        ({**EUR_RESTING, "price": "-1.09"}, "price"),
        ({**EUR_MARKET, "symbol": ""}, "symbol"),
        ({**EUR_MARKET, "idempotency_key": ""}, "idempotency_key"),
    ],
)
async def test_place_malformed_body_422_validation_error_names_field(
    api: Api, body: dict[str, Any], field: str
) -> None:
    response = await api.http.post("/v1/orders", json=body)

    assert response.status_code == 422
    error = response.json()
    assert error["reason_code"] == "VALIDATION_ERROR"
    assert any(field in item["loc"] for item in error["detail"]), error["detail"]
    assert await api.orders() == []


async def test_place_body_not_json_422_json_invalid(api: Api) -> None:
    response = await api.http.post(
        "/v1/orders", content=b"symbol=EURUSD", headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["reason_code"] == "JSON_INVALID"


CROSS_FIELD_ERRORS = [
    pytest.param(
        {"symbol": "EURUSD", "side": "BUY", "qty": "0.10", "type": "LIMIT"},
        "price",
        id="limit-without-price",
    ),
    pytest.param({**EUR_MARKET, "price": "1.10000"}, "price", id="price-on-market"),
    pytest.param({**EUR_MARKET, "type": "STOP"}, "stop_price", id="stop-without-stop-price"),
    pytest.param({**EUR_RESTING, "stop_price": "1.08000"}, "stop_price", id="stop-price-on-limit"),
    pytest.param(
        {**EUR_MARKET, "reduce_only": True, "stop_loss": "1.09000"},
        "reduce-only",
        id="reduce-only-with-bracket",
    ),
]


@pytest.mark.parametrize(("body", "field"), CROSS_FIELD_ERRORS)
async def test_place_inconsistent_terms_422_names_field_creates_nothing(
    api: Api, body: dict[str, Any], field: str
) -> None:
    response = await api.http.post("/v1/orders", json=body)

    assert response.status_code == 422
    assert field in json.dumps(response.json()["detail"])
    assert await api.orders() == []


@pytest.mark.parametrize(("body", "field"), CROSS_FIELD_ERRORS[:2])
async def test_place_inconsistent_terms_422_validation_error_field_errors(
    api: Api, body: dict[str, Any], field: str
) -> None:
    response = await api.http.post("/v1/orders", json=body)

    error = response.json()
    assert error["reason_code"] == "VALIDATION_ERROR"
    assert any(field in item["loc"] for item in error["detail"])


async def test_place_huge_qty_refused_engine_keeps_running(api: Api) -> None:
    response = await api.http.post(
        "/v1/orders", json={"symbol": "EURUSD", "side": "BUY", "qty": "1e29"}
    )

    assert response.status_code in {201, 422}
    assert response.json().get("status", "DENIED") == "DENIED"
    assert (await api.http.get("/ready")).status_code == 200
    assert (await api.place(**EUR_MARKET))["status"] == "FILLED"


async def test_place_huge_price_refused_engine_keeps_running(api: Api) -> None:
    response = await api.http.post("/v1/orders", json={**EUR_RESTING, "price": "1e29"})

    assert response.status_code in {201, 422}
    assert (await api.http.get("/ready")).status_code == 200
    assert (await api.place(**EUR_MARKET))["status"] == "FILLED"


async def test_place_same_key_concurrently_one_order_one_fill(api: Api) -> None:
    body = {**EUR_MARKET, "idempotency_key": "burst"}

    responses = await asyncio.gather(*(api.http.post("/v1/orders", json=body) for _ in range(10)))

    assert sorted(r.status_code for r in responses) == [200] * 9 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(await api.orders()) == 1
    assert len(await api.fills()) == 1


@pytest.mark.parametrize(("tif", "reason_code"), [("IOC", "IOC_UNFILLED"), ("FOK", "FOK_UNFILLED")])
async def test_place_unmarketable_immediate_limit_answers_canceled_with_reason(
    api: Api, tif: str, reason_code: str
) -> None:
    order = await api.place(**EUR_RESTING, time_in_force=tif)

    assert order["status"] == "CANCELED"
    assert order["reason_code"] == reason_code
    assert await api.fills() == []


async def test_place_marketable_ioc_limit_answers_filled(api: Api) -> None:
    order = await api.place(**{**EUR_RESTING, "price": "1.10000"}, time_in_force="IOC")

    assert order["status"] == "FILLED"
    assert Decimal(order["avg_fill_price"]) == Decimal("1.10000")


async def test_place_buy_stop_rests_then_fills_when_market_rises_through(api: Api) -> None:
    order = await api.place(
        symbol="EURUSD", side="BUY", qty="0.10", type="STOP", stop_price="1.10300"
    )
    assert order["status"] == "ACCEPTED"

    await api.advance()  # 1.10200: not yet
    assert (await api.order(order["id"]))["status"] == "ACCEPTED"
    await api.advance()  # 1.10400: gapped through the stop

    filled = await api.order(order["id"])
    assert filled["status"] == "FILLED"
    assert Decimal(filled["avg_fill_price"]) == Decimal("1.10400")


# --- get --------------------------------------------------------------------------------------


async def test_get_order_placed_answers_same_order(api: Api) -> None:
    placed = await api.place(**EUR_MARKET)

    assert await api.order(placed["id"]) == placed


async def test_get_order_unknown_id_404_order_not_found(api: Api) -> None:
    response = await api.http.get("/v1/orders/0-999")

    assert response.status_code == 404
    error = response.json()
    assert error["reason_code"] == "ORDER_NOT_FOUND"
    assert "0-999" in error["detail"]


# --- list -------------------------------------------------------------------------------------


@dataclass
class Book:
    """Orders placed over three market minutes, by name (see `book`)."""

    ids: dict[str, str]

    def __call__(self, *names: str) -> set[str]:
        return {self.ids[name] for name in names}


@pytest.fixture
async def book(api: Api) -> Book:
    """Eight orders: two symbols, two accounts, two strategies, every side and outcome.

    minute 0: eur_buy (FILLED, A), btc_buy (FILLED, B), eur_rest (LIMIT, A; canceled at
              minute 2), alt_sell (account alt, FILLED)
    minute 1: eur_sell (FILLED, B), btc_rest (SELL LIMIT, stays open), denied (DENIED)
    minute 2: eur_late (FILLED)
    """
    ids: dict[str, str] = {}

    async def place(name: str, **body: Any) -> None:
        ids[name] = (await api.place(**body))["id"]

    await place("eur_buy", **EUR_MARKET, strategy="A")
    await place("btc_buy", symbol="BTCUSDT", side="BUY", qty="0.010", strategy="B")
    await place("eur_rest", **EUR_RESTING, strategy="A")
    await place("alt_sell", symbol="EURUSD", side="SELL", qty="0.10", account="alt")
    await api.advance()
    await place("eur_sell", symbol="EURUSD", side="SELL", qty="0.05", strategy="B")
    await place(
        "btc_rest", symbol="BTCUSDT", side="SELL", qty="0.010", type="LIMIT", price="45000.0"
    )
    await place("denied", symbol="XAUUSD", side="BUY", qty="1")
    await api.advance()
    canceled = await api.http.post(f"/v1/orders/{ids['eur_rest']}/cancel")
    assert canceled.json()["status"] == "CANCELED"
    await place("eur_late", **EUR_MARKET)
    return Book(ids)


ALL = ("eur_buy", "btc_buy", "eur_rest", "alt_sell", "eur_sell", "btc_rest", "denied", "eur_late")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ALL),
        ({"symbol": "EURUSD"}, ("eur_buy", "eur_rest", "alt_sell", "eur_sell", "eur_late")),
        ({"symbol": "BTCUSDT"}, ("btc_buy", "btc_rest")),
        ({"symbol": "GBPUSD"}, ()),
        ({"status": "FILLED"}, ("eur_buy", "btc_buy", "alt_sell", "eur_sell", "eur_late")),
        ({"status": "CANCELED"}, ("eur_rest",)),
        ({"status": "DENIED"}, ("denied",)),
        ({"status": "ACCEPTED"}, ("btc_rest",)),
        ({"status": ["CANCELED", "DENIED"]}, ("eur_rest", "denied")),
        ({"status": "CANCELED,DENIED"}, ("eur_rest", "denied")),
        ({"status": "canceled, denied"}, ("eur_rest", "denied")),
        ({"strategy": "A"}, ("eur_buy", "eur_rest")),
        ({"strategy": "B"}, ("btc_buy", "eur_sell")),
        ({"side": "SELL"}, ("alt_sell", "eur_sell", "btc_rest")),
        ({"account": "alt"}, ("alt_sell",)),
        ({"account": "default"}, tuple(n for n in ALL if n != "alt_sell")),
        ({"since": iso(market_time(1))}, ("eur_sell", "btc_rest", "denied", "eur_late")),
        ({"until": iso(market_time(1))}, ("eur_buy", "btc_buy", "eur_rest", "alt_sell")),
        (
            {"since": iso(market_time(1)), "until": iso(market_time(2))},
            ("eur_sell", "btc_rest", "denied"),
        ),
        ({"since": "2024-01-02T01:03:00+01:00"}, ("eur_late",)),
        ({"since": "2024-01-02T00:03:00"}, ("eur_late",)),
        ({"symbol": "EURUSD", "status": "FILLED", "side": "BUY"}, ("eur_buy", "eur_late")),
    ],
)
async def test_list_orders_filter_answers_matching_orders(
    api: Api, book: Book, params: dict[str, Any], expected: tuple[str, ...]
) -> None:
    response = await api.http.get("/v1/orders", params=params)

    assert response.status_code == 200, response.text
    ids = [o["id"] for o in response.json()["items"]]
    assert len(ids) == len(set(ids))
    assert set(ids) == book(*expected)
    assert response.json()["next_cursor"] is None


async def test_list_orders_default_newest_first(api: Api, book: Book) -> None:
    items = (await api.http.get("/v1/orders")).json()["items"]

    keys = [(moment(o["created_at"]), number_of(o["id"])) for o in items]
    assert keys == sorted(keys, reverse=True)
    assert items[0]["id"] == book.ids["eur_late"]


async def test_list_orders_unknown_status_422_bad_status(api: Api) -> None:
    response = await api.http.get("/v1/orders", params={"status": "FILLED,DONE"})

    assert response.status_code == 422
    assert response.json()["reason_code"] == "BAD_STATUS"


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 1001},
        {"limit": -1},
        {"offset": -1},
        {"sort": "price"},
        {"order": "up"},
        {"since": "yesterday"},
        {"side": "buy"},
    ],
)
async def test_list_orders_bad_query_parameter_422_validation_error(
    api: Api, params: dict[str, Any]
) -> None:
    response = await api.http.get("/v1/orders", params=params)

    assert response.status_code == 422
    assert response.json()["reason_code"] == "VALIDATION_ERROR"


def sort_key(field: str) -> Any:
    return lambda o: (moment(o[field]), number_of(o["id"]))


async def walk_cursor(api: Api, limit: int, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(100):
        query = {**params, "limit": limit} | ({} if cursor is None else {"cursor": cursor})
        response = await api.http.get("/v1/orders", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
        assert page["items"], "a page with a next cursor must not be empty"
    raise AssertionError("cursor paging did not end")


async def walk_offset(api: Api, limit: int, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for offset in range(0, 1000, limit):
        response = await api.http.get(
            "/v1/orders", params={**params, "limit": limit, "offset": offset}
        )
        assert response.status_code == 200, response.text
        page = response.json()["items"]
        if not page:
            return items
        items += page
    raise AssertionError("offset paging did not end")


@pytest.mark.parametrize("sort", ["created_at", "updated_at"])
@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("limit", [1, 3])
async def test_list_orders_cursor_walk_every_order_once_in_order(
    api: Api, book: Book, sort: str, order: str, limit: int
) -> None:
    items = await walk_cursor(api, limit, sort=sort, order=order)

    ids = [o["id"] for o in items]
    assert len(ids) == len(set(ids)) == len(ALL)
    assert set(ids) == book(*ALL)
    assert items == sorted(items, key=sort_key(sort), reverse=order == "desc")


@pytest.mark.parametrize("sort", ["created_at", "updated_at"])
@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_list_orders_offset_walk_every_order_once_in_order(
    api: Api, book: Book, sort: str, order: str
) -> None:
    items = await walk_offset(api, 3, sort=sort, order=order)

    ids = [o["id"] for o in items]
    assert len(ids) == len(set(ids)) == len(ALL)
    assert items == sorted(items, key=sort_key(sort), reverse=order == "desc")


async def test_list_orders_updated_at_sort_differs_from_created_at(api: Api, book: Book) -> None:
    by_created = [o["id"] for o in await api.orders(sort="created_at", order="asc")]
    by_updated = [o["id"] for o in await api.orders(sort="updated_at", order="asc")]

    assert by_created != by_updated
    assert by_updated[-2:] == [book.ids["eur_rest"], book.ids["eur_late"]]


async def test_list_orders_cursor_walk_with_filter_only_matching(api: Api, book: Book) -> None:
    items = await walk_cursor(api, 2, symbol="EURUSD", order="asc")

    assert [o["id"] for o in items] == [
        book.ids[n] for n in ("eur_buy", "eur_rest", "alt_sell", "eur_sell", "eur_late")
    ]


async def test_list_orders_last_full_page_no_next_cursor(api: Api, book: Book) -> None:
    first = (await api.http.get("/v1/orders", params={"limit": 4})).json()
    second = (
        await api.http.get("/v1/orders", params={"limit": 4, "cursor": first["next_cursor"]})
    ).json()

    assert len(second["items"]) == 4
    assert second["next_cursor"] is None


async def test_list_orders_cursor_wins_over_offset(api: Api, book: Book) -> None:
    first = (await api.http.get("/v1/orders", params={"limit": 2})).json()
    with_offset = await api.http.get(
        "/v1/orders", params={"limit": 2, "cursor": first["next_cursor"], "offset": 5}
    )
    without = await api.http.get("/v1/orders", params={"limit": 2, "cursor": first["next_cursor"]})

    assert with_offset.json() == without.json()


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!",
        "abc",
        encode_cursor("abc"),
        encode_cursor([1, 2]),
        encode_cursor(None),
        encode_cursor({"ts": 1}),
        encode_cursor(["a", "b", "c"]),
    ],
)
async def test_list_orders_bad_cursor_422_bad_cursor(api: Api, book: Book, cursor: str) -> None:
    response = await api.http.get("/v1/orders", params={"cursor": cursor})

    assert response.status_code == 422
    assert response.json()["reason_code"] == "BAD_CURSOR"


async def test_list_orders_out_of_range_cursor_sqlite_422_bad_cursor(
    market: Path, tmp_path: Path
) -> None:
    async with running(make_settings(market, db=str(tmp_path / "og.db"))) as api:
        await api.place(**EUR_MARKET)
        response = await api.http.get(
            "/v1/orders", params={"cursor": encode_cursor([10**30, 0, 1])}
        )

        assert response.status_code == 422
        assert response.json()["reason_code"] == "BAD_CURSOR"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/orders", {"until": "3000-01-01T00:00:00Z"}),
        ("/v1/orders", {"since": "0001-01-01T00:00:00Z"}),
        ("/v1/fills", {"until": "3000-01-01T00:00:00Z"}),
    ],
)
async def test_list_far_time_bound_sqlite_answers_not_500(
    market: Path, tmp_path: Path, path: str, params: dict[str, str]
) -> None:
    async with running(make_settings(market, db=str(tmp_path / "og.db"))) as api:
        await api.place(**EUR_MARKET)
        response = await api.http.get(path, params=params)

        assert response.status_code in {200, 422}
        if response.status_code == 200:
            assert len(response.json()["items"]) == 1


# --- cancel -----------------------------------------------------------------------------------


async def test_cancel_resting_limit_answers_canceled(api: Api) -> None:
    order = await api.place(**EUR_RESTING)

    response = await api.http.post(f"/v1/orders/{order['id']}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "CANCELED"
    assert response.json()["id"] == order["id"]
    assert (await api.order(order["id"]))["status"] == "CANCELED"


async def test_cancel_with_reason_body_answers_canceled(api: Api) -> None:
    order = await api.place(**EUR_RESTING)

    response = await api.http.post(f"/v1/orders/{order['id']}/cancel", json={"reason": "flat"})

    assert response.status_code == 200
    assert response.json()["status"] == "CANCELED"


async def test_cancel_canceled_order_never_fills_later(api: Api) -> None:
    order = await api.place(symbol="EURUSD", side="BUY", qty="0.10", type="LIMIT", price="1.09800")
    await api.http.post(f"/v1/orders/{order['id']}/cancel")

    await api.advance(3)  # the third bar trades at 1.09800

    assert (await api.order(order["id"]))["status"] == "CANCELED"
    assert await api.fills() == []


async def test_cancel_filled_order_409_order_already_terminal(api: Api) -> None:
    order = await api.place(**EUR_MARKET)

    response = await api.http.post(f"/v1/orders/{order['id']}/cancel")

    assert response.status_code == 409
    assert response.json()["reason_code"] == "ORDER_ALREADY_TERMINAL"
    assert (await api.order(order["id"]))["status"] == "FILLED"


async def test_cancel_twice_second_409_order_already_terminal(api: Api) -> None:
    order = await api.place(**EUR_RESTING)
    await api.http.post(f"/v1/orders/{order['id']}/cancel")

    response = await api.http.post(f"/v1/orders/{order['id']}/cancel")

    assert response.status_code == 409
    assert response.json()["reason_code"] == "ORDER_ALREADY_TERMINAL"


async def test_cancel_denied_order_409_order_already_terminal(api: Api) -> None:
    order = await api.place(symbol="XAUUSD", side="BUY", qty="1")

    response = await api.http.post(f"/v1/orders/{order['id']}/cancel")

    assert response.status_code == 409
    assert response.json()["reason_code"] == "ORDER_ALREADY_TERMINAL"


async def test_cancel_unknown_order_404_order_not_found(api: Api) -> None:
    response = await api.http.post("/v1/orders/0-999/cancel")

    assert response.status_code == 404
    assert response.json()["reason_code"] == "ORDER_NOT_FOUND"


# --- replace ----------------------------------------------------------------------------------


async def test_replace_price_of_resting_limit_answers_new_price(api: Api) -> None:
    order = await api.place(**EUR_RESTING)

    response = await api.http.post(f"/v1/orders/{order['id']}/replace", json={"price": "1.08500"})

    assert response.status_code == 200
    replaced = response.json()
    assert replaced["id"] == order["id"]
    assert replaced["status"] == "ACCEPTED"
    assert Decimal(replaced["price"]) == Decimal("1.08500")
    assert Decimal(replaced["qty"]) == Decimal("0.10")
    assert await api.order(order["id"]) == replaced


async def test_replace_qty_of_resting_limit_answers_new_qty(api: Api) -> None:
    order = await api.place(**EUR_RESTING)

    response = await api.http.post(f"/v1/orders/{order['id']}/replace", json={"qty": "0.30"})

    assert response.status_code == 200
    assert Decimal(response.json()["qty"]) == Decimal("0.30")
    assert Decimal(response.json()["price"]) == Decimal("1.09000")


async def test_replace_price_through_market_fills_at_market(api: Api) -> None:
    order = await api.place(**EUR_RESTING)

    response = await api.http.post(f"/v1/orders/{order['id']}/replace", json={"price": "1.10500"})

    assert response.status_code == 200
    await api.settle()
    filled = await api.order(order["id"])
    assert filled["status"] == "FILLED"
    assert Decimal(filled["avg_fill_price"]) == Decimal("1.10000")


async def test_replace_new_price_is_the_one_that_fills(api: Api) -> None:
    order = await api.place(**EUR_RESTING)
    await api.http.post(f"/v1/orders/{order['id']}/replace", json={"price": "1.09800"})

    await api.advance(3)  # 1.10200, 1.10400, 1.09800

    filled = await api.order(order["id"])
    assert filled["status"] == "FILLED"
    assert Decimal(filled["avg_fill_price"]) == Decimal("1.09800")


async def test_replace_filled_order_409_order_already_terminal(api: Api) -> None:
    order = await api.place(**EUR_MARKET)

    response = await api.http.post(f"/v1/orders/{order['id']}/replace", json={"qty": "0.20"})

    assert response.status_code == 409
    assert response.json()["reason_code"] == "ORDER_ALREADY_TERMINAL"


async def test_replace_canceled_order_409_order_already_terminal(api: Api) -> None:
    order = await api.place(**EUR_RESTING)
    await api.http.post(f"/v1/orders/{order['id']}/cancel")

    response = await api.http.post(f"/v1/orders/{order['id']}/replace", json={"price": "1.08"})

    assert response.status_code == 409
    assert response.json()["reason_code"] == "ORDER_ALREADY_TERMINAL"


async def test_replace_empty_body_422_order_unchanged(api: Api) -> None:
    order = await api.place(**EUR_RESTING)

    response = await api.http.post(f"/v1/orders/{order['id']}/replace", json={})

    assert response.status_code == 422
    assert await api.order(order["id"]) == order


async def test_replace_no_body_422_validation_error(api: Api) -> None:
    order = await api.place(**EUR_RESTING)

    response = await api.http.post(f"/v1/orders/{order['id']}/replace")

    assert response.status_code == 422
    assert response.json()["reason_code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"price": "-1"}, "price"), ({"qty": "abc"}, "qty"), ({"side": "SELL"}, "side")],
)
async def test_replace_malformed_body_422_validation_error(
    api: Api, body: dict[str, Any], field: str
) -> None:
    order = await api.place(**EUR_RESTING)

    response = await api.http.post(f"/v1/orders/{order['id']}/replace", json=body)

    assert response.status_code == 422
    assert response.json()["reason_code"] == "VALIDATION_ERROR"
    assert any(field in item["loc"] for item in response.json()["detail"])


async def test_replace_same_terms_422_order_unchanged(api: Api) -> None:
    order = await api.place(**EUR_RESTING)

    response = await api.http.post(f"/v1/orders/{order['id']}/replace", json={"price": "1.09"})

    assert response.status_code == 422
    assert await api.order(order["id"]) == order


async def test_replace_off_tick_price_409_price_not_on_tick(api: Api) -> None:
    order = await api.place(**EUR_RESTING)

    response = await api.http.post(f"/v1/orders/{order['id']}/replace", json={"price": "1.085001"})

    assert response.status_code == 409
    assert response.json()["reason_code"] == "PRICE_NOT_ON_TICK"
    assert await api.order(order["id"]) == order


async def test_replace_beyond_free_margin_409_insufficient_margin(api: Api) -> None:
    order = await api.place(
        symbol="BTCUSDT", side="BUY", qty="1.000", type="LIMIT", price="30000.0"
    )

    response = await api.http.post(f"/v1/orders/{order['id']}/replace", json={"qty": "400.000"})

    assert response.status_code == 409
    assert response.json()["reason_code"] == "INSUFFICIENT_MARGIN"
    assert Decimal((await api.order(order["id"]))["qty"]) == 1


async def test_replace_huge_qty_refused_engine_keeps_running(api: Api) -> None:
    order = await api.place(**EUR_RESTING)

    response = await api.http.post(f"/v1/orders/{order['id']}/replace", json={"qty": "1e29"})

    assert response.status_code in {409, 422}
    assert (await api.http.get("/ready")).status_code == 200
    assert await api.order(order["id"]) == order


async def test_replace_unknown_order_404_order_not_found(api: Api) -> None:
    response = await api.http.post("/v1/orders/0-999/replace", json={"price": "1.09"})

    assert response.status_code == 404
    assert response.json()["reason_code"] == "ORDER_NOT_FOUND"
