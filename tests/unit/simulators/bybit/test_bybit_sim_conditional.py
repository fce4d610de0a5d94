"""Conditional orders on the simulated account: untriggered, triggered, worked, cancelled."""

from __future__ import annotations

import pytest
from bybit_sim_builders import D, conditional, make_exchange, order, quote, ref

from ordergate.domain.values import Side
from ordergate.simulators.bybit.admission import Amendment
from ordergate.simulators.bybit.errors import BybitError, RetCode
from ordergate.simulators.bybit.params import Params
from ordergate.simulators.bybit.queries import order_kind
from ordergate.simulators.bybit.records import (
    ExecutionRecord,
    OrderRecord,
    OrderStatus,
    PositionRecord,
    StreamItem,
    TriggerDirection,
    WalletRecord,
)

BUY, SELL = Side.BUY, Side.SELL


def statuses(batch: list[StreamItem] | tuple[StreamItem, ...]) -> list[object]:
    """The batch as kinds, with each order record's status."""
    return [item.status if isinstance(item, OrderRecord) else type(item) for item in batch]


def test_conditional_order_waits_untriggered_with_its_trigger():
    exchange, batches = make_exchange()

    placed = exchange.create_order(conditional(SELL, "49000", link="s1"))

    assert placed.status is OrderStatus.UNTRIGGERED
    assert placed.trigger is not None
    assert (placed.trigger.price, placed.trigger.direction) == (D(49000), TriggerDirection.FALL)
    assert (placed.is_open, placed.leaves_qty, placed.price) == (True, D("0.01"), None)
    assert placed.last_price_on_created == D("50000.05")
    assert statuses(batches[-1]) == [OrderStatus.UNTRIGGERED, WalletRecord]
    assert exchange.open_orders() == [placed]
    assert exchange.executions() == []


def test_stop_market_streams_triggered_then_fills_at_once_as_taker():
    exchange, batches = make_exchange()
    placed = exchange.create_order(conditional(SELL, "49000"))

    quote(exchange, "BTCUSDT", "48990.0", "48990.1")  # the bid falls through the trigger

    assert statuses(batches[-1]) == [
        OrderStatus.TRIGGERED,
        ExecutionRecord,
        OrderStatus.FILLED,
        PositionRecord,
        WalletRecord,
    ]
    (execution,) = exchange.executions()
    assert (execution.exec_price, execution.exec_qty, execution.is_maker) == (
        D("48990.0"),  # a gap through the trigger fills at the worse bid
        D("0.01"),
        False,
    )
    assert execution.conditional
    done = exchange.find_order(placed.order_id, None)
    assert done is not None
    assert (done.status, done.trigger) == (OrderStatus.FILLED, placed.trigger)
    assert exchange.position("BTCUSDT").size == D("-0.01")


def test_stop_limit_triggered_away_from_its_limit_works_as_new_then_fills_as_maker():
    exchange, batches = make_exchange()
    placed = exchange.create_order(conditional(BUY, "51000", price="51000.0"))

    quote(exchange, "BTCUSDT", "51000.5", "51001.0")  # triggers; the limit does not cross
    triggered = batches[-1]
    quote(exchange, "BTCUSDT", "50999.0", "50999.5")

    assert statuses(triggered) == [OrderStatus.TRIGGERED, OrderStatus.NEW, WalletRecord]
    assert statuses(batches[-1])[:3] == [ExecutionRecord, OrderStatus.FILLED, PositionRecord]
    (execution,) = exchange.executions()
    # The ask jumped through the resting limit: it fills at its limit (decision 0034).
    assert (execution.exec_price, execution.is_maker) == (D("51000.0"), True)
    done = exchange.find_order(placed.order_id, None)
    assert done is not None
    assert done.status is OrderStatus.FILLED


@pytest.mark.parametrize(
    ("side", "trigger", "code", "message"),
    [
        (BUY, "50000.1", RetCode.TRIGGER_NOT_RISING, "expect Rising"),
        (SELL, "50000.0", RetCode.TRIGGER_NOT_FALLING, "expect Falling"),
    ],
)
def test_a_trigger_the_market_has_reached_is_refused_and_creates_nothing(
    side, trigger, code, message
):
    exchange, batches = make_exchange()

    with pytest.raises(BybitError, match=message) as refused:
        exchange.create_order(conditional(side, trigger))

    assert refused.value.code is code
    assert (exchange.orders(), len(batches)) == ([], 0)


def test_a_trigger_placed_before_any_price_fires_at_the_first_quote_that_reaches_it():
    exchange, _ = make_exchange(quoted=False)
    placed = exchange.create_order(conditional(BUY, "50000"))

    quote(exchange, "BTCUSDT", "50000.0", "50000.1")

    done = exchange.find_order(placed.order_id, None)
    assert placed.status is OrderStatus.UNTRIGGERED
    assert done is not None
    assert (done.status, done.avg_price) == (OrderStatus.FILLED, D("50000.1"))


def test_cancel_before_the_trigger_deactivates_and_after_it_cancels():
    exchange, batches = make_exchange()
    waiting = exchange.create_order(conditional(SELL, "49000", link="w"))
    resting = exchange.create_order(conditional(BUY, "51000", price="50500.0", link="r"))
    quote(exchange, "BTCUSDT", "51000.5", "51001.0")  # triggers the buy, which rests

    deactivated = exchange.cancel_order(ref(waiting.order_id))
    cancelled = exchange.cancel_order(ref(resting.order_id))

    assert (deactivated.status, deactivated.cancel_type, deactivated.leaves_qty) == (
        OrderStatus.DEACTIVATED,
        "CancelByUser",
        D(0),
    )
    assert statuses(batches[-2]) == [OrderStatus.DEACTIVATED, WalletRecord]
    assert cancelled.status is OrderStatus.CANCELLED
    assert exchange.open_orders() == []
    assert [r.order_link_id for r in exchange.recently_closed()] == ["w", "r"]


