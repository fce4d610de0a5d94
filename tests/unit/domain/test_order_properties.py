"""Properties of one order under random event sequences (hypothesis)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.fakes import BTC

from ordergate.domain.errors import DuplicateFill, InvalidTransition
from ordergate.domain.events import OrderEvent, OrderFilled, OrderReplaced, OrderReplaceRequested
from ordergate.domain.orders import TRANSITIONS, Order, OrderFlag, Trigger

from .builders import event_for, fill_of, new_order, snapshot

FILL_TRIGGERS = (Trigger.FILL_PARTIAL, Trigger.FILL_FULL)
NON_FILL_TRIGGERS = [t for t in Trigger if t not in FILL_TRIGGERS]
TRADE_IDS = [f"T{i}" for i in range(8)]  # a small pool, so trade ids repeat
STEP = BTC.lot_step
TICK = BTC.tick_size

PROPERTY_SETTINGS = settings(
    max_examples=150,
    database=None,
)


def draw_event(data: st.DataObject, order: Order) -> OrderEvent:
    if data.draw(st.integers(0, 2), label="fill?") == 0:
        steps = data.draw(st.integers(1, 400), label="fill steps")
        ticks = data.draw(st.integers(400_000, 600_000), label="fill ticks")
        trade_id = data.draw(st.sampled_from(TRADE_IDS), label="trade id")
        return fill_of(order, steps * STEP, ticks * TICK, trade_id=trade_id)
    allowed = [t for t in NON_FILL_TRIGGERS if (order.status, t) in TRANSITIONS]
    if allowed and data.draw(st.integers(0, 4), label="allowed trigger?") > 0:
        trigger = data.draw(st.sampled_from(allowed), label="trigger")
    else:
        trigger = data.draw(st.sampled_from(NON_FILL_TRIGGERS), label="trigger")
    if trigger in (Trigger.REQUEST_REPLACE, Trigger.REPLACE):
        # A venue never confirms a replace below what has filled when it confirms; that
        # race (a fill overtaking the replace) is tested on its own in test_order_fills.
        new_qty = order.filled_qty + data.draw(st.integers(1, 2000), label="new qty") * STEP
        cls = OrderReplaceRequested if trigger is Trigger.REQUEST_REPLACE else OrderReplaced
        return cls(order.order_id, new_qty, order.price, None, order.updated_ts + 1)
    return event_for(order, trigger)


@PROPERTY_SETTINGS
@given(data=st.data(), qty_steps=st.integers(1, 2000), length=st.integers(1, 40))
def test_order_random_events_filled_qty_monotonic_bounded_and_sums_distinct_fills(
    data, qty_steps, length
):
    order = new_order(qty=qty_steps * STEP)
    applied_fills: dict[str, Decimal] = {}

    for _ in range(length):
        event = draw_event(data, order)
        filled_before = order.filled_qty
        if not order.can_apply(event):
            before = snapshot(order)
            try:
                order.apply(event)
            except (InvalidTransition, DuplicateFill):
                pass
            else:
                raise AssertionError(f"can_apply refused {event!r} but apply took it")
            assert snapshot(order) == before
            continue

        order.apply(event)
        if isinstance(event, OrderFilled):
            applied_fills[event.trade_id] = event.qty

        assert order.filled_qty >= filled_before
        assert order.filled_qty <= order.qty
        assert order.filled_qty + order.overfill_qty == sum(applied_fills.values(), Decimal(0))
        assert order.trade_ids == set(applied_fills)
        assert (order.overfill_qty > 0) == (OrderFlag.OVERFILL in order.flags)
        assert order.leaves_qty >= 0
