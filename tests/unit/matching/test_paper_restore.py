"""Re-seeding a fresh venue after a restart: orders, positions and cash."""

from __future__ import annotations

import msgspec
import pytest
from tests.unit.matching.matching_support import (
    BTC,
    MINUTE,
    T0,
    D,
    cash,
    fills_of,
    kinds,
    make_engine,
    position_qty,
    request,
    submit,
    walk,
)

from ordergate.domain.errors import InvalidRequest, RejectedByVenue
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.venue_reports import (
    VenueBalance,
    VenueOrderCanceled,
    VenueOrderReport,
    VenuePosition,
)
from ordergate.matching import DUPLICATE_CLIENT_ORDER_ID, RestoredOrder


def report(
    client_order_id: str = "c1",
    *,
    side: Side = Side.BUY,
    qty: str = "2",
    price: str = "98.0",
    status: OrderStatus = OrderStatus.PARTIALLY_FILLED,
    filled: str = "0.5",
    avg: str | None = "97.0",
    venue_order_id: str | None = "s1-O1",
    ts: int = T0 - 10 * MINUTE,
) -> VenueOrderReport:
    return VenueOrderReport(
        client_order_id=client_order_id,
        venue_order_id=venue_order_id,
        account="acc",
        symbol="BTCUSDT",
        side=side,
        type=OrderType.LIMIT,
        qty=D(qty),
        price=D(price),
        stop_price=None,
        status=status,
        filled_qty=D(filled),
        avg_fill_price=None if avg is None else D(avg),
        ts=ts,
    )


POSITION = VenuePosition("acc", "BTCUSDT", D("0.5"), D("97.0"))
CASH = VenueBalance("acc", "USDT", D("1234.5"))


def test_restored_order_rests_and_fills_its_remainder_with_new_session_ids():
    engine = make_engine(session="s2")
    engine.restore([report()], [POSITION], [CASH])

    events = walk(engine, 0, "100.0", "97.5")

    (fill,) = fills_of(events)
    assert (fill.qty, fill.price, fill.trade_id) == (D("1.5"), D("98.0"), "s2-T1")
    restored = engine.order_report("acc", "BTCUSDT", "c1")
    assert restored is not None
    assert restored.venue_order_id == "s1-O1"
    assert (restored.status, restored.filled_qty) == (OrderStatus.FILLED, D(2))
    assert restored.avg_fill_price == (D("0.5") * D(97) + D("1.5") * D(98)) / D(2)
    assert position_qty(engine) == D(2)


def test_restore_sets_positions_and_replaces_balances():
    engine = make_engine()
    engine.restore([], [POSITION], [CASH])

    assert engine.positions("acc") == [POSITION]
    assert engine.balances("acc") == [VenueBalance("acc", "USD", D(100_000)), CASH]


def test_restored_position_realizes_pnl_against_its_average_price():
    engine = make_engine()
    engine.restore([], [POSITION], [CASH])
    walk(engine, 0, "100.0")

    (fill,) = fills_of(submit(engine, request("x", Side.SELL, OrderType.MARKET, "0.5")))

    assert fill.qty == D("0.5")
    assert cash(engine) == D("1234.5") + D("1.5") - fill.fee
    assert engine.positions("acc") == []


def test_restored_client_order_id_cannot_be_submitted_again():
    engine = make_engine(session="s2")
    engine.restore([report()], [POSITION], [CASH])

    with pytest.raises(RejectedByVenue) as raised:
        engine.submit(request("c1", Side.BUY, OrderType.LIMIT, "1", "90.0"))

    assert raised.value.code == DUPLICATE_CLIENT_ORDER_ID


def test_new_order_ids_skip_restored_ids_of_the_same_session():
    engine = make_engine(session="s1")
    engine.restore([report(venue_order_id="s1-O1")], [POSITION], [CASH])
    walk(engine, 0, "100.0")

    venue_order_id, _ = engine.submit(request("c2", Side.BUY, OrderType.LIMIT, "1", "90.0"))

    assert venue_order_id == "s1-O2"


def test_restored_reduce_only_terms_are_kept():
    engine = make_engine()
    order = RestoredOrder(
        report(
            "tp",
            side=Side.SELL,
            qty="1",
            price="105.0",
            status=OrderStatus.ACCEPTED,
            filled="0",
            avg=None,
        ),
        reduce_only=True,
    )
    engine.restore([order], [], [CASH])

    events = walk(engine, 0, "100.0", "106.0")

    assert kinds(events) == ["VenueOrderCanceled"]
    assert isinstance(events[0], VenueOrderCanceled)
    assert events[0].reason_code == ReasonCode.REDUCE_ONLY_CANCELED


