"""A hedging account's market order as MT5 orders: closes of the other side's positions
first, in the configured order and in part where needed, then an opening for the rest;
and the parts' reports read as one."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ordergate.domain.values import OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.venue_reports import VenueOrderReport, VenueOrderRequest
from ordergate.venues.mt5.hedging import combined, plan

D = Decimal
COID = "ab" * 16
STEP = D("0.01")


def request(side: Side, qty: str) -> VenueOrderRequest:
    return VenueOrderRequest(
        COID, "a", "EURUSD", side, OrderType.MARKET, D(qty), None, None, TimeInForce.IOC, False
    )


def args(side: str) -> dict[str, Any]:
    return {"client_order_id": COID, "symbol": "EURUSD", "side": side, "type": "market"}


def position(ticket: int, side: str, volume: str, time: int) -> dict[str, Any]:
    return {"ticket": ticket, "side": side, "volume": volume, "time": time}


HELD = [
    position(11, "buy", "0.20", 2_000),
    position(10, "buy", "0.10", 1_000),
    position(12, "sell", "0.05", 3_000),
]


def test_a_sell_closes_the_oldest_long_whole_then_part_of_the_next():
    parts = plan(request(Side.SELL, "0.25"), args("sell"), HELD, STEP, "oldest", 7)

    assert parts == [
        ("close_position", {"ticket": 10, "client_order_id": COID, "volume": "0.10", "magic": 7}),
        (
            "close_position",
            {"ticket": 11, "client_order_id": f"{COID}.2", "volume": "0.15", "magic": 7},
        ),
    ]


def test_newest_first_closes_the_younger_position_first():
    parts = plan(request(Side.SELL, "0.25"), args("sell"), HELD, STEP, "newest", 0)

    assert [(p[1]["ticket"], p[1]["volume"]) for p in parts] == [(11, "0.20"), (10, "0.05")]


def test_what_the_other_side_cannot_take_opens_a_position_of_its_own():
    parts = plan(request(Side.SELL, "0.40"), args("sell"), HELD, STEP, "oldest", 0)

    assert [c for c, _ in parts] == ["close_position", "close_position", "submit_order"]
    assert parts[-1][1] == args("sell") | {"client_order_id": f"{COID}.3", "volume": "0.10"}


def test_a_buy_closes_the_short_and_never_the_longs():
    parts = plan(request(Side.BUY, "0.05"), args("buy"), HELD, STEP, "oldest", 0)

    assert [(c, p["ticket"]) for c, p in parts] == [("close_position", 12)]


@given(
    volumes=st.lists(st.integers(1, 500), max_size=6),
    qty=st.integers(1, 3_000),
    newest=st.booleans(),
)
def test_parts_add_up_to_the_order_and_close_no_position_beyond_its_volume(
    volumes: list[int], qty: int, newest: bool
):
    held = [position(100 + i, "buy", str(D(v) * STEP), 1_000 * i) for i, v in enumerate(volumes)]
    order = request(Side.SELL, str(D(qty) * STEP))

    parts = plan(order, args("sell"), held, STEP, "newest" if newest else "oldest", 0)

    assert sum(D(p["volume"]) for _, p in parts) == order.qty
    by_ticket = {p["ticket"]: D(p["volume"]) for p in held}
    closes = [p for c, p in parts if c == "close_position"]
    assert all(D(c["volume"]) <= by_ticket[c["ticket"]] for c in closes)
    assert len({c["ticket"] for c in closes}) == len(closes)
    commands = [c for c, _ in parts]
    assert commands == sorted(commands)  # every close before the one opening
    assert [p["client_order_id"] for _, p in parts][:1] == [COID]
    times = [next(h["time"] for h in held if h["ticket"] == c["ticket"]) for c in closes]
    assert times == sorted(times, reverse=newest)


def report(status: OrderStatus, qty: str, filled: str, ts: int) -> VenueOrderReport:
    return VenueOrderReport(
        COID, "1", "a", "EURUSD", Side.SELL, OrderType.MARKET, D(qty), None, None,
        status, D(filled), None, ts,
    )  # fmt: skip


def test_the_parts_read_as_one_order():
    done = report(OrderStatus.FILLED, "0.10", "0.10", 1)
    rest = report(OrderStatus.FILLED, "0.15", "0.15", 2)
    cut = report(OrderStatus.CANCELED, "0.15", "0.05", 3)

    assert (combined([done, rest]).status, combined([done, rest]).filled_qty) == (
        OrderStatus.FILLED,
        D("0.25"),
    )
    assert (combined([done, cut]).status, combined([done, cut]).qty) == (
        OrderStatus.CANCELED,
        D("0.25"),
    )
    assert combined([done, cut]).ts == 3
