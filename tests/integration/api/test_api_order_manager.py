"""Seed 002's query routes under /api/v1, over the ordergate engine and read models.

Orders are placed through /v1/orders on the still market of `support` (flat bars:
BTCUSDT 40000, 41000, 39000, 42000; EURUSD 1.10000, 1.10200, 1.10400, 1.09800), then read
back through the seed's routes and compared with what /v1 answers for the same orders.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.integration.api.support import Api, iso, make_settings, market_time, running

from ordergate.api.routers.order_manager import (
    MAX_OFFSET,
    ORDERGATE_STATUSES_OF,
    SEED_STATUS_OF,
    SeedStatus,
)
from ordergate.auth.keys import Scope
from ordergate.domain.values import OrderStatus

D = Decimal

SEED_STATUS_NAMES = ("pending", "partially_filled", "filled", "cancelled", "rejected")
ROUTES = (
    "/api/v1/orders",
    "/api/v1/orders/0-1",
    "/api/v1/positions",
    "/api/v1/positions/BTCUSDT",
)


@pytest.fixture
async def om(api: Api) -> Api:
    """The in-memory app of `conftest`, serving the seed routes."""
    return api


@pytest.fixture(params=["memory", "sqlite"])
async def journaled(
    request: pytest.FixtureRequest, market: Path, tmp_path: Path
) -> AsyncIterator[Api]:
    """An app serving the seed routes on either journal (paging and sorting are the store's)."""
    db = ":memory:" if request.param == "memory" else str(tmp_path / "journal.db")
    async with running(make_settings(market, db=db)) as api:
        yield api


@dataclass
class Book:
    """The orders of the `book` fixture by name, and the app they were placed on."""

    api: Api
    ids: dict[str, str]

    def named(self, *names: str) -> list[str]:
        return [self.ids[name] for name in names]


# Placement order; minute 0 for the first four, minute 1 for the next two, minute 2 last.
CREATED_ORDER = (
    "btc_market",
    "eur_market",
    "btc_resting",
    "denied",
    "btc_canceled",
    "eur_limit",
    "alt_market",
    "ioc",
)
# eur_limit rests from minute 1 and fills at minute 3; btc_canceled is canceled at minute 1.
UPDATED_ORDER = (
    "btc_market",
    "eur_market",
    "btc_resting",
    "denied",
    "btc_canceled",
    "alt_market",
    "ioc",
    "eur_limit",
)


@pytest.fixture
async def book(journaled: Api) -> Book:
    """Eight orders over four minutes; the market is then at minute 3 (BTC 42000, EUR 1.098).

    minute 0: btc_market BUY 0.010 BTCUSDT @ 40000 (alpha), eur_market BUY 0.10 EURUSD
              @ 1.10000 (beta), btc_resting BUY 0.010 BTCUSDT LIMIT 30000 (alpha, rests),
              denied BUY 0.0005 BTCUSDT (below the minimum quantity)
    minute 1: btc_canceled SELL 0.010 BTCUSDT LIMIT 50000 (canceled at once),
              eur_limit BUY 0.10 EURUSD LIMIT 1.09800 (beta; fills at minute 3)
    minute 2: alt_market BUY 0.005 BTCUSDT @ 39000 in account alt,
              ioc BUY 0.010 BTCUSDT LIMIT 30000 IOC (canceled unfilled)
    """
    api = journaled
    ids: dict[str, str] = {}

    async def place(name: str, status: str, **body: Any) -> None:
        order = await api.place(**body)
        assert order["status"] == status, order
        ids[name] = order["id"]

    btc = {"symbol": "BTCUSDT", "qty": "0.010"}
    await place("btc_market", "FILLED", **btc, side="BUY", strategy="alpha")
    await place("eur_market", "FILLED", symbol="EURUSD", side="BUY", qty="0.10", strategy="beta")
    await place(
        "btc_resting", "ACCEPTED", **btc, side="BUY", type="LIMIT", price="30000", strategy="alpha"
    )
    await place("denied", "DENIED", symbol="BTCUSDT", side="BUY", qty="0.0005")
    await api.advance()
    await place("btc_canceled", "ACCEPTED", **btc, side="SELL", type="LIMIT", price="50000")
    canceled = await api.http.post(f"/v1/orders/{ids['btc_canceled']}/cancel")
    assert canceled.json()["status"] == "CANCELED", canceled.text
    await place(
        "eur_limit",
        "ACCEPTED",
        symbol="EURUSD",
        side="BUY",
        qty="0.10",
        type="LIMIT",
        price="1.09800",
        strategy="beta",
    )
    await api.advance()
    await place("alt_market", "FILLED", symbol="BTCUSDT", side="BUY", qty="0.005", account="alt")
    await place(
        "ioc", "CANCELED", **btc, side="BUY", type="LIMIT", price="30000", time_in_force="IOC"
    )
    await api.advance()
    assert (await api.order(ids["eur_limit"]))["status"] == "FILLED"
    return Book(api, ids)


async def seed_page(api: Api, expected_status: int = 200, /, **params: Any) -> dict[str, Any]:
    response = await api.http.get("/api/v1/orders", params=params)
    assert response.status_code == expected_status, response.text
    page: dict[str, Any] = response.json()
    return page


async def seed_ids(api: Api, **params: Any) -> list[str]:
    """The ids of one page of /api/v1/orders, in the order they came."""
    return [o["id"] for o in (await seed_page(api, **params))["orders"]]


# --- the status table -------------------------------------------------------------------------


def test_status_table_maps_every_ordergate_status_to_exactly_one_seed_status() -> None:
    assert set(SEED_STATUS_OF) == set(OrderStatus)
    assert [s.value for s in SeedStatus] == list(SEED_STATUS_NAMES)
    groups = list(ORDERGATE_STATUSES_OF.values())
    assert sum(len(g) for g in groups) == len(OrderStatus)
    assert frozenset().union(*groups) == frozenset(OrderStatus)
    expected = {
        SeedStatus.pending: {
            OrderStatus.NEW,
            OrderStatus.PENDING_SUBMIT,
            OrderStatus.SUBMITTED,
            OrderStatus.ACCEPTED,
            OrderStatus.PENDING_REPLACE,
            OrderStatus.PENDING_CANCEL,
            OrderStatus.UNKNOWN,
        },
        SeedStatus.partially_filled: {OrderStatus.PARTIALLY_FILLED},
        SeedStatus.filled: {OrderStatus.FILLED},
        SeedStatus.cancelled: {OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.PLANNED},
        SeedStatus.rejected: {OrderStatus.REJECTED, OrderStatus.DENIED},
    }
    assert expected == ORDERGATE_STATUSES_OF


# --- listing: filters -------------------------------------------------------------------------


async def test_orders_without_filters_lists_every_account_newest_created_first(book: Book) -> None:
    page = await seed_page(book.api)

    assert [o["id"] for o in page["orders"]] == book.named(*reversed(CREATED_ORDER))
    assert (page["limit"], page["offset"], page["has_more"]) == (100, 0, False)
    assert set(page) == {"orders", "limit", "offset", "has_more"}


@pytest.mark.parametrize(
    ("status", "names"),
    [
        ("pending", {"btc_resting"}),
        ("partially_filled", set()),
        ("filled", {"btc_market", "eur_market", "eur_limit", "alt_market"}),
        ("cancelled", {"btc_canceled", "ioc"}),
        ("rejected", {"denied"}),
    ],
)
async def test_orders_status_filter_selects_orders_whose_status_maps_to_it(
    book: Book, status: str, names: set[str]
) -> None:
    orders = (await seed_page(book.api, status=status))["orders"]

    assert {o["id"] for o in orders} == set(book.named(*names))
    for order in orders:
        assert order["status"] == status
        assert OrderStatus(order["ordergate_status"]) in ORDERGATE_STATUSES_OF[SeedStatus(status)]


async def test_orders_each_status_field_is_the_table_view_of_ordergate_status(book: Book) -> None:
    orders = (await seed_page(book.api))["orders"]

    by_name = {name: next(o for o in orders if o["id"] == book.ids[name]) for name in book.ids}
    seen = {name: (o["status"], o["ordergate_status"]) for name, o in by_name.items()}
    assert seen == {
        "btc_market": ("filled", "FILLED"),
        "eur_market": ("filled", "FILLED"),
        "btc_resting": ("pending", "ACCEPTED"),
        "denied": ("rejected", "DENIED"),
        "btc_canceled": ("cancelled", "CANCELED"),
        "eur_limit": ("filled", "FILLED"),
        "alt_market": ("filled", "FILLED"),
        "ioc": ("cancelled", "CANCELED"),
    }
    for order in orders:
        assert order["status"] == SEED_STATUS_OF[OrderStatus(order["ordergate_status"])].value


async def test_orders_status_list_comma_separated_or_repeated_any_case_is_a_union(
    book: Book,
) -> None:
    expected = set(book.named("btc_resting", "denied"))

    assert set(await seed_ids(book.api, status="pending,rejected")) == expected
    assert set(await seed_ids(book.api, status=["pending", "rejected"])) == expected
    assert set(await seed_ids(book.api, status="PENDING, Rejected")) == expected
    assert set(await seed_ids(book.api, status="")) == set(book.ids.values())


async def test_orders_asset_account_strategy_and_side_filters_combine(book: Book) -> None:
    api = book.api

    assert set(await seed_ids(api, asset="EURUSD")) == set(book.named("eur_market", "eur_limit"))
    assert set(await seed_ids(api, asset="BTCUSDT", status="filled")) == set(
        book.named("btc_market", "alt_market")
    )
    assert await seed_ids(api, account="alt") == book.named("alt_market")
    assert set(await seed_ids(api, account="default")) == set(book.ids.values()) - {
        book.ids["alt_market"]
    }
    assert set(await seed_ids(api, strategy="alpha")) == set(
        book.named("btc_market", "btc_resting")
    )
    assert await seed_ids(api, strategy="beta", asset="BTCUSDT") == []
    assert await seed_ids(api, side="sell") == book.named("btc_canceled")
    assert await seed_ids(api, side="SELL", status="filled") == []
    assert await seed_ids(api, asset="XAUUSD") == []
    assert await seed_ids(api, account="nobody") == []


# --- listing: sorting and paging --------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort_by", "sort_order", "expected"),
    [
        ("created_at", "asc", CREATED_ORDER),
        ("created_at", "desc", tuple(reversed(CREATED_ORDER))),
        ("updated_at", "asc", UPDATED_ORDER),
        ("updated_at", "desc", tuple(reversed(UPDATED_ORDER))),
    ],
)
async def test_orders_sort_by_and_sort_order_order_the_list(
    book: Book, sort_by: str, sort_order: str, expected: tuple[str, ...]
) -> None:
    orders = (await seed_page(book.api, sort_by=sort_by, sort_order=sort_order))["orders"]

    assert [o["id"] for o in orders] == book.named(*expected)
    stamps = [o[sort_by] for o in orders]
    assert stamps == sorted(stamps, reverse=sort_order == "desc")


