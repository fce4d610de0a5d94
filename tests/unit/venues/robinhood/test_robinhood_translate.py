"""Robinhood's order payloads as ordergate's reports: the client order id carried in
`ref_id` both ways, each state (an `unconfirmed` left behind by a fill is a fill), and
executions as fills once each, with the order's fees on the first new one."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ordergate.domain.values import LiquiditySide, OrderStatus, OrderType, Side
from ordergate.venues.robinhood.translate import (
    client_order_id_of,
    fills_of,
    ns_of,
    ref_id_of,
    report_of,
    status_of,
)

D = Decimal
REFERENCE = Path(__file__).parents[5] / "shared" / "reference" / "robinhood"
COID = "0123456789abcdef0123456789abcdef"


def test_a_client_order_id_is_its_own_ref_id_and_comes_back_from_it():
    ref_id = ref_id_of(COID)

    assert ref_id == "01234567-89ab-cdef-0123-456789abcdef"
    assert client_order_id_of({"id": "x", "ref_id": ref_id}) == COID


def test_another_id_gets_a_stable_uuid5_and_an_app_order_a_name_of_its_own():
    assert ref_id_of("my-order-1") == ref_id_of("my-order-1") != ref_id_of("my-order-2")
    assert client_order_id_of({"id": "abc", "ref_id": None}) == "rh-abc"


def order(**fields: Any) -> dict[str, Any]:
    return {
        "id": "o1",
        "ref_id": ref_id_of(COID),
        "side": "buy",
        "type": "limit",
        "trigger": "immediate",
        "state": "confirmed",
        "quantity": "10.00000000",
        "cumulative_quantity": "0.00000000",
        "price": "190.00000000",
        "stop_price": None,
        "average_price": None,
        "fees": "0.00",
        "executions": [],
        "created_at": "2026-12-07T15:00:00.000000Z",
        "updated_at": "2026-12-07T15:00:01.500000Z",
    } | fields


@pytest.mark.parametrize(
    ("state", "cumulative", "status"),
    [
        ("unconfirmed", "0", OrderStatus.ACCEPTED),  # Robinhood has it, not yet working
        ("queued", "0", OrderStatus.ACCEPTED),
        ("confirmed", "0", OrderStatus.ACCEPTED),
        ("confirmed", "4", OrderStatus.PARTIALLY_FILLED),
        ("partially_filled", "4", OrderStatus.PARTIALLY_FILLED),
        ("filled", "10", OrderStatus.FILLED),
        ("unconfirmed", "10", OrderStatus.FILLED),  # the state left behind by a fill
        ("cancelled", "4", OrderStatus.CANCELED),  # part filled, then cancelled
        ("rejected", "0", OrderStatus.REJECTED),
        ("failed", "0", OrderStatus.REJECTED),
    ],
)
def test_each_state(state: str, cumulative: str, status: OrderStatus):
    assert status_of(order(state=state, cumulative_quantity=cumulative)) is status


def test_a_report_reads_the_order():
    report = report_of(
        order(state="partially_filled", cumulative_quantity="4", average_price="189.5"),
        "a",
        "AAPL",
    )

    assert (report.client_order_id, report.venue_order_id, report.symbol) == (COID, "o1", "AAPL")
    assert (report.side, report.type, report.qty, report.price) == (
        Side.BUY,
        OrderType.LIMIT,
        D(10),
        D(190),
    )
    assert (report.filled_qty, report.avg_fill_price) == (D(4), D("189.5"))
    assert report.ts == ns_of("2026-12-07T15:00:01.500000Z")


def execution(number: int, qty: str, price: str) -> dict[str, Any]:
    return {
        "id": f"e{number}",
        "quantity": qty,
        "price": price,
        "timestamp": f"2026-12-07T15:00:0{number}.000000Z",
        "settlement_date": "2026-12-08",
    }


def test_executions_are_fills_once_each_with_the_new_fees_on_the_first():
    seen: set[str] = set()
    first = order(executions=[execution(1, "4", "189.90")], fees="0.02")
    fills, charged = fills_of(first, "a", "AAPL", seen, D(0))
    both = order(executions=[execution(1, "4", "189.90"), execution(2, "6", "189.95")], fees="0.05")
    more, charged = fills_of(both, "a", "AAPL", seen, charged)
    again, _ = fills_of(both, "a", "AAPL", seen, charged)

    assert [(f.trade_id, f.qty, f.price, f.fee) for f in fills + more] == [
        ("e1", D(4), D("189.90"), D("0.02")),
        ("e2", D(6), D("189.95"), D("0.03")),
    ]
    assert again == []
    assert charged == D("0.05")
    assert {(f.client_order_id, f.side, f.liquidity) for f in fills + more} == {
        (COID, Side.BUY, LiquiditySide.MAKER)
    }


def test_the_recorded_payloads_read():
    listed = json.loads((REFERENCE / "orders_list_page.json").read_text())["results"]
    posted = json.loads((REFERENCE / "order_post_market_queued.json").read_text())
    resting = json.loads((REFERENCE / "order_get_confirmed_stop_limit.json").read_text())

    reports = [report_of(o, "a", "X") for o in [*listed, posted, resting]]

    assert reports[-2].status is OrderStatus.ACCEPTED  # queued
    assert (reports[-1].type, reports[-1].stop_price) == (OrderType.STOP_LIMIT, D("30.06"))
    filled = [r for r, o in zip(reports, listed, strict=False) if o["state"] == "filled"]
    assert filled
    assert all(r.filled_qty > 0 for r in filled)
    for o in listed:
        fills, _ = fills_of(o, "a", "X", set(), D(0))
        assert sum((f.qty for f in fills), D(0)) == D(o["cumulative_quantity"])