def test_amend_moves_an_untriggered_order_and_refuses_a_passed_trigger():
    exchange, batches = make_exchange()
    placed = exchange.create_order(conditional(SELL, "49000", price="48900.0"))
    the_ref = ref(placed.order_id)

    with pytest.raises(BybitError) as passed:
        exchange.amend_order(Amendment(the_ref, None, None, D("50000.0")))
    amended = exchange.amend_order(Amendment(the_ref, D("0.02"), D("48400.0"), D("48500")))
    quote(exchange, "BTCUSDT", "48900.0", "48900.1")  # the old trigger, not the new one

    assert passed.value.code is RetCode.TRIGGER_NOT_FALLING
    assert amended.trigger is not None
    assert (amended.status, amended.qty, amended.price, amended.trigger.price) == (
        OrderStatus.UNTRIGGERED,
        D("0.02"),
        D(48400),
        D(48500),
    )
    assert statuses(batches[-1]) == [OrderStatus.UNTRIGGERED, WalletRecord]  # the amend
    still = exchange.find_order(placed.order_id, None)
    assert still is not None
    assert still.status is OrderStatus.UNTRIGGERED


def test_a_triggered_order_keeps_its_trigger_and_a_plain_order_has_none_to_amend():
    exchange, _ = make_exchange()
    resting = exchange.create_order(conditional(BUY, "51000", price="50500.0"))
    plain = exchange.create_order(order(price="49000"))
    quote(exchange, "BTCUSDT", "51000.5", "51001.0")

    codes = []
    for target in (resting, plain):
        with pytest.raises(BybitError) as refused:
            exchange.amend_order(Amendment(ref(target.order_id), None, None, D("52000")))
        codes.append(refused.value.code)
    moved = exchange.amend_order(Amendment(ref(resting.order_id), None, D("50600.0"), D("51000")))

    assert codes == [RetCode.PARAMS_ERROR, RetCode.PARAMS_ERROR]
    assert (moved.status, moved.price) == (OrderStatus.NEW, D("50600.0"))


def test_reduce_only_stop_with_nothing_left_to_reduce_triggers_then_cancels():
    exchange, batches = make_exchange()
    exchange.create_order(order(BUY))
    exchange.create_order(conditional(SELL, "49000", reduce_only=True))
    exchange.create_order(order(SELL))  # flat again

    quote(exchange, "BTCUSDT", "48990.0", "48990.1")

    assert statuses(batches[-1]) == [OrderStatus.TRIGGERED, OrderStatus.CANCELLED, WalletRecord]
    cancelled = batches[-1][1]
    assert isinstance(cancelled, OrderRecord)
    assert cancelled.cancel_type == "CancelByReduceOnly"


def test_ten_untriggered_orders_per_symbol_and_they_do_not_count_as_active_orders():
    exchange, _ = make_exchange()
    for step in range(10):
        exchange.create_order(conditional(BUY, str(51000 + step)))

    with pytest.raises(BybitError) as refused:
        exchange.create_order(conditional(BUY, "52000"))
    plain = exchange.create_order(order(price="49000"))

    assert refused.value.code is RetCode.TOO_MANY_CONDITIONAL_ORDERS
    assert plain.status is OrderStatus.NEW
    assert len(exchange.open_orders("BTCUSDT")) == 11


def test_cancel_all_may_select_conditional_orders_only():
    exchange, _ = make_exchange()
    waiting = exchange.create_order(conditional(SELL, "49000"))
    plain = exchange.create_order(order(price="49000"))

    cancelled = exchange.cancel_all("BTCUSDT", lambda record: record.is_conditional)

    assert [record.order_id for record in cancelled] == [waiting.order_id]
    assert cancelled[0].status is OrderStatus.DEACTIVATED
    assert exchange.open_orders() == [plain]


@pytest.mark.parametrize(
    ("params", "taken"),
    [
        ({}, ["stop", "plain"]),
        ({"orderFilter": "Order"}, ["plain"]),
        ({"orderFilter": "StopOrder"}, ["stop"]),
        ({"orderFilter": "StopOrder", "stopOrderType": "Stop"}, ["stop"]),
        ({"orderFilter": "tpslOrder"}, []),
    ],
)
def test_order_filter_selects_plain_or_conditional_orders_and_every_kind_by_default(params, taken):
    exchange, _ = make_exchange()
    exchange.create_order(conditional(SELL, "49000", link="stop"))
    exchange.create_order(order(price="49000", link="plain"))

    kind = order_kind(Params(params))

    assert [r.order_link_id for r in exchange.open_orders() if kind(r)] == taken


@pytest.mark.parametrize(
    "params",
    [
        {"orderFilter": "OpenOrder"},
        {"stopOrderType": "Stop"},
        {"orderFilter": "StopOrder", "stopOrderType": "TakeProfit"},
    ],
)
def test_order_filters_the_simulator_does_not_know_are_refused(params):
    with pytest.raises(BybitError) as refused:
        order_kind(Params(params))

    assert refused.value.code is RetCode.PARAMS_ERROR