async def test_orders_pages_of_three_cover_the_list_once_and_flag_more(book: Book) -> None:
    pages = [
        await seed_page(book.api, limit=3, offset=offset, sort_order="asc") for offset in (0, 3, 6)
    ]

    assert [p["has_more"] for p in pages] == [True, True, False]
    assert [(p["limit"], p["offset"]) for p in pages] == [(3, 0), (3, 3), (3, 6)]
    assert [o["id"] for p in pages for o in p["orders"]] == book.named(*CREATED_ORDER)


async def test_orders_page_ending_on_the_last_row_has_no_more(book: Book) -> None:
    last = await seed_page(book.api, limit=4, offset=4)
    past = await seed_page(book.api, limit=4, offset=8)
    one_short = await seed_page(book.api, limit=4, offset=3)

    assert (len(last["orders"]), last["has_more"]) == (4, False)
    assert (past["orders"], past["has_more"]) == ([], False)
    assert (len(one_short["orders"]), one_short["has_more"]) == (4, True)


async def test_orders_largest_offset_answers_an_empty_page(journaled: Api) -> None:
    await journaled.place(symbol="EURUSD", side="BUY", qty="0.10")

    page = await seed_page(journaled, offset=MAX_OFFSET, limit=1000)

    assert (page["orders"], page["has_more"], page["offset"]) == ([], False, MAX_OFFSET)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 1001},
        {"offset": -1},
        {"offset": MAX_OFFSET + 1},
        {"sort_by": "price"},
        {"sort_order": "up"},
        {"side": "long"},
    ],
)
async def test_orders_bad_paging_or_sorting_422_validation_error(
    om: Api, params: dict[str, Any]
) -> None:
    body = await seed_page(om, 422, **params)

    assert body["reason_code"] == "VALIDATION_ERROR"
    assert [error["loc"][:2] for error in body["detail"]] == [["query", next(iter(params))]]


