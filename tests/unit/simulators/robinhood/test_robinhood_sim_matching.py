"""What one market step fills of a working order, and at what price."""

from __future__ import annotations

import pytest
from robinhood_sim_builders import D, ticket, touch

from ordergate.domain.errors import InvalidRequest
from ordergate.simulators.robinhood.matching import Fill, Touch, fill_on_step, touch_price


@pytest.mark.parametrize(
    ("side", "price", "bid", "ask", "expected"),
    [
        ("buy", "190.00", "189.99", "190.00", Fill(D("190.00"), D(10))),  # ask reaches the limit
        ("buy", "190.00", "188.00", "189.00", Fill(D("190.00"), D(10))),  # below: at the limit
        ("buy", "190.00", "190.00", "190.01", None),
        ("sell", "190.00", "190.00", "190.01", Fill(D("190.00"), D(10))),
        ("sell", "190.00", "189.99", "190.00", None),
    ],
)
def test_a_limit_fills_at_its_limit_once_the_touch_reaches_it(side, price, bid, ask, expected):
    assert fill_on_step(ticket(side, "10", price), D(10), touch(bid, ask), None) == expected


def test_resting_liquidity_caps_what_a_limit_fills_per_step():
    order = ticket("buy", "10", "190.00")

    assert fill_on_step(order, D(10), touch("189", "189.5"), D(4)) == Fill(D("190.00"), D(4))
    assert fill_on_step(order, D(2), touch("189", "189.5"), D(4)) == Fill(D("190.00"), D(2))


def test_a_limit_marketable_when_it_arrives_takes_the_touch_for_all_it_wants():
    buy, sell = ticket("buy", "10", "191.00"), ticket("sell", "10", "189.00")
    market = touch("189.99", "190.01")

    assert fill_on_step(buy, D(10), market, D(4), arriving=True) == Fill(D("190.01"), D(10))
    assert fill_on_step(sell, D(10), market, D(4), arriving=True) == Fill(D("189.99"), D(10))
    assert fill_on_step(buy, D(10), market, D(4)) == Fill(D("191.00"), D(4))  # resting
    assert fill_on_step(ticket("buy", "1", "189"), D(1), market, None, arriving=True) is None


def test_a_market_order_takes_the_touch_for_all_it_wants():
    buy, sell = (
        ticket("buy", "7", None, order_type="market"),
        ticket("sell", "7", None, order_type="market"),
    )

    assert fill_on_step(buy, D(7), touch("10", "11"), D(1)) == Fill(D(11), D(7))
    assert fill_on_step(sell, D(7), touch("10", "11"), D(1)) == Fill(D(10), D(7))
    assert touch_price(buy, touch("10", "11")) == D(11)
    assert touch_price(ticket("sell", "1", "12"), touch("10", "11")) == D(12)


def test_nothing_remaining_fills_nothing():
    assert fill_on_step(ticket(), D(0), touch("1", "2"), None) is None


@pytest.mark.parametrize(("bid", "ask"), [("0", "1"), ("2", "1"), ("-1", "1")])
def test_a_crossed_or_non_positive_touch_is_refused(bid, ask):
    with pytest.raises(InvalidRequest):
        Touch(D(bid), D(ask), D(1))
