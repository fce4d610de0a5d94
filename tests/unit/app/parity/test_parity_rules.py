"""The parity rules: each explains the difference it describes, exactly, and nothing a
little different. A near miss of every rule is unexplained, so `ordergate parity` fails
on it instead of waving it through."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ordergate.app.parity.orders import ParityOrder
from ordergate.app.parity.rules import Context, Kind, judge, judge_all
from ordergate.app.parity.run import Compared, Fill, Market, Outcome
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce
from ordergate.matching.marketdata import Bar, BarSeries

D = Decimal

MINUTE = 60 * 10**9
M, T = LiquiditySide.MAKER, LiquiditySide.TAKER
# Step times are bar closes: 1, 2, 3, 4 minutes. The third bar opens with a gap down
# from 100 to 95.
SERIES = BarSeries(
    [
        Bar(0, D(100), D(101), D(99), D(100)),
        Bar(MINUTE, D(100), D(104), D(99), D(100)),
        Bar(2 * MINUTE, D(95), D(96), D(94), D(95)),
        Bar(3 * MINUTE, D(95), D(97), D(93), D(96)),
    ]
)
MARKET = Market(SERIES, tick_size=D("0.1"), quote_size=D(1))
STEP2, STEP3 = 2 * MINUTE, 3 * MINUTE


def order(
    type_: OrderType = OrderType.MARKET,
    side: Side = Side.BUY,
    qty: str = "0.5",
    price: str | None = None,
    stop: str | None = None,
    tif: TimeInForce = TimeInForce.GTC,
    reduce_only: bool = False,
    oid: str = "o1",
) -> ParityOrder:
    return ParityOrder(
        id=oid,
        at=MINUTE,
        side=side,
        type=type_,
        qty=D(qty),
        price=None if price is None else D(price),
        stop_price=None if stop is None else D(stop),
        time_in_force=tif,
        reduce_only=reduce_only,
    )


def fill(
    qty: str, price: str, liquidity: LiquiditySide = T, ts: int = STEP2, fee: str = "0"
) -> Fill:
    return Fill(ts, D(qty), D(price), D(fee), liquidity)


def outcome(
    *fills: Fill,
    status: OrderStatus = OrderStatus.FILLED,
    code: str | None = None,
    position: str = "0",
    met: str | None = None,
    shrunk_to: str | None = None,
    accepted: bool = True,
) -> Outcome:
    return Outcome(
        sent=True,
        accepted=accepted,
        status=status,
        reason_code=code,
        fills=list(fills),
        position_sent=D(position),
        position_met=None if met is None else D(met),
        shrunk_to=None if shrunk_to is None else D(shrunk_to),
    )


def verdict(o: ParityOrder, paper: Outcome, nautilus: Outcome, *others: Compared):
    compared = Compared(o, paper, nautilus)
    return judge(compared, Context.of(MARKET, [compared, *others]))


def test_the_same_outcome_is_same():
    f = fill("0.5", "100", fee="0.0275")
    v = verdict(order(), outcome(f), outcome(f))
    assert (v.kind, v.rules) == (Kind.SAME, ())


def test_fees_apart_below_nautilus_precision_are_fee_precision():
    v = verdict(
        order(),
        outcome(fill("0.1", "46720.9", fee="4.599672605")),
        outcome(fill("0.1", "46720.9", fee="4.59967261")),
    )
    assert (v.kind, v.rules) == (Kind.EXPLAINED, ("fee-precision",))


def test_fees_apart_by_more_than_one_unit_are_unexplained():
    v = verdict(
        order(),
        outcome(fill("0.1", "46720.9", fee="4.599672605")),
        outcome(fill("0.1", "46720.9", fee="4.59967263")),
    )
    assert v.kind is Kind.UNEXPLAINED


def test_a_price_apart_is_unexplained():
    v = verdict(order(), outcome(fill("0.5", "100.0")), outcome(fill("0.5", "100.1")))
    assert v.kind is Kind.UNEXPLAINED


@pytest.mark.parametrize(
    ("rest_price", "kind"),
    [("100.1", Kind.EXPLAINED), ("100.2", Kind.UNEXPLAINED), ("99.9", Kind.UNEXPLAINED)],
)
def test_a_market_order_past_the_top_of_book_takes_the_rest_one_tick_worse(rest_price, kind):
    o = order(qty="1.5")
    v = verdict(
        o, outcome(fill("1.5", "100.0")), outcome(fill("1", "100.0"), fill("0.5", rest_price))
    )
    assert v.kind is kind
    if kind is Kind.EXPLAINED:
        assert v.rules == ("book-depth-taker",)


def test_an_ioc_past_the_top_of_book_cancels_the_rest_and_a_fok_fills_nothing():
    ioc = order(OrderType.LIMIT, qty="1.5", price="101", tif=TimeInForce.IOC)
    fok = order(OrderType.LIMIT, qty="1.5", price="101", tif=TimeInForce.FOK)
    paper = outcome(fill("1.5", "100.0"))

    assert verdict(
        ioc, paper, outcome(fill("1", "100.0"), status=OrderStatus.CANCELED, code="IOC_UNFILLED")
    ).rules == ("book-depth-taker",)
    assert verdict(fok, paper, outcome(status=OrderStatus.CANCELED, code="FOK_UNFILLED")).rules == (
        "book-depth-taker",
    )
    # Within the top of book there is nothing to explain a missing fill.
    small = order(OrderType.LIMIT, qty="0.5", price="101", tif=TimeInForce.FOK)
    assert (
        verdict(
            small,
            outcome(fill("0.5", "100.0")),
            outcome(status=OrderStatus.CANCELED, code="FOK_UNFILLED"),
        ).kind
        is Kind.UNEXPLAINED
    )


def test_a_resting_order_past_the_top_of_book_fills_in_pieces_at_its_price():
    o = order(OrderType.LIMIT, qty="1.7", price="99.0")
    paper = outcome(fill("1.7", "99.0", M))

    split = outcome(fill("1", "99.0", M), fill("0.7", "99.0", M, ts=STEP3))
    assert verdict(o, paper, split).rules == ("book-depth-passive",)
    worse = outcome(fill("1", "99.0", M), fill("0.7", "99.1", M))
    assert verdict(o, paper, worse).kind is Kind.UNEXPLAINED
    late = outcome(fill("1", "99.0", M, ts=STEP3), fill("0.7", "99.0", M, ts=STEP3))
    assert verdict(o, paper, late).kind is Kind.UNEXPLAINED


def test_a_stop_limit_nautilus_rests_fills_later_as_maker_between_stop_and_limit():
    o = order(OrderType.STOP_LIMIT, side=Side.SELL, qty="0.1", price="99.0", stop="99.5")
    paper = outcome(fill("0.1", "99.5", T))

    later = outcome(fill("0.1", "99.2", M, ts=STEP3))
    assert verdict(o, paper, later).rules == ("stop-limit-maker",)
    beyond_limit = outcome(fill("0.1", "98.9", M, ts=STEP3))
    assert verdict(o, paper, beyond_limit).kind is Kind.UNEXPLAINED
    as_taker = outcome(fill("0.1", "99.2", T, ts=STEP3))
    assert verdict(o, paper, as_taker).kind is Kind.UNEXPLAINED


def test_an_order_behind_a_fill_that_moved_nautilus_touch_fills_later_at_its_price():
    near = order(OrderType.LIMIT, side=Side.SELL, qty="0.1", price="100.5", oid="near")
    far = order(OrderType.LIMIT, side=Side.SELL, qty="0.1", price="101.0", oid="far")
    near_fill = fill("0.1", "100.5", M)
    nearer = Compared(near, outcome(near_fill), outcome(near_fill))
    paper = outcome(fill("0.1", "101.0", M))
    later = outcome(fill("0.1", "101.0", M, ts=STEP3))

    assert verdict(far, paper, later, nearer).rules == ("touch-moved",)
    # Without the nearer order's fill at that quote, nothing moved the touch.
    assert verdict(far, paper, later).kind is Kind.UNEXPLAINED
    # A buy's fill moves the ask, not the bid a sell limit waits for.
    buyer = order(OrderType.LIMIT, side=Side.BUY, qty="0.1", price="100.5", oid="buyer")
    bought = Compared(buyer, outcome(near_fill), outcome(near_fill))
    assert verdict(far, paper, later, bought).kind is Kind.UNEXPLAINED


def test_a_stop_reached_by_a_gap_fills_at_the_gap_on_paper_at_the_trigger_on_nautilus():
    o = order(OrderType.STOP, side=Side.SELL, qty="0.2", stop="97.0")
    # The third bar opens at 95, below the stop of 97: a gap through it.
    paper = outcome(fill("0.2", "95", ts=STEP3))
    assert verdict(o, paper, outcome(fill("0.2", "97.0", ts=STEP3))).rules == ("stop-gap",)
    # Reached inside a bar (no gap), both fill at the stop: a difference is unexplained.
    inside = order(OrderType.STOP, side=Side.SELL, qty="0.2", stop="99.5")
    assert (
        verdict(
            inside, outcome(fill("0.2", "99", ts=STEP2)), outcome(fill("0.2", "99.5", ts=STEP2))
        ).kind
        is Kind.UNEXPLAINED
    )


def test_reduce_only_orders_with_nothing_to_reduce_shrunk_or_growing_the_position():
    canceled: dict[str, Any] = {
        "status": OrderStatus.CANCELED,
        "code": ReasonCode.REDUCE_ONLY_CANCELED,
    }
    sell = order(side=Side.SELL, qty="0.3", reduce_only=True)

    refused = outcome(status=OrderStatus.REJECTED, code="REDUCE_ONLY_NO_POSITION")
    assert verdict(sell, outcome(**canceled), refused).rules == ("reduce-only-refused",)
    long = outcome(status=OrderStatus.REJECTED, code="REDUCE_ONLY_NO_POSITION", position="1")
    assert verdict(sell, outcome(**canceled), long).kind is Kind.UNEXPLAINED

    f = fill("0.2", "100")
    shrunk = outcome(f, position="0.2", shrunk_to="0.2")
    assert verdict(sell, outcome(f, **canceled, position="0.2"), shrunk).rules == (
        "reduce-only-shrunk",
    )

    short = outcome(**canceled, position="1", met="-0.5")
    grown = outcome(fill("0.3", "100"), position="1", met="-0.5")
    assert verdict(sell, short, grown).rules == ("reduce-only-grows",)
    too_much = outcome(fill("0.6", "100"), position="1", met="-0.5")
    assert verdict(order(side=Side.SELL, qty="0.6", reduce_only=True), short, too_much).kind is (
        Kind.UNEXPLAINED
    )


def test_a_reduce_only_order_meeting_different_positions_is_position_differs():
    sell = order(side=Side.SELL, qty="0.3", reduce_only=True)
    paper = outcome(fill("0.1", "100"), position="0.1", met="0.1", status=OrderStatus.CANCELED)
    nautilus = outcome(fill("0.3", "100"), position="0.5", met="0.5")
    assert verdict(sell, paper, nautilus).rules == ("position-differs",)
    # Not reduce-only: the position does not change what it fills.
    plain = order(side=Side.SELL, qty="0.3")
    assert verdict(plain, paper, nautilus).kind is Kind.UNEXPLAINED


def test_an_order_beyond_margin_refused_by_paper_and_taken_by_nautilus():
    o = order(qty="0.5")
    paper = outcome(
        status=OrderStatus.REJECTED, code=ReasonCode.VENUE_INSUFFICIENT_MARGIN, accepted=False
    )
    assert verdict(o, paper, outcome(fill("0.5", "100"))).rules == ("no-margin-check",)


def test_judge_all_keeps_the_run_order():
    a, b = order(oid="a"), order(oid="b")
    f = fill("0.5", "100")
    runs = [
        Compared(a, outcome(f), outcome(f)),
        Compared(b, outcome(f), outcome(fill("0.5", "101"))),
    ]
    assert [(v.compared.order.id, v.kind) for v in judge_all(MARKET, runs)] == [
        ("a", Kind.SAME),
        ("b", Kind.UNEXPLAINED),
    ]