def test_restored_day_order_expires_on_the_next_utc_date():
    engine = make_engine()
    order = RestoredOrder(report(ts=T0 - MINUTE), time_in_force=TimeInForce.DAY)
    engine.restore([order], [POSITION], [CASH])

    assert kinds(walk(engine, 0, "100.0")) == ["VenueOrderExpired"]


def test_restore_orders_sorted_by_time_not_by_argument_order():
    engines = [make_engine(), make_engine()]
    early = report(
        "early",
        status=OrderStatus.ACCEPTED,
        filled="0",
        avg=None,
        venue_order_id="s0-O1",
        ts=T0 - 5 * MINUTE,
    )
    late = report(
        "late",
        status=OrderStatus.ACCEPTED,
        filled="0",
        avg=None,
        venue_order_id="s0-O2",
        ts=T0 - 2 * MINUTE,
    )
    engines[0].restore([early, late], [], [CASH])
    engines[1].restore([late, early], [], [CASH])

    first, second = (walk(engine, 0, "100.0", "97.0") for engine in engines)

    assert first == second
    assert [fill.client_order_id for fill in fills_of(first)] == ["early", "late"]


@pytest.mark.parametrize(
    "bad",
    [
        report(status=OrderStatus.FILLED),
        report(filled="2"),
        report(avg=None),
        msgspec.structs.replace(report(), symbol="NOPE"),
        msgspec.structs.replace(report(), price=D("98.05")),  # off the tick
    ],
)
def test_restore_refuses_orders_that_cannot_be_open(bad):
    engine = make_engine()

    with pytest.raises(InvalidRequest):
        engine.restore([bad], [], [])


@pytest.mark.parametrize(
    ("tif", "code"),
    [(TimeInForce.IOC, ReasonCode.IOC_UNFILLED), (TimeInForce.FOK, ReasonCode.FOK_UNFILLED)],
)
def test_restored_ioc_or_fok_order_is_canceled_as_it_would_have_been(tif, code):
    engine = make_engine()

    events = engine.restore([RestoredOrder(report(), time_in_force=tif)], [POSITION], [CASH])

    assert kinds(events) == ["VenueOrderCanceled"]
    assert isinstance(events[0], VenueOrderCanceled)
    assert events[0].reason_code == code
    restored = engine.order_report("acc", "BTCUSDT", "c1")
    assert restored is not None
    assert (restored.status, restored.filled_qty) == (OrderStatus.CANCELED, D("0.5"))


def test_restore_of_resting_orders_emits_no_events():
    engine = make_engine()

    assert engine.restore([report()], [POSITION], [CASH]) == []


def test_restore_refuses_a_venue_that_already_has_orders():
    engine = make_engine()
    walk(engine, 0, "100.0")
    submit(engine, request("x", Side.BUY, OrderType.LIMIT, "1", "90.0"))

    with pytest.raises(InvalidRequest):
        engine.restore([], [POSITION], [CASH])


def test_restore_refuses_duplicate_client_order_ids():
    engine = make_engine()

    with pytest.raises(InvalidRequest):
        engine.restore([report(venue_order_id="a"), report(venue_order_id="b")], [], [CASH])


@pytest.mark.parametrize(
    ("first", "second"),
    [("s1-O7", "s1-O7"), (None, "s1-O1")],
    ids=["the same id twice", "an id this restore already handed out"],
)
def test_restore_refuses_a_venue_order_id_it_holds_already(first: str | None, second: str) -> None:
    engine = make_engine(session="s1")
    orders = [
        RestoredOrder(report("c1", venue_order_id=first)),
        RestoredOrder(report("c2", venue_order_id=second, ts=T0 - 5 * MINUTE)),
    ]

    with pytest.raises(InvalidRequest, match="restored twice"):
        engine.restore(orders, [POSITION], [CASH])


def test_restore_needs_known_instrument_for_positions():
    engine = make_engine(instruments=(BTC,))

    with pytest.raises(InvalidRequest):
        engine.restore([], [VenuePosition("acc", "EURUSD", D(1), D("1.1"))], [])
