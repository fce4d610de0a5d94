"""The broker: admission, confirmation, matching on steps with partial fills, the
executions a poller diffs, cancels, and the order faults."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from robinhood_sim_builders import D, FakeClock, make_broker, ticket, touch

from ordergate.simulators.robinhood.errors import RobinhoodError
from ordergate.simulators.robinhood.states import OrderState

S = OrderState


def refusal(call) -> tuple[int, object]:
    with pytest.raises(RobinhoodError) as refused:
        call()
    return refused.value.status, refused.value.body


def test_a_resting_buy_is_confirmed_and_holds_buying_power():
    rig = make_broker()

    order = rig.broker.place(ticket("buy", "10", "189.00"))

    assert (order.state, order.executions) == (S.CONFIRMED, [])
    assert rig.broker.cash_held_for_orders() == D("1890.00")
    assert rig.broker.buying_power() == D(100_000) - D("1890.00")
    assert rig.broker.shares_held("AAPL", "buy") == D(10)


def test_a_marketable_limit_fills_at_once_at_the_touch():
    rig = make_broker(liquidity={"AAPL": D(1)})  # AAPL starts at 190.00 / 190.01

    order = rig.broker.place(ticket("buy", "2", "191.00"))

    assert order.state is S.FILLED
    # It takes the ask, its limit or better, and all of it: resting liquidity is not its.
    assert [(e.price, e.quantity) for e in order.executions] == [(D("190.01"), D(2))]
    assert rig.broker.ledger.cash == D(100_000) - D("380.02")


def test_partial_fills_across_steps_grow_the_executions_by_each_steps_fill():
    rig = make_broker(liquidity={"AAPL": D(4)})
    order = rig.broker.place(ticket("buy", "10", "190.00"))
    polls: list[list[tuple[D, D]]] = []

    for _ in range(3):
        rig.clock.ns += 60_000_000_000
        rig.broker.step("AAPL", touch("189.99", "190.00"))
        polls.append([(e.quantity, D(e.ns)) for e in order.executions])

    new_each_poll = [
        len(after) - len(before) for before, after in zip([[], *polls[:-1]], polls, strict=True)
    ]
    assert new_each_poll == [1, 1, 1]
    assert [q for q, _ in polls[-1]] == [D(4), D(4), D(2)]
    assert polls[1][:1] == polls[0]  # earlier executions never change
    assert (order.state, order.filled, order.average_price) == (S.FILLED, D(10), D("190.00"))
    assert order.executions[0].settlement_date == date(2024, 3, 13)


def test_a_sell_is_paid_into_cash_and_reduces_the_holding():
    rig = make_broker()
    rig.broker.place(ticket("buy", "4", "191.00"))

    sell = rig.broker.place(ticket("sell", "3", "189.00"))

    assert sell.state is S.FILLED
    assert rig.broker.ledger.quantity("AAPL") == D(1)
    assert rig.broker.ledger.cash == D(100_000) - D("760.04") + D("570.00")  # at the touch
    assert rig.broker.ledger.holding("AAPL").average_buy_price == D("190.01")


def test_confirmation_waits_the_configured_steps():
    rig = make_broker(confirm_after_steps=2)
    order = rig.broker.place(ticket("buy", "1", "191.00"))
    states = [order.state]

    for _ in range(2):
        rig.broker.step("AAPL", touch("190.00", "190.01"))
        states.append(order.state)

    assert states == [S.UNCONFIRMED, S.QUEUED, S.FILLED]


def test_outside_its_session_an_order_is_queued_and_waits():
    closed = FakeClock(ns=FakeClock().ns + 12 * 3600 * 1_000_000_000)  # 23:00 in New York
    rig = make_broker(always_open=False, clock=closed)

    order = rig.broker.place(ticket("buy", "1", "191.00"))
    rig.broker.step("AAPL", touch("190.00", "190.01"))

    assert order.state is S.QUEUED


def test_an_ioc_order_is_cancelled_after_its_first_chance():
    rig = make_broker(liquidity={"AAPL": D(1)})

    taken = rig.broker.place(ticket("buy", "3", "191.00", time_in_force="ioc"))
    missed = rig.broker.place(ticket("buy", "3", "150.00", time_in_force="ioc"))

    assert (taken.state, taken.filled) == (S.FILLED, D(3))
    assert (missed.state, missed.filled) == (S.CANCELLED, D(0))


def test_refusals_create_nothing():
    rig = make_broker(cash="1000")
    ref = str(uuid.uuid4())
    rig.broker.place(ticket("buy", "1", "150.00", ref_id=ref))

    assert refusal(lambda: rig.broker.place(ticket("buy", "1", "150.00", ref_id=ref))) == (
        400,
        {"ref_id": ["Order with this ref_id already exists."]},
    )
    assert refusal(lambda: rig.broker.place(ticket("buy", "6", "150.00"))) == (
        400,
        {"detail": "Not enough buying power."},
    )
    assert refusal(lambda: rig.broker.place(ticket("sell", "1", "150.00"))) == (
        400,
        {"detail": "Not enough shares to sell."},
    )
    assert len(rig.broker.orders()) == 1


def test_a_market_buy_holds_the_ask_plus_the_collar():
    rig = make_broker(cash="900")

    assert (
        refusal(lambda: rig.broker.place(ticket("buy", "5", None, order_type="market")))[0] == 400
    )
    order = rig.broker.place(ticket("buy", "4", None, order_type="market"))

    assert order.hold_price == D("199.52")  # 190.01 * 1.05, up to the cent
    assert order.executions[0].price == D("190.01")


def test_a_stop_order_is_created_rejected():
    rig = make_broker()

    order = rig.broker.place(ticket("sell", "1", "180.00", trigger="stop"))

    assert (order.state, order.reject_reason) == (
        S.REJECTED,
        "Stop orders are not supported by this simulator.",
    )


def test_cancels_of_open_orders_succeed_and_of_terminal_ones_are_refused():
    rig = make_broker()
    open_order = rig.broker.place(ticket("buy", "1", "150.00"))
    filled = rig.broker.place(ticket("buy", "1", "191.00"))

    rig.broker.cancel(open_order.id)

    assert open_order.state is S.CANCELLED
    assert refusal(lambda: rig.broker.cancel(filled.id)) == (
        400,
        {"detail": "Order cannot be cancelled."},
    )
    assert refusal(lambda: rig.broker.cancel("nope")) == (404, {"detail": "Not found."})


def test_fill_on_cancel_fills_a_working_order_instead():
    rig = make_broker()
    order = rig.broker.place(ticket("buy", "2", "150.00"))
    rig.faults.add("fill_on_cancel", 1, None, {})

    rig.broker.cancel(order.id)

    assert (order.state, order.filled) == (S.FILLED, D(2))
    assert rig.faults.fired == ["fill_on_cancel"]


def test_partial_then_cancel_fills_half_in_whole_shares_then_cancels():
    rig = make_broker()
    rig.faults.add("partial_then_cancel", 2, None, {})

    odd = rig.broker.place(ticket("buy", "5", "191.00"))
    single = rig.broker.place(ticket("buy", "1", "191.00"))

    assert (odd.state, odd.filled) == (S.CANCELLED, D(2))
    assert (single.state, single.filled) == (S.CANCELLED, D("0.5"))
    assert rig.faults.fired == ["partial_then_cancel", "partial_then_cancel"]


def test_partial_then_cancel_fills_the_quantity_asked():
    rig = make_broker()
    rig.faults.add("partial_then_cancel", 1, None, {"quantity": 3})

    order = rig.broker.place(ticket("buy", "10", "191.00"))

    assert (order.state, order.filled) == (S.CANCELLED, D(3))


def test_unconfirmed_lingers_on_the_next_order_to_fill_only():
    rig = make_broker()
    rig.faults.add("unconfirmed_lingers", 1, None, {})

    resting = rig.broker.place(ticket("buy", "1", "150.00"))
    filled = rig.broker.place(ticket("buy", "1", "191.00"))
    later = rig.broker.place(ticket("buy", "1", "191.00"))

    assert resting.wire_state is S.CONFIRMED
    assert (filled.state, filled.wire_state) == (S.FILLED, S.UNCONFIRMED)
    assert later.wire_state is S.FILLED
