"""The bridge's frames as ordergate's venue reports: the server's clock as UTC, a hedging
account's positions as one per symbol, each event type, and the names of orders
ordergate did not send."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import LiquiditySide, OrderStatus, Side
from ordergate.engine.venue_reports import (
    VenueFill,
    VenueOrderCanceled,
    VenueOrderExpired,
    VenuePosition,
)
from ordergate.venues.mt5.translate import (
    ServerTime,
    event_of,
    name_of,
    net_positions,
    parent_of,
    part_id,
    report_of,
    ticket_named,
)

D = Decimal
CLOCK = ServerTime(7200)
COID = "cd" * 16


def test_server_time_is_utc_plus_the_offset_and_a_since_bound_rounds_up():
    assert CLOCK.ns(7_200_000 + 1_500) == 1_500_000_000
    assert CLOCK.ms_since(1_500_000_000) == 7_201_500
    assert CLOCK.ms_since(1_500_000_001) == 7_201_501  # nothing earlier taken


def test_parts_and_external_orders_are_named_back():
    assert part_id(COID, 1) == COID
    assert parent_of(part_id(COID, 3)) == COID
    assert parent_of("flat:1000001") == "flat:1000001"  # not a part of one of ours
    assert name_of({"client_order_id": None, "ticket": 42}) == "mt5-42"
    assert name_of({"client_order_id": None, "order": 43}, "order") == "mt5-43"
    assert (ticket_named("mt5-42"), ticket_named(COID), ticket_named("mt5-x")) == (42, None, None)


def position(side: str, volume: str, price: str, symbol: str = "EURUSD") -> dict[str, Any]:
    return {"symbol": symbol, "side": side, "volume": volume, "price_open": price}


def test_a_hedging_accounts_positions_are_one_net_position_per_symbol():
    held = [
        position("buy", "0.10", "1.10000"),
        position("buy", "0.30", "1.20000"),
        position("sell", "0.15", "1.30000"),
        position("sell", "0.20", "1.25000", "GBPUSD"),
        position("buy", "0.20", "1.26000", "GBPUSD"),  # flat: left out
    ]

    assert net_positions(held, "a") == [
        VenuePosition("a", "EURUSD", D("0.25"), D("1.175")),  # priced on the longs
    ]


def order(**fields: Any) -> dict[str, Any]:
    return {
        "ticket": 1000001,
        "client_order_id": COID,
        "symbol": "EURUSD",
        "side": "buy",
        "type": "limit",
        "state": "placed",
        "volume_initial": "0.30",
        "volume_current": "0.30",
        "price": "1.09000",
        "stop_price": None,
        "time_in_force": "GTC",
        "time_setup": 7_200_000,
        "time_done": None,
    } | fields


@pytest.mark.parametrize(
    ("state", "current", "status"),
    [
        ("placed", "0.30", OrderStatus.ACCEPTED),
        ("placed", "0.10", OrderStatus.PARTIALLY_FILLED),
        ("partial", "0.10", OrderStatus.PARTIALLY_FILLED),
        ("filled", "0.00", OrderStatus.FILLED),
        ("canceled", "0.10", OrderStatus.CANCELED),
        ("expired", "0.30", OrderStatus.EXPIRED),
        ("rejected", "0.30", OrderStatus.CANCELED),  # placed, then ended by the server
    ],
)
def test_an_orders_state_and_filled_volume(state: str, current: str, status: OrderStatus):
    report = report_of(order(state=state, volume_current=current), "a", CLOCK)

    assert (report.status, report.filled_qty) == (status, D("0.30") - D(current))
    assert (report.client_order_id, report.venue_order_id, report.side) == (
        COID,
        "1000001",
        Side.BUY,
    )


def frame(kind: str, **payload: Any) -> dict[str, Any]:
    return {"v": 1, "session": "s", "seq": 1, "ts": 7_201_000, "type": kind} | payload


def test_a_deal_is_a_fill_its_charges_the_fee():
    deal = {
        "ticket": 2000001,
        "order": 1000001,
        "client_order_id": None,
        "symbol": "EURUSD",
        "side": "sell",
        "price": "1.09500",
        "volume": "0.10",
        "commission": "-0.35",
        "fee": "-0.05",
        "time": 7_201_000,
    }

    fill = event_of(frame("fill", deal=deal), "a", "USD", CLOCK, LiquiditySide.TAKER)

    assert fill == VenueFill(
        "mt5-1000001", "a", "EURUSD", Side.SELL, "2000001", D("0.10"), D("1.09500"),
        D("0.40"), "USD", LiquiditySide.TAKER, None, 1_000_000_000,
    )  # fmt: skip


def test_cancels_expiries_and_late_rejections_end_the_order():
    canceled = event_of(
        frame("order_canceled", order=order(state="canceled", volume_current="0.10")),
        "a", "USD", CLOCK, LiquiditySide.TAKER,
    )  # fmt: skip
    expired = event_of(
        frame("order_expired", order=order(state="expired", time_in_force="DAY")),
        "a", "USD", CLOCK, LiquiditySide.TAKER,
    )  # fmt: skip
    rejected = event_of(
        frame(
            "order_rejected",
            client_order_id=part_id(COID, 2),
            ticket=1000002,
            retcode=10019,
            retcode_name="TRADE_RETCODE_NO_MONEY",
            message="no money",
        ),
        "a", "USD", CLOCK, LiquiditySide.TAKER,
    )  # fmt: skip

    assert canceled == VenueOrderCanceled(COID, None, None, None, 1_000_000_000, D("0.20"))
    assert expired == VenueOrderExpired(
        COID, ReasonCode.DAY_ORDER_EXPIRED, None, 1_000_000_000, D(0)
    )
    assert isinstance(rejected, VenueOrderCanceled)
    assert (rejected.client_order_id, rejected.reason_code) == (
        COID,
        ReasonCode.VENUE_INSUFFICIENT_MARGIN,
    )
    assert "TRADE_RETCODE_NO_MONEY" in (rejected.reason or "")


@pytest.mark.parametrize("kind", ["order_accepted", "order_modified", "position", "account"])
def test_what_the_reply_or_reconciliation_carries_is_not_passed_on(kind: str):
    assert event_of(frame(kind, order=order()), "a", "USD", CLOCK, LiquiditySide.TAKER) is None
