"""The index of resting orders answers exactly what a walk over every order would.

`RestingOrders.candidates` is the paper venue's per-step filter: an order it leaves out
never fills or triggers, an order it adds costs a check. A property test over random
orders, removals, re-indexing and price ranges holds it to the plain definition.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ordergate.domain.values import OrderType, Side, TimeInForce
from ordergate.matching.book import PaperOrder, RestingOrders

PRICES = st.integers(min_value=90, max_value=110).map(lambda n: Decimal(n) / 10)


def reaches(
    order: PaperOrder, min_bid: Decimal, max_bid: Decimal, min_ask: Decimal, max_ask: Decimal
) -> bool:
    """The definition: may this order act within a step spanning these prices?"""
    buy = order.side is Side.BUY
    if order.is_stop_pending and order.stop_price is not None:
        return order.stop_price <= max_ask if buy else order.stop_price >= min_bid
    if order.price is None:
        return True
    return order.price >= min_ask if buy else order.price <= max_bid


@st.composite
def paper_orders(draw: st.DrawFn, priority: int) -> PaperOrder:
    kind = draw(st.sampled_from(list(OrderType)))
    price = draw(PRICES) if kind.needs_price else None
    stop = draw(PRICES) if kind.needs_stop_price else None
    return PaperOrder(
        priority=priority,
        venue_order_id=f"V{priority}",
        client_order_id=f"C{priority}",
        account="acc",
        symbol="BTCUSDT",
        side=draw(st.sampled_from(list(Side))),
        type=kind,
        qty=Decimal(1),
        price=price,
        stop_price=stop,
        time_in_force=TimeInForce.GTC,
        reduce_only=False,
        accepted_day=0,
        ts=0,
        triggered=draw(st.booleans()),
    )


@settings(max_examples=300, deadline=None)
@given(data=st.data(), count=st.integers(min_value=0, max_value=40))
def test_resting_index_candidates_equal_the_walk_over_every_order(
    data: st.DataObject, count: int
) -> None:
    index = RestingOrders()
    held: dict[int, PaperOrder] = {}
    for priority in range(1, count + 1):
        order = data.draw(paper_orders(priority))
        index.add(order)
        held[priority] = order
        if held and data.draw(st.booleans()):  # now and then, one leaves or is re-indexed
            victim = held[data.draw(st.sampled_from(sorted(held)))]
            if data.draw(st.booleans()):
                index.remove(victim)
                del held[victim.priority]
            else:
                index.remove(victim)  # its terms change only while it is out of the index
                victim.triggered = not victim.triggered
                index.add(victim)
    bid_low, bid_high = sorted(data.draw(st.lists(PRICES, min_size=2, max_size=2)))
    ask_low, ask_high = sorted(data.draw(st.lists(PRICES, min_size=2, max_size=2)))

    found = index.candidates(bid_low, bid_high, ask_low, ask_high)

    expected = [
        held[p] for p in sorted(held) if reaches(held[p], bid_low, bid_high, ask_low, ask_high)
    ]
    assert found == expected
    assert len(index) == len(held)