async def test_orders_unknown_status_422_naming_the_accepted_statuses(om: Api) -> None:
    body = await seed_page(om, 422, status="filled,open")

    assert body["reason_code"] == "VALIDATION_ERROR"
    (error,) = body["detail"]
    assert error["loc"][:2] == ["query", "status"]
    assert error["input"] == "open"
    for name in SEED_STATUS_NAMES:
        assert f"'{name}'" in error["msg"]


# --- one order --------------------------------------------------------------------------------


async def test_order_fields_equal_the_v1_answer_where_they_overlap(book: Book) -> None:
    api = book.api
    orders = (await seed_page(api))["orders"]
    assert len(orders) == len(book.ids)

    for order in orders:
        v1 = await api.order(order["id"])
        view = await api.application.reads.order(order["id"])
        assert view is not None
        assert order["order_id"] == v1["venue_order_id"]
        assert order["asset"] == v1["symbol"]
        assert order["side"] == v1["side"].lower()
        assert order["order_type"] == v1["type"].lower()
        assert order["quantity"] == v1["qty"]
        assert order["filled_quantity"] == v1["filled_qty"]
        assert order["average_price"] == v1["avg_fill_price"]
        assert order["ordergate_status"] == v1["status"]
        assert order["reject_reason"] == (v1["reason"] if order["status"] == "rejected" else None)
        for same in (
            "id",
            "client_order_id",
            "account",
            "price",
            "stop_price",
            "time_in_force",
            "reduce_only",
            "strategy",
            "reason_code",
            "created_at",
            "updated_at",
        ):
            assert order[same] == v1[same], same
        assert (order["signal_id"], order["trace_id"]) == (view.signal_id, view.trace_id)
        one = await api.http.get(f"/api/v1/orders/{order['id']}")
        assert one.status_code == 200
        assert one.json() == order


