"""The simulator's order payloads have the shape of Robinhood's recorded ones, key by key.

Each recording in the reference folder is compared with the simulator's answer to the
same request, recursively (a list element by element against ours of the same state
for the page of orders, else through its first element): every recorded key must be in
ours (newer keys of ours are allowed, the README says Robinhood added some), and where
the recording has a value, ours must have one of the same JSON type (string, number,
boolean, object, list). A recorded null says nothing about the type.

One difference is by design and listed in `BY_DESIGN`: the recordings include stop
orders (`trigger: stop`), which the simulator rejects (ordergate sends limit orders
only), so the order it compares them with has no `stop_price`.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import robin_stocks.robinhood as rh
from robin_stocks.robinhood import helper
from tests.integration.simulators.robinhood.robinhood_sim_support import RobinStocks

from ordergate.simulators.robinhood import RobinhoodSimConfig, RobinhoodSimulator

REPO = Path(__file__).resolve().parents[4]
REFERENCE = REPO.parent / "shared" / "reference" / "robinhood"

pytestmark = pytest.mark.skipif(
    not REFERENCE.is_dir(),
    reason=f"Robinhood reference payloads not found at {REFERENCE} (beside the repository)",
)

# Keys a recorded stop order has a value for and the simulator's working limit order
# has not.
BY_DESIGN = {"stop_price"}


def recorded(name: str) -> Any:
    return json.loads((REFERENCE / name).read_text())


def json_type(value: Any) -> str:
    for kind, types in (
        ("boolean", bool),
        ("number", int | float),
        ("string", str),
        ("object", dict),
        ("list", list),
    ):
        if isinstance(value, types):
            return kind
    return "null"


def differences(
    record: Any, ours: Any, path: str = "", skip: frozenset[str] = frozenset()
) -> list[str]:
    """Where `ours` lacks a recorded key, or has another JSON type than a recorded value."""
    if record is None:
        return []
    if json_type(record) != json_type(ours):
        return [f"{path or '.'}: recorded {json_type(record)}, ours {json_type(ours)}"]
    found: list[str] = []
    if isinstance(record, dict):
        for key, value in record.items():
            where = f"{path}.{key}" if path else key
            if key not in ours:
                found.append(f"{where}: missing")
            elif key not in skip:
                found += differences(value, ours[key], where)
    elif isinstance(record, list) and record and ours:
        found += differences(record[0], ours[0], f"{path}[0]")
    return found


def skipped(record: dict[str, Any]) -> frozenset[str]:
    return frozenset(BY_DESIGN) if record.get("trigger") == "stop" else frozenset()


def compare(record: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    return differences(record, ours, skip=skipped(record))


@pytest.fixture
def config() -> RobinhoodSimConfig:
    # Orders wait one market step before they are confirmed, so a POST answers an open
    # order as the recording's does.
    return RobinhoodSimConfig(confirm_after_steps=1)


async def test_post_orders_answer_has_the_recorded_shape(
    logged_in: RobinStocks, sim: RobinhoodSimulator
):
    await logged_in.call(rh.order_buy_limit, "AAPL", 1, 191)
    sim.set_quote("AAPL", bid=Decimal("190.00"), ask=Decimal("190.01"))

    answer = await logged_in.call(rh.order_sell_market, "AAPL", 1)

    assert answer["state"] == "unconfirmed"
    assert compare(recorded("order_post_market_queued.json"), answer) == []


async def test_get_order_answer_has_the_recorded_shape(
    logged_in: RobinStocks, sim: RobinhoodSimulator
):
    order = await logged_in.call(rh.order_buy_limit, "AAPL", 1, 180)
    sim.set_quote("AAPL", bid=Decimal("190.00"), ask=Decimal("190.01"))

    answer = await logged_in.call(rh.get_stock_order_info, order["id"])

    assert answer["state"] == "confirmed"
    assert compare(recorded("order_get_confirmed_stop_limit.json"), answer) == []


async def test_orders_page_has_the_recorded_shape_state_by_state(
    logged_in: RobinStocks, sim: RobinhoodSimulator
):
    resting = await logged_in.call(rh.order_buy_limit, "AAPL", 1, 180)
    filled = await logged_in.call(rh.order_buy_limit, "AAPL", 1, 191)
    cancelled = await logged_in.call(rh.order_buy_limit, "AAPL", 1, 181)
    sim.set_quote("AAPL", bid=Decimal("190.00"), ask=Decimal("190.01"))
    await logged_in.call(rh.cancel_stock_order, cancelled["id"])

    page = await logged_in.call(helper.request_get, "https://api.robinhood.com/orders/")

    record = recorded("orders_list_page.json")
    assert differences({**record, "results": []}, {**page, "results": []}) == []
    ours = {order["state"]: order for order in page["results"]}
    assert {state: ours[state]["id"] for state in ("confirmed", "filled", "cancelled")} == {
        "confirmed": resting["id"],
        "filled": filled["id"],
        "cancelled": cancelled["id"],
    }
    for index, result in enumerate(record["results"]):
        mismatches = compare(result, ours[result["state"]])
        assert mismatches == [], f"results[{index}] ({result['state']}): {mismatches}"
    assert ours["filled"]["executions"], "a filled order lists its executions"
