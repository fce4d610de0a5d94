"""Stock orders through robin_stocks' own functions: place, read, list, fill, cancel, and
the positions and balances they leave; the refusals a Robinhood client must expect."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
import robin_stocks.robinhood as rh
from robin_stocks.robinhood import helper
from tests.integration.simulators.robinhood.robinhood_sim_support import RobinStocks

from ordergate.simulators.robinhood import RobinhoodSimConfig, RobinhoodSimulator

D = Decimal
ORDERS_URL = "https://api.robinhood.com/orders/"
# What robin_stocks 3.4.0 posts for a regular-hours limit buy (venue-adapters notes, §2).
LIMIT_BUY_FIELDS = {
    "account",
    "instrument",
    "symbol",
    "price",
    "ask_price",
    "bid_price",
    "bid_ask_timestamp",
    "quantity",
    "ref_id",
    "type",
    "time_in_force",
    "trigger",
    "side",
    "market_hours",
    "extended_hours",
    "order_form_version",
    "preset_percent_limit",
}


def posted_orders(sim: RobinhoodSimulator) -> list[dict[str, object]]:
    return [
        seen.params for seen in sim.requests if (seen.method, seen.path) == ("POST", "/orders/")
    ]


async def test_limit_buy_is_confirmed_listed_then_filled_by_a_quote_that_reaches_it(
    logged_in: RobinStocks, sim: RobinhoodSimulator
):
    placed = await logged_in.call(rh.order_buy_limit, "AAPL", 10, 189.5)

    (form,) = posted_orders(sim)
    assert set(form) == LIMIT_BUY_FIELDS
    assert (form["type"], form["price"], form["extended_hours"]) == ("limit", "189.5", "False")
    assert placed["state"] == "confirmed"
    assert (placed["price"], placed["quantity"]) == ("189.50000000", "10.00000000")
    assert placed["ref_id"] == form["ref_id"]
    assert placed["cancel"] == f"https://api.robinhood.com/orders/{placed['id']}/cancel/"
    assert await logged_in.call(rh.get_stock_order_info, placed["id"]) == placed
    assert await logged_in.call(rh.get_all_open_stock_orders, "id") == [placed["id"]]

    sim.set_quote("AAPL", bid=D("189.40"), ask=D("189.50"))

    filled = await logged_in.call(rh.get_stock_order_info, placed["id"])
    (execution,) = filled["executions"]
    assert (filled["state"], filled["cancel"]) == ("filled", None)
    assert (filled["cumulative_quantity"], filled["average_price"]) == (
        "10.00000000",
        "189.50000000",
    )
    assert (execution["price"], execution["quantity"]) == ("189.50000000", "10.00000000")
    assert set(execution) == {"id", "price", "quantity", "settlement_date", "timestamp"}
    assert await logged_in.call(rh.get_all_open_stock_orders) == []
    (position,) = await logged_in.call(rh.get_open_stock_positions)
    assert (position["quantity"], position["average_buy_price"]) == ("10.00000000", "189.5000")
    assert (sim.position("AAPL"), sim.cash) == (D(10), D(100_000) - D("1895"))
    profile = await logged_in.call(rh.load_account_profile)
    assert profile["buying_power"] == profile["cash"] == "98105.0000"
    phoenix = await logged_in.call(rh.load_phoenix_account, info="account_buying_power")
    assert phoenix["amount"] == "98105.00"


async def test_cancel_returns_an_empty_dict_and_a_refused_cancel_a_detail_it_calls_cancelled(
    logged_in: RobinStocks, sim: RobinhoodSimulator
):
    working = await logged_in.call(rh.order_buy_limit, "AAPL", 1, 180)
    filled = await logged_in.call(rh.order_buy_limit, "AAPL", 1, 191)

    accepted = await logged_in.call(rh.cancel_stock_order, working["id"])
    refused = await logged_in.call(rh.cancel_stock_order, filled["id"])

    assert accepted == {}
    assert refused == {"detail": "Order cannot be cancelled."}
    # robin_stocks prints "cancelled" for the refusal (a JSON body) and not for the cancel.
    assert logged_in.messages() == f"Order {filled['id']} cancelled\n"
    cancelled = await logged_in.call(rh.get_stock_order_info, working["id"])
    assert (cancelled["state"], cancelled["cancel"], cancelled["executions"]) == (
        "cancelled",
        None,
        [],
    )
    assert sim.buying_power == sim.cash == D(100_000) - D("190.01")  # filled at the ask


async def test_market_buy_goes_as_a_limit_at_the_ask_with_the_collar_and_fills_there(
    logged_in: RobinStocks, sim: RobinhoodSimulator
):
    sim.set_quote("MSFT", bid=D("369.90"), ask=D("370.00"))

    order = await logged_in.call(rh.order_buy_market, "MSFT", 2)

    (form,) = posted_orders(sim)
    assert (form["type"], form["price"], form["preset_percent_limit"]) == ("limit", "370.0", "0.05")
    assert order["state"] == "filled"
    assert order["executions"][0]["price"] == "370.00000000"


async def test_market_sell_goes_as_market_without_price_and_fills_at_the_bid(
    logged_in: RobinStocks, sim: RobinhoodSimulator
):
    await logged_in.call(rh.order_buy_limit, "SPY", 3, 471)
    sim.set_quote("SPY", bid=D("470.50"), ask=D("470.51"))

    order = await logged_in.call(rh.order_sell_market, "SPY", 3)

    form = posted_orders(sim)[-1]
    assert (form["type"], "price" in form) == ("market", False)
    assert (order["state"], order["price"]) == ("filled", None)
    assert order["average_price"] == "470.50000000"
    assert sim.position("SPY") == 0
    assert await logged_in.call(rh.get_open_stock_positions) == []
    assert len(await logged_in.call(rh.get_all_positions)) == 1  # held once, flat now


async def test_orders_beyond_the_cash_or_the_shares_are_refused_with_a_detail(
    logged_in: RobinStocks, sim: RobinhoodSimulator
):
    too_dear = await logged_in.call(rh.order_buy_limit, "AAPL", 1000, 190)
    too_many = await logged_in.call(rh.order_sell_limit, "AAPL", 1, 200)

    assert too_dear == {"detail": "Not enough buying power."}
    assert too_many == {"detail": "Not enough shares to sell."}
    assert sim.orders() == []


async def test_stop_orders_are_created_rejected(logged_in: RobinStocks):
    order = await logged_in.call(rh.order_buy_stop_limit, "AAPL", 1, 192, 191.5)

    assert (order["state"], order["trigger"], order["stop_price"]) == (
        "rejected",
        "stop",
        "191.50000000",
    )
    assert order["reject_reason"] == "Stop orders are not supported by this simulator."
    assert order["cancel"] is None


async def test_a_reused_ref_id_is_refused_and_creates_nothing(
    logged_in: RobinStocks, sim: RobinhoodSimulator
):
    first = await logged_in.call(rh.order_buy_limit, "AAPL", 1, 180)
    form = posted_orders(sim)[0]

    again = await logged_in.call(helper.request_post, ORDERS_URL, form)
    other = await logged_in.call(
        helper.request_post, ORDERS_URL, {**form, "ref_id": str(uuid.uuid4())}
    )

    assert again == {"ref_id": ["Order with this ref_id already exists."]}
    assert other["state"] == "confirmed"
    assert [order["id"] for order in sim.orders()] == [first["id"], other["id"]]


class TestRestingLiquidity:
    @pytest.fixture
    def config(self) -> RobinhoodSimConfig:
        return RobinhoodSimConfig(resting_liquidity={"AAPL": D(4)})

    async def test_a_resting_order_fills_a_part_per_step_and_executions_accumulate(
        self, logged_in: RobinStocks, sim: RobinhoodSimulator
    ):
        order = await logged_in.call(rh.order_buy_limit, "AAPL", 10, 190)
        seen: list[tuple[str, str, int]] = []

        for _ in range(3):
            sim.set_quote("AAPL", bid=D("189.99"), ask=D("190.00"))
            now = await logged_in.call(rh.get_stock_order_info, order["id"])
            seen.append((now["state"], now["cumulative_quantity"], len(now["executions"])))

        assert seen == [
            ("partially_filled", "4.00000000", 1),
            ("partially_filled", "8.00000000", 2),
            ("filled", "10.00000000", 3),
        ]


class TestPaging:
    @pytest.fixture
    def config(self) -> RobinhoodSimConfig:
        return RobinhoodSimConfig(page_size=2)

    async def test_all_orders_come_back_newest_first_across_next_pages(
        self, logged_in: RobinStocks, sim: RobinhoodSimulator
    ):
        placed = [
            (await logged_in.call(rh.order_buy_limit, "AAPL", 1, 150 + n))["id"] for n in range(5)
        ]

        listed = await logged_in.call(rh.get_all_stock_orders, "id")

        assert listed == placed[::-1]
        assert "Loading page 3" in logged_in.messages()
        pages = [
            seen.params for seen in sim.requests if (seen.method, seen.path) == ("GET", "/orders/")
        ]
        assert ["cursor" in query for query in pages] == [False, True, True]