async def test_order_filled_market_and_denied_read_as_the_seed_expects(book: Book) -> None:
    get = book.api.http.get
    filled = (await get(f"/api/v1/orders/{book.ids['btc_market']}")).json()
    denied = (await get(f"/api/v1/orders/{book.ids['denied']}")).json()
    limit = (await get(f"/api/v1/orders/{book.ids['eur_limit']}")).json()

    assert filled["side"] == "buy"
    assert filled["order_type"] == "market"
    assert (filled["quantity"], filled["filled_quantity"]) == ("0.010", "0.010")
    assert D(filled["average_price"]) == D(40000)
    assert filled["order_id"]
    assert filled["created_at"] == iso(market_time(0))
    assert denied["status"] == "rejected"
    assert denied["reason_code"] == "QTY_BELOW_MIN"
    assert "0.0005" in denied["reject_reason"]
    assert denied["order_id"] is None
    assert limit["order_type"] == "limit"
    assert limit["price"] == "1.09800"
    assert (limit["created_at"], limit["updated_at"]) == (
        iso(market_time(1)),
        iso(market_time(3)),
    )


async def test_order_cancelled_has_no_reject_reason(book: Book) -> None:
    ioc = (await book.api.http.get(f"/api/v1/orders/{book.ids['ioc']}")).json()

    assert ioc["status"] == "cancelled"
    assert ioc["reason_code"] == "IOC_UNFILLED"
    assert ioc["reject_reason"] is None


async def test_order_unknown_id_404_order_not_found(om: Api) -> None:
    placed = await om.place(symbol="EURUSD", side="BUY", qty="0.10")

    unknown = await om.http.get("/api/v1/orders/0-999")
    by_venue_id = await om.http.get(f"/api/v1/orders/{placed['venue_order_id']}")

    assert unknown.status_code == 404
    assert unknown.json()["reason_code"] == "ORDER_NOT_FOUND"
    assert by_venue_id.status_code == 404  # the path takes ordergate's id, not the venue's


# --- positions --------------------------------------------------------------------------------


