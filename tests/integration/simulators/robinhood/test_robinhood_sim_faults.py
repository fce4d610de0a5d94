"""Each fault as robin_stocks experiences it.

robin_stocks turns most failures into a quiet None: `request_get` returns None (or
`[None]` for lists) on any HTTP error, `request_post` None on a timeout, a dropped
connection, 5xx or 429, and the JSON body on 400-403. What the library returns and
prints is asserted here, so the venue adapter built on it knows what it must tell apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import robin_stocks.robinhood as rh
from tests.integration.simulators.robinhood.robinhood_sim_support import (
    RobinStocks,
    robin_stocks_on,
)

from ordergate.simulators.robinhood import RobinhoodSimulator

D = Decimal


async def test_token_expired_reads_as_none_from_then_on_until_a_new_login(
    logged_in: RobinStocks, sim: RobinhoodSimulator
):
    order = await logged_in.call(rh.order_buy_limit, "AAPL", 1, 180)
    sim.fault("token_expired")

    assert await logged_in.call(rh.get_stock_order_info, order["id"]) is None
    assert await logged_in.call(rh.get_stock_order_info, order["id"]) is None
    assert logged_in.messages().count("401 Client Error: Unauthorized") == 2
    await logged_in.login()
    assert (await logged_in.call(rh.get_stock_order_info, order["id"]))["id"] == order["id"]
    assert sim.fired == ["token_expired"]


async def test_rate_limit_makes_an_order_none_without_placing_it(
    logged_in: RobinStocks, sim: RobinhoodSimulator
):
    sim.fault("rate_limit", path="/orders/", retry_after=7)

    assert await logged_in.call(rh.order_buy_limit, "AAPL", 1, 180) is None
    assert "Error in request_post: Received 429" in logged_in.messages()
    assert sim.orders() == []
    assert (await logged_in.call(rh.order_buy_limit, "AAPL", 1, 180))["state"] == "confirmed"
    assert sim.fired == ["rate_limit"]


async def test_server_error_is_none_for_one_order_and_a_crash_for_open_orders(
    logged_in: RobinStocks, sim: RobinhoodSimulator
):
    order = await logged_in.call(rh.order_buy_limit, "AAPL", 1, 180)
    sim.fault("server_error", path="/orders/{order_id}/", status=503)
    sim.fault("server_error", path="/orders/")

    assert await logged_in.call(rh.get_stock_order_info, order["id"]) is None
    assert "503 Server Error" in logged_in.messages()
    # request_get answers a failed list with [None], which get_all_open_stock_orders
    # then indexes: the 500 surfaces as a TypeError from inside robin_stocks.
    with pytest.raises(TypeError):
        await logged_in.call(rh.get_all_open_stock_orders)
    assert sim.fired == ["server_error", "server_error"]


async def test_lost_response_times_out_as_none_but_the_order_is_placed(
    logged_in: RobinStocks, sim: RobinhoodSimulator
):
    sim.fault("lost_response")

    assert await logged_in.call(rh.order_buy_limit, "AAPL", 2, 180) is None
    assert "Error in request_post" in logged_in.messages()
    (order,) = sim.orders()
    sent = next(seen.params for seen in sim.requests if seen.path == "/orders/")
    assert (order["state"], order["ref_id"]) == ("confirmed", sent["ref_id"])
    assert await logged_in.call(rh.get_all_open_stock_orders, "ref_id") == [sent["ref_id"]]
    assert sim.fired == ["lost_response"]


@pytest.fixture
def impatient(sim: RobinhoodSimulator, tmp_path: Path) -> Iterator[RobinStocks]:
    """robin_stocks giving up after a second: shorter than a held answer's delay."""
    with robin_stocks_on(sim, tmp_path, timeout=1.0) as client:
        yield client


async def test_a_held_answer_times_out_the_client_and_the_order_is_placed(
    impatient: RobinStocks, sim: RobinhoodSimulator
):
    await impatient.login()
    sim.fault("lost_response", delay=60)

    assert await impatient.call(rh.order_buy_limit, "AAPL", 1, 180) is None
    assert "Read timed out" in impatient.messages()
    assert [order["state"] for order in sim.orders()] == ["confirmed"]


async def test_fill_on_cancel_accepts_the_cancel_and_the_order_ends_filled(
    logged_in: RobinStocks, sim: RobinhoodSimulator
):
    order = await logged_in.call(rh.order_buy_limit, "AAPL", 3, 189)
    sim.fault("fill_on_cancel")

    assert await logged_in.call(rh.cancel_stock_order, order["id"]) == {}
    after = await logged_in.call(rh.get_stock_order_info, order["id"])
    assert (after["state"], after["cumulative_quantity"]) == ("filled", "3.00000000")
    assert after["executions"][0]["price"] == "189.00000000"
    assert sim.position("AAPL") == 3
    assert sim.fired == ["fill_on_cancel"]


async def test_unconfirmed_lingers_on_a_filled_order_with_its_executions(
    logged_in: RobinStocks, sim: RobinhoodSimulator
):
    sim.fault("unconfirmed_lingers")

    placed = await logged_in.call(rh.order_buy_limit, "AAPL", 2, 191)
    read = await logged_in.call(rh.get_stock_order_info, placed["id"])

    for seen in (placed, read):
        assert (seen["state"], seen["cumulative_quantity"]) == ("unconfirmed", "2.00000000")
        assert len(seen["executions"]) == 1
        assert seen["cancel"] is None
    assert await logged_in.call(rh.get_all_open_stock_orders) == []
    assert sim.position("AAPL") == 2
    assert sim.fired == ["unconfirmed_lingers"]


async def test_partial_then_cancel_ends_cancelled_with_executions(
    logged_in: RobinStocks, sim: RobinhoodSimulator
):
    order = await logged_in.call(rh.order_buy_limit, "AAPL", 10, 189)
    sim.fault("partial_then_cancel")

    sim.set_quote("AAPL", bid=D("188.90"), ask=D("189.00"))

    after = await logged_in.call(rh.get_stock_order_info, order["id"])
    assert (after["state"], after["cumulative_quantity"], after["cancel"]) == (
        "cancelled",
        "5.00000000",
        None,
    )
    assert [execution["quantity"] for execution in after["executions"]] == ["5.00000000"]
    assert sim.position("AAPL") == 5
    assert sim.fired == ["partial_then_cancel"]


async def test_buying_power_refuses_an_order_with_a_detail(
    logged_in: RobinStocks, sim: RobinhoodSimulator
):
    sim.fault("buying_power")

    assert await logged_in.call(rh.order_buy_limit, "AAPL", 1, 180) == {
        "detail": "Not enough buying power."
    }
    assert sim.orders() == []
    assert sim.fired == ["buying_power"]


@pytest.mark.parametrize("path", ["/quotes/", "/instruments/"])
async def test_a_failed_read_before_the_post_makes_order_raise_without_posting(
    logged_in: RobinStocks, sim: RobinhoodSimulator, path: str
):
    # order() reads the account, the instrument and the quotes first, and indexes what
    # request_get returns ([None] or [] on an error) without checking it.
    sim.fault("server_error", path=path)

    with pytest.raises((TypeError, IndexError)):
        await logged_in.call(rh.order_buy_limit, "AAPL", 1, 180)
    assert sim.orders() == []
