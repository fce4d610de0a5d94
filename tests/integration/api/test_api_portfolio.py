"""/v1/fills, /v1/positions, /v1/account, closing positions and /v1/admin/close-all.

Every figure is worked out by hand from the bars of `support` (flat bars, so bid = ask =
last = close): EURUSD 1.10000, 1.10200, 1.10400, ...; BTCUSDT 40000, 41000, 39000, ...
EURUSD has no fees and 100,000 units a lot; BTCUSDT charges 0.055 % taker fees.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from tests.integration.api.support import Api, iso, market_time

D = Decimal


@dataclass
class Trades:
    """The orders of the `trades` fixture, by name."""

    ids: dict[str, str]


@pytest.fixture
async def trades(api: Api) -> Trades:
    """Five market orders over three minutes; the market is then at minute 2.

    minute 0: eur_1 BUY 0.10 EURUSD @ 1.10000; btc_1 BUY 0.010 BTCUSDT @ 40000 (fee 0.22)
    minute 1: eur_2 BUY 0.10 EURUSD @ 1.10200 (long 0.20 @ 1.10100);
              btc_2 SELL 0.004 BTCUSDT @ 41000 (realizes 4, fee 0.0902)
    minute 2: eur_3 SELL 0.05 EURUSD @ 1.10400 (realizes 15; long 0.15 @ 1.10100)
    """
    ids: dict[str, str] = {}

    async def place(name: str, **body: Any) -> None:
        order = await api.place(**body)
        assert order["status"] == "FILLED", order
        ids[name] = order["id"]

    await place("eur_1", symbol="EURUSD", side="BUY", qty="0.10")
    await place("btc_1", symbol="BTCUSDT", side="BUY", qty="0.010")
    await api.advance()
    await place("eur_2", symbol="EURUSD", side="BUY", qty="0.10")
    await place("btc_2", symbol="BTCUSDT", side="SELL", qty="0.004")
    await api.advance()
    await place("eur_3", symbol="EURUSD", side="SELL", qty="0.05")
    return Trades(ids)


# --- fills ------------------------------------------------------------------------------------


async def test_fills_after_trades_one_per_order_with_prices_and_fees(
    api: Api, trades: Trades
) -> None:
    fills = {f["order_id"]: f for f in await api.fills()}

    expected = {
        "eur_1": ("BUY", "0.10", "1.10000", "0", market_time(0)),
        "btc_1": ("BUY", "0.010", "40000.0", "0.22", market_time(0)),
        "eur_2": ("BUY", "0.10", "1.10200", "0", market_time(1)),
        "btc_2": ("SELL", "0.004", "41000.0", "0.0902", market_time(1)),
        "eur_3": ("SELL", "0.05", "1.10400", "0", market_time(2)),
    }
    assert set(fills) == {trades.ids[name] for name in expected}
    for name, (side, qty, price, fee, ts) in expected.items():
        fill = fills[trades.ids[name]]
        assert fill["side"] == side
        assert D(fill["qty"]) == D(qty)
        assert D(fill["price"]) == D(price)
        assert D(fill["fee"]) == D(fee), name
        assert datetime.fromisoformat(fill["ts"]) == ts
        assert fill["liquidity"] == "TAKER"
        assert fill["account"] == "default"
        assert fill["trade_id"]
    assert fills[trades.ids["btc_1"]]["fee_currency"] == "USDT"
    assert fills[trades.ids["eur_1"]]["fee_currency"] == "USD"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"symbol": "EURUSD"}, {"eur_1", "eur_2", "eur_3"}),
        ({"symbol": "BTCUSDT"}, {"btc_1", "btc_2"}),
        ({"account": "default"}, {"eur_1", "eur_2", "eur_3", "btc_1", "btc_2"}),
        ({"account": "alt"}, set()),
        ({"since": iso(market_time(1))}, {"eur_2", "btc_2", "eur_3"}),
        ({"until": iso(market_time(1))}, {"eur_1", "btc_1"}),
        ({"since": iso(market_time(1)), "until": iso(market_time(2))}, {"eur_2", "btc_2"}),
    ],
)
async def test_fills_filter_answers_matching_fills(
    api: Api, trades: Trades, params: dict[str, str], expected: set[str]
) -> None:
    fills = await api.fills(**params)

    assert sorted(f["order_id"] for f in fills) == sorted(trades.ids[n] for n in expected)


async def test_fills_order_id_filter_answers_that_orders_fill(api: Api, trades: Trades) -> None:
    fills = await api.fills(order_id=trades.ids["btc_2"])

    assert [f["order_id"] for f in fills] == [trades.ids["btc_2"]]


@pytest.mark.parametrize("order", ["desc", "asc"])
@pytest.mark.parametrize("limit", [1, 2])
async def test_fills_cursor_walk_every_fill_once_in_time_order(
    api: Api, trades: Trades, order: str, limit: int
) -> None:
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(20):
        params: dict[str, Any] = {"limit": limit, "order": order}
        if cursor is not None:
            params["cursor"] = cursor
        page = (await api.http.get("/v1/fills", params=params)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    trade_ids = [f["trade_id"] for f in seen]
    assert len(trade_ids) == len(set(trade_ids)) == 5
    times = [datetime.fromisoformat(f["ts"]) for f in seen]
    assert times == sorted(times, reverse=order == "desc")


async def test_fills_offset_paging_covers_every_fill_once(api: Api, trades: Trades) -> None:
    pages = [
        (await api.http.get("/v1/fills", params={"limit": 2, "offset": offset})).json()["items"]
        for offset in (0, 2, 4, 6)
    ]

    assert [len(page) for page in pages] == [2, 2, 1, 0]
    trade_ids = [f["trade_id"] for page in pages for f in page]
    assert len(set(trade_ids)) == 5


async def test_fills_bad_cursor_422_bad_cursor(api: Api, trades: Trades) -> None:
    response = await api.http.get("/v1/fills", params={"cursor": "not-a-cursor"})

    assert response.status_code == 422
    assert response.json()["reason_code"] == "BAD_CURSOR"


async def test_fills_limit_out_of_range_422_validation_error(api: Api) -> None:
    response = await api.http.get("/v1/fills", params={"limit": 0})

    assert response.status_code == 422
    assert response.json()["reason_code"] == "VALIDATION_ERROR"


# --- positions --------------------------------------------------------------------------------


async def test_positions_after_trades_net_qty_avg_price_and_pnl(api: Api, trades: Trades) -> None:
    positions = await api.positions()

    eur = positions["EURUSD"]
    assert (eur["side"], eur["currency"], eur["account"]) == ("LONG", "USD", "default")
    assert D(eur["qty"]) == D("0.15")
    assert D(eur["avg_price"]) == D("1.10100")
    assert D(eur["mark_price"]) == D("1.10400")
    assert D(eur["realized_pnl"]) == D(15)  # 0.05 x (1.10400 - 1.10100) x 100,000
    assert D(eur["unrealized_pnl"]) == D(45)  # 0.15 x (1.10400 - 1.10100) x 100,000
    assert D(eur["fees"]) == 0
    btc = positions["BTCUSDT"]
    assert (btc["side"], btc["currency"]) == ("LONG", "USDT")
    assert D(btc["qty"]) == D("0.006")
    assert D(btc["avg_price"]) == D(40_000)
    assert D(btc["mark_price"]) == D(39_000)
    assert D(btc["realized_pnl"]) == D(4)  # 0.004 x (41000 - 40000)
    assert D(btc["unrealized_pnl"]) == D(-6)  # 0.006 x (39000 - 40000)
    assert D(btc["fees"]) == D("0.3102")  # 0.22 + 0.0902


async def test_positions_marked_again_when_market_moves(api: Api, trades: Trades) -> None:
    await api.advance()  # EURUSD 1.09800, BTCUSDT 42000

    positions = await api.positions()

    assert D(positions["EURUSD"]["unrealized_pnl"]) == D(-45)  # 0.15 x -0.00300 x 100,000
    assert D(positions["BTCUSDT"]["unrealized_pnl"]) == D(12)  # 0.006 x 2000
    assert D(positions["EURUSD"]["realized_pnl"]) == D(15)


async def test_positions_filters_symbol_and_account(api: Api, trades: Trades) -> None:
    await api.place(symbol="EURUSD", side="SELL", qty="0.20", account="alt")

    assert set(await api.positions(symbol="BTCUSDT")) == {"BTCUSDT"}
    alt = await api.positions(account="alt")
    assert set(alt) == {"EURUSD"}
    assert alt["EURUSD"]["side"] == "SHORT"
    assert D(alt["EURUSD"]["qty"]) == D("-0.20")


async def test_positions_short_loses_when_price_rises(api: Api) -> None:
    await api.place(symbol="EURUSD", side="SELL", qty="0.10")
    await api.advance()  # 1.10200

    eur = (await api.positions())["EURUSD"]

    assert eur["side"] == "SHORT"
    assert D(eur["qty"]) == D("-0.10")
    assert D(eur["avg_price"]) == D("1.10000")
    assert D(eur["unrealized_pnl"]) == D(-20)  # -0.10 x 0.00200 x 100,000


async def test_positions_flip_long_to_short_realizes_and_reopens(api: Api) -> None:
    await api.place(symbol="EURUSD", side="BUY", qty="0.10")
    await api.advance()  # 1.10200

    await api.place(symbol="EURUSD", side="SELL", qty="0.30")

    eur = (await api.positions())["EURUSD"]
    assert D(eur["qty"]) == D("-0.20")
    assert D(eur["avg_price"]) == D("1.10200")
    assert D(eur["realized_pnl"]) == D(20)  # 0.10 x 0.00200 x 100,000


async def test_positions_none_before_any_trade(api: Api) -> None:
    response = await api.http.get("/v1/positions")

    assert response.status_code == 200
    assert response.json() == []


# --- account ----------------------------------------------------------------------------------


async def test_account_fresh_balances_free_margin_equals_balance(api: Api) -> None:
    account = await api.account()

    assert set(account) == {"USD", "USDT"}
    for ccy in account.values():
        assert D(ccy["balance"]) == D(100_000)
        assert D(ccy["equity"]) == D(100_000)
        assert D(ccy["used_margin"]) == 0
        assert D(ccy["free_margin"]) == D(100_000)


async def test_account_other_account_own_balances(api: Api) -> None:
    response = await api.http.get("/v1/account", params={"account": "alt"})

    assert response.json()["account"] == "alt"
    assert {c["currency"]: D(c["balance"]) for c in response.json()["currencies"]} == {
        "USD": D(50_000),
        "USDT": D(50_000),
    }


async def test_account_after_trades_balance_equity_and_margin(api: Api, trades: Trades) -> None:
    account = await api.account()

    usd = account["USD"]
    assert D(usd["balance"]) == D(100_015)  # + realized 15, no fees
    assert D(usd["unrealized_pnl"]) == D(45)
    assert D(usd["equity"]) == D(100_060)
    assert D(usd["position_margin"]) == D("165.6")  # 0.15 x 1.10400 x 100,000 x 1 %
    assert D(usd["order_margin"]) == 0
    assert D(usd["used_margin"]) == D("165.6")
    assert D(usd["free_margin"]) == D("99894.4")
    usdt = account["USDT"]
    assert D(usdt["balance"]) == D("100003.6898")  # - 0.22 + 4 - 0.0902
    assert D(usdt["unrealized_pnl"]) == D(-6)
    assert D(usdt["equity"]) == D("99997.6898")
    assert D(usdt["position_margin"]) == D("2.34")  # 0.006 x 39000 x 1 %
    assert D(usdt["free_margin"]) == D("99995.3498")


async def test_account_figures_consistent_with_positions(api: Api, trades: Trades) -> None:
    await api.place(symbol="EURUSD", side="BUY", qty="1.00", type="LIMIT", price="1.09000")
    positions = await api.positions()
    account = await api.account()

    for ccy, figures in account.items():
        upnl = sum(
            (D(p["unrealized_pnl"]) for p in positions.values() if p["currency"] == ccy), D(0)
        )
        assert D(figures["unrealized_pnl"]) == upnl
        assert D(figures["equity"]) == D(figures["balance"]) + upnl
        assert D(figures["used_margin"]) == D(figures["position_margin"]) + D(
            figures["order_margin"]
        )
        assert D(figures["free_margin"]) == D(figures["equity"]) - D(figures["used_margin"])


async def test_account_resting_limit_reserves_margin_cancel_frees_it(api: Api) -> None:
    order = await api.place(symbol="EURUSD", side="BUY", qty="1.00", type="LIMIT", price="1.09000")

    usd = (await api.account())["USD"]
    assert D(usd["order_margin"]) == D(1090)  # 1.00 x 1.09000 x 100,000 x 1 %
    assert D(usd["used_margin"]) == D(1090)
    assert D(usd["free_margin"]) == D(98_910)

    await api.http.post(f"/v1/orders/{order['id']}/cancel")

    usd = (await api.account())["USD"]
    assert D(usd["order_margin"]) == 0
    assert D(usd["free_margin"]) == D(100_000)


async def test_account_replace_moves_reserved_margin(api: Api) -> None:
    order = await api.place(symbol="EURUSD", side="BUY", qty="1.00", type="LIMIT", price="1.09000")

    await api.http.post(f"/v1/orders/{order['id']}/replace", json={"qty": "2.00"})

    assert D((await api.account())["USD"]["order_margin"]) == D(2180)


async def test_account_reserved_margin_refuses_order_beyond_free_margin(api: Api) -> None:
    # 95 lots reserve 95 x 1.09 x 1,000 = 103,550 USD > 100,000: denied; 90 lots (98,100) rest
    denied = await api.place(symbol="EURUSD", side="BUY", qty="95", type="LIMIT", price="1.09000")
    resting = await api.place(symbol="EURUSD", side="BUY", qty="90", type="LIMIT", price="1.09000")

    second = await api.place(symbol="EURUSD", side="BUY", qty="2", type="LIMIT", price="1.09000")

    assert denied["reason_code"] == "INSUFFICIENT_MARGIN"
    assert resting["status"] == "ACCEPTED"
    assert second["status"] == "DENIED"
    assert second["reason_code"] == "INSUFFICIENT_MARGIN"


async def test_account_concurrent_orders_never_reserve_beyond_free_margin(api: Api) -> None:
    body = {"symbol": "EURUSD", "side": "BUY", "qty": "10", "type": "LIMIT", "price": "1.09000"}

    responses = await asyncio.gather(*(api.http.post("/v1/orders", json=body) for _ in range(15)))

    # each reserves 10 x 1.09 x 1,000 = 10,900 USD: nine fit in 100,000, six are denied
    statuses = sorted((r.json()["status"], r.json()["reason_code"]) for r in responses)
    assert statuses == [("ACCEPTED", None)] * 9 + [("DENIED", "INSUFFICIENT_MARGIN")] * 6
    usd = (await api.account())["USD"]
    assert D(usd["order_margin"]) == D(98_100)
    assert D(usd["free_margin"]) == D(1_900)


async def test_account_filled_limit_moves_margin_from_order_to_position(api: Api) -> None:
    await api.place(symbol="EURUSD", side="BUY", qty="1.00", type="LIMIT", price="1.09800")

    await api.advance(3)  # 1.10200, 1.10400, 1.09800: filled as maker at 1.09800

    usd = (await api.account())["USD"]
    assert D(usd["order_margin"]) == 0
    assert D(usd["position_margin"]) == D(1098)  # 1.00 x 1.09800 x 100,000 x 1 %
    assert D((await api.positions())["EURUSD"]["avg_price"]) == D("1.09800")


# --- closing ----------------------------------------------------------------------------------


async def test_close_position_flattens_with_reduce_only_market_order(
    api: Api, trades: Trades
) -> None:
    response = await api.http.post("/v1/positions/EURUSD/close")

    assert response.status_code == 200
    order = response.json()
    assert (order["side"], order["type"], order["reduce_only"]) == ("SELL", "MARKET", True)
    assert D(order["qty"]) == D("0.15")
    assert order["status"] == "FILLED"
    assert D(order["avg_fill_price"]) == D("1.10400")
    assert "EURUSD" not in await api.positions()
    flat = (await api.positions(include_flat="true"))["EURUSD"]
    assert flat["side"] == "FLAT"
    assert D(flat["qty"]) == 0
    assert D(flat["realized_pnl"]) == D(60)  # 15 + 0.15 x 0.00300 x 100,000
    usd = (await api.account())["USD"]
    assert D(usd["balance"]) == D(100_060)
    assert D(usd["used_margin"]) == 0


async def test_close_position_qty_reduces_only_that_much(api: Api, trades: Trades) -> None:
    response = await api.http.post("/v1/positions/EURUSD/close", json={"qty": "0.05"})

    assert response.json()["status"] == "FILLED"
    assert D((await api.positions())["EURUSD"]["qty"]) == D("0.10")


async def test_close_position_qty_above_position_closes_position_only(
    api: Api, trades: Trades
) -> None:
    response = await api.http.post("/v1/positions/BTCUSDT/close", json={"qty": "5"})

    assert D(response.json()["qty"]) == D("0.006")
    assert "BTCUSDT" not in await api.positions()


async def test_close_position_short_buys_back(api: Api) -> None:
    await api.place(symbol="EURUSD", side="SELL", qty="0.10")
    await api.advance()  # 1.10200

    order = (await api.http.post("/v1/positions/EURUSD/close")).json()

    assert (order["side"], order["status"]) == ("BUY", "FILLED")
    flat = (await api.positions(include_flat="true"))["EURUSD"]
    assert D(flat["realized_pnl"]) == D(-20)


async def test_close_position_other_account_only_that_account(api: Api, trades: Trades) -> None:
    await api.place(symbol="EURUSD", side="BUY", qty="0.30", account="alt")

    response = await api.http.post("/v1/positions/EURUSD/close", json={"account": "alt"})

    assert response.json()["account"] == "alt"
    assert "EURUSD" not in await api.positions(account="alt")
    assert D((await api.positions(account="default"))["EURUSD"]["qty"]) == D("0.15")


async def test_close_position_none_409_no_position(api: Api) -> None:
    response = await api.http.post("/v1/positions/EURUSD/close")

    assert response.status_code == 409
    assert response.json()["reason_code"] == "NO_POSITION"
    assert await api.orders() == []


async def test_close_position_already_flat_409_no_position(api: Api, trades: Trades) -> None:
    await api.http.post("/v1/positions/EURUSD/close")

    response = await api.http.post("/v1/positions/EURUSD/close")

    assert response.status_code == 409
    assert response.json()["reason_code"] == "NO_POSITION"


async def test_close_position_unknown_symbol_409_no_position(api: Api) -> None:
    response = await api.http.post("/v1/positions/XAUUSD/close")

    assert response.status_code == 409
    assert response.json()["reason_code"] == "NO_POSITION"


async def test_close_all_cancels_resting_orders_and_flattens(api: Api, trades: Trades) -> None:
    eur_rest = await api.place(
        symbol="EURUSD", side="BUY", qty="0.10", type="LIMIT", price="1.09000"
    )
    btc_rest = await api.place(
        symbol="BTCUSDT", side="SELL", qty="0.010", type="LIMIT", price="45000.0"
    )

    response = await api.http.post("/v1/admin/close-all")

    assert response.status_code == 200
    result = response.json()
    assert {o["id"] for o in result["canceled"]} == {eur_rest["id"], btc_rest["id"]}
    closing = {o["symbol"]: o for o in result["closing"]}
    assert set(closing) == {"EURUSD", "BTCUSDT"}
    assert all(o["reduce_only"] for o in closing.values())
    assert D(closing["EURUSD"]["qty"]) == D("0.15")
    assert D(closing["BTCUSDT"]["qty"]) == D("0.006")
    await api.settle()
    assert await api.positions() == {}
    assert (await api.order(eur_rest["id"]))["status"] == "CANCELED"
    assert (await api.order(btc_rest["id"]))["status"] == "CANCELED"
    for order in closing.values():
        assert (await api.order(order["id"]))["status"] == "FILLED"
    account = await api.account()
    assert all(D(c["used_margin"]) == 0 for c in account.values())
    assert D(account["USD"]["balance"]) == D(100_060)
    health = (await api.http.get("/health")).json()
    assert health["open_orders"] == 0


async def test_close_all_one_account_leaves_others(api: Api, trades: Trades) -> None:
    await api.place(symbol="EURUSD", side="SELL", qty="0.20", account="alt")

    response = await api.http.post("/v1/admin/close-all", json={"account": "alt"})

    assert [o["account"] for o in response.json()["closing"]] == ["alt"]
    await api.settle()
    assert await api.positions(account="alt") == {}
    assert set(await api.positions(account="default")) == {"EURUSD", "BTCUSDT"}


async def test_close_all_nothing_open_answers_empty(api: Api) -> None:
    response = await api.http.post("/v1/admin/close-all")

    assert response.status_code == 200
    assert response.json() == {"canceled": [], "closing": []}


async def test_close_all_unknown_field_422_validation_error(api: Api) -> None:
    response = await api.http.post("/v1/admin/close-all", json={"everything": True})

    assert response.status_code == 422
    assert response.json()["reason_code"] == "VALIDATION_ERROR"


# --- brackets ---------------------------------------------------------------------------------


async def test_bracket_take_profit_fills_cancels_stop_loss(api: Api) -> None:
    parent = await api.place(
        symbol="EURUSD", side="BUY", qty="0.10", stop_loss="1.09000", take_profit="1.10400"
    )
    await api.settle()
    children = {o["type"]: o for o in await api.orders() if o["parent_order_id"] == parent["id"]}
    assert set(children) == {"STOP", "LIMIT"}
    assert all(o["reduce_only"] and o["side"] == "SELL" for o in children.values())

    await api.advance(2)  # 1.10200, 1.10400: the take-profit is touched

    assert (await api.order(children["LIMIT"]["id"]))["status"] == "FILLED"
    assert (await api.order(children["STOP"]["id"]))["status"] == "CANCELED"
    assert "EURUSD" not in await api.positions()
    flat = (await api.positions(include_flat="true"))["EURUSD"]
    assert D(flat["realized_pnl"]) == D(40)  # 0.10 x 0.00400 x 100,000