async def seed_positions(api: Api, **params: Any) -> dict[str, dict[str, Any]]:
    """One account's positions from /api/v1/positions, by asset."""
    response = await api.http.get("/api/v1/positions", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()
    by_asset = {p["asset"]: p for p in items}
    assert len(by_asset) == len(items), "one account's positions: one row per asset"
    return by_asset


async def test_positions_default_account_marked_to_the_current_price(book: Book) -> None:
    positions = await seed_positions(book.api)

    assert set(positions) == {"BTCUSDT", "EURUSD"}
    btc, eur = positions["BTCUSDT"], positions["EURUSD"]
    assert (btc["account"], btc["side"], btc["size"], btc["currency"]) == (
        "default",
        "long",
        "0.010",
        "USDT",
    )
    assert D(btc["average_entry_price"]) == D(40000)
    assert D(btc["mark_price"]) == D(42000)
    assert D(btc["unrealized_pnl"]) == D(20)  # 0.010 x 2000
    assert D(btc["fees"]) == D("0.22")  # 0.055 % of 400
    assert D(btc["realized_pnl"]) == 0
    assert btc["updated_at"] == iso(market_time(0))
    assert (eur["side"], D(eur["size"]), eur["currency"]) == ("long", D("0.20"), "USD")
    assert D(eur["average_entry_price"]) == D("1.09900")
    assert D(eur["mark_price"]) == D("1.09800")
    assert D(eur["unrealized_pnl"]) == D(-20)  # 0.20 x -0.00100 x 100,000


async def test_positions_equal_v1_positions_where_they_overlap(book: Book) -> None:
    for account in ("default", "alt"):
        seed = await seed_positions(book.api, account=account)
        v1 = await book.api.positions(account=account)
        assert set(seed) == set(v1)
        for asset, p in seed.items():
            assert (p["size"], p["average_entry_price"], p["side"].upper()) == (
                v1[asset]["qty"],
                v1[asset]["avg_price"],
                v1[asset]["side"],
            )
            for same in ("account", "mark_price", "unrealized_pnl", "realized_pnl", "fees"):
                assert p[same] == v1[asset][same], same
            assert (p["currency"], p["updated_at"]) == (
                v1[asset]["currency"],
                v1[asset]["updated_at"],
            )


async def test_positions_asset_and_account_filters(book: Book) -> None:
    assert set(await seed_positions(book.api, asset="EURUSD")) == {"EURUSD"}
    assert await seed_positions(book.api, asset="XAUUSD") == {}
    alt = await seed_positions(book.api, account="alt")
    assert set(alt) == {"BTCUSDT"}
    assert (alt["BTCUSDT"]["account"], alt["BTCUSDT"]["size"]) == ("alt", "0.005")
    assert D(alt["BTCUSDT"]["unrealized_pnl"]) == D(15)  # 0.005 x (42000 - 39000)
    assert await seed_positions(book.api, account="nobody") == {}


async def test_position_one_asset_equals_its_row_in_the_list(book: Book) -> None:
    listed = await seed_positions(book.api)

    for asset in ("BTCUSDT", "EURUSD"):
        response = await book.api.http.get(f"/api/v1/positions/{asset}")
        assert response.status_code == 200, response.text
        assert response.json() == listed[asset]
    alt = await book.api.http.get("/api/v1/positions/BTCUSDT", params={"account": "alt"})
    assert alt.json()["size"] == "0.005"


async def test_position_short_reads_side_short_with_negative_size(om: Api) -> None:
    await om.place(symbol="BTCUSDT", side="SELL", qty="0.010")
    await om.advance()

    short = (await om.http.get("/api/v1/positions/BTCUSDT")).json()

    assert (short["side"], short["size"]) == ("short", "-0.010")
    assert D(short["unrealized_pnl"]) == D(-10)  # -0.010 x (41000 - 40000)


async def test_position_opened_and_closed_reads_flat_not_404(om: Api) -> None:
    await om.place(symbol="EURUSD", side="BUY", qty="0.10")
    await om.advance()
    await om.place(symbol="EURUSD", side="SELL", qty="0.10")

    response = await om.http.get("/api/v1/positions/EURUSD")

    assert response.status_code == 200, response.text
    flat = response.json()
    assert (flat["side"], D(flat["size"]), D(flat["unrealized_pnl"])) == ("flat", D(0), D(0))
    assert D(flat["realized_pnl"]) == D(20)  # 0.10 x 0.00200 x 100,000
    assert flat["updated_at"] == iso(market_time(1))
    assert await seed_positions(om) == {}
    assert set(await seed_positions(om, include_flat="true")) == {"EURUSD"}


async def test_position_never_held_404_position_not_found(om: Api) -> None:
    await om.place(symbol="EURUSD", side="BUY", qty="0.10")

    for path, params in (
        ("/api/v1/positions/BTCUSDT", {}),
        ("/api/v1/positions/XAUUSD", {}),
        ("/api/v1/positions/EURUSD", {"account": "alt"}),
        ("/api/v1/positions/EURUSD", {"account": "nobody"}),
    ):
        response = await om.http.get(path, params=params)
        assert response.status_code == 404, (path, params)
        assert response.json()["reason_code"] == "POSITION_NOT_FOUND"
    assert (await om.http.get("/api/v1/positions/EURUSD")).status_code == 200


# --- API keys ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ROUTES)
async def test_seed_routes_without_a_key_401(market: Path, path: str) -> None:
    async with running(make_settings(market), scope=None) as api:
        response = await api.http.get(path)

    assert response.status_code == 401
    assert response.json()["reason_code"] == "API_KEY_MISSING"


async def test_seed_routes_with_a_read_key_answer(market: Path) -> None:
    async with running(make_settings(market), scope=Scope.TRADE) as trader:
        await trader.place(symbol="BTCUSDT", side="BUY", qty="0.010")
        application = trader.application
        reader_key = application.keys.create(Scope.READ, "seed reader", actor="tests")
        for path in ROUTES:
            response = await trader.http.get(path, headers={"X-API-Key": reader_key.plaintext})
            assert response.status_code == 200, (path, response.text)
