"""Properties of the signal policy over random instruments, quotes, signals and settings.

The oracle is `fractions.Fraction`: exact rational arithmetic, independent of the decimal
context the policy computes in.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.fakes import BTC, EURUSD

from ordergate.domain.instruments import Instrument
from ordergate.domain.limits import NO_LIMITS, RiskLimits
from ordergate.domain.signal_model import SignalReason, TradingSignal
from ordergate.domain.signal_policy import (
    PricingRule,
    SignalDecision,
    SignalPolicy,
    decide,
)
from ordergate.domain.values import OrderType, Side
from ordergate.engine.commands import PlaceOrder
from ordergate.engine.venue_reports import Quote

D = Decimal
R = SignalReason
LOTS = Instrument(  # whole contracts on a half-point grid
    symbol="LOTS",
    base_currency="X",
    quote_currency="USD",
    tick_size=D("0.5"),
    lot_step=D("1"),
    min_qty=D("1"),
    contract_size=D("10"),
)
FINE = Instrument(  # a fine grid with awkward steps
    symbol="FINE",
    base_currency="F",
    quote_currency="USDT",
    tick_size=D("0.0003"),
    lot_step=D("0.007"),
    min_qty=D("0.007"),
)
INSTRUMENTS = [BTC, EURUSD, LOTS, FINE]
PROPERTY_SETTINGS = settings(
    max_examples=400,
    database=None,
)


@st.composite
def markets(draw: st.DrawFn) -> tuple[Instrument, Quote | None]:
    instrument = draw(st.sampled_from(INSTRUMENTS))
    if draw(st.integers(0, 9)) == 0:
        return instrument, None
    bid = draw(st.integers(1, 10**6)) * instrument.tick_size
    ask = bid + draw(st.integers(0, 2_000)) * instrument.tick_size
    return instrument, Quote(symbol=instrument.symbol, bid=bid, ask=ask, last=bid, ts=0)


def amounts(low: str, high: str, places: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=D(low), max_value=D(high), places=places)


def spread_out(low_exponent: int, high_exponent: int) -> st.SearchStrategy[Decimal]:
    """Amounts over many orders of magnitude, with up to four significant digits."""
    return st.builds(
        lambda digits, exponent: D(digits).scaleb(exponent),
        st.integers(1, 9999),
        st.integers(low_exponent, high_exponent),
    )


@st.composite
def signals(draw: st.DrawFn, instrument: Instrument) -> TradingSignal:
    qty: Decimal | None = draw(spread_out(-6, 3))
    notional: Decimal | None = None
    if draw(st.booleans()):
        qty, notional = None, draw(spread_out(-2, 8))
    hint = draw(st.none() | spread_out(-4, 3))
    return TradingSignal(
        signal_id=draw(st.sampled_from(["sig-1", "a" * 120, "x:y"])),
        strategy="momentum",
        symbol=instrument.symbol,
        side=draw(st.sampled_from(Side)),
        confidence=draw(amounts("0", "1", 3)),
        timestamp=0,
        account="acct-1",
        price=hint,
        trace_id=draw(st.none() | st.just("trace-1")),
        qty=qty,
        notional=notional,
    )


POLICIES = st.builds(
    SignalPolicy,
    market_order_confidence_threshold=amounts("0", "1", 2),
    market_order_spread_threshold=amounts("0", "2", 3),
    limit_order_price_offset_ratio=amounts("0", "1", 2),
    max_single_order_size=spread_out(-2, 6),
    enable_order_splitting=st.booleans(),
    max_split_orders=st.sampled_from([9999, 100, 3, 1]),
    cancel_opposite_orders_only=st.booleans(),
)
LIMITS = st.sampled_from(
    [NO_LIMITS, RiskLimits(limit_offset_bps=D("5")), RiskLimits(limit_offset_abs=D("1"))]
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[TradingSignal, Quote | None, Instrument, RiskLimits, Any]:
    instrument, book = draw(markets())
    return draw(signals(instrument)), book, instrument, draw(LIMITS), draw(POLICIES)


def notional(instrument: Instrument, qty: Decimal, price: Decimal) -> Fraction:
    return Fraction(qty) * Fraction(price) * Fraction(instrument.contract_size)


@PROPERTY_SETTINGS
@given(cases())
def test_decide_every_intent_is_a_valid_place_order(case):
    decision = decide(*case)

    for intent in decision.orders:
        PlaceOrder(**msgspec.structs.asdict(intent))  # raises InvalidRequest if not


@PROPERTY_SETTINGS
@given(cases())
def test_decide_is_deterministic_so_a_redelivery_derives_the_same_keys(case):
    first, again = decide(*case), decide(*case)

    assert first == again
    keys = [o.idempotency_key for o in first.orders]
    assert len(set(keys)) == len(keys)


@PROPERTY_SETTINGS
@given(cases())
def test_decide_quantity_is_the_largest_on_the_step_within_what_was_asked(case):
    sig, _, instrument, _, _ = case
    decision = decide(*case)
    if decision.reason in (None, R.SIGNAL_SPLIT_BELOW_STEP, R.SIGNAL_TOO_MANY_ORDERS):
        qty, step = decision.inputs.qty, instrument.lot_step
        assert qty is not None
        assert qty > 0
        assert instrument.is_on_step(qty)
        if sig.qty is not None:
            assert qty <= sig.qty < qty + step
        else:
            assert sig.notional is not None
            reference = decision.inputs.reference_price
            assert reference is not None
            asked = Fraction(sig.notional)
            assert notional(instrument, qty, reference) <= asked
            assert notional(instrument, qty + step, reference) > asked


@PROPERTY_SETTINGS
@given(cases())
def test_decide_split_parts_sum_to_the_whole_within_the_max_in_the_fewest_orders(case):
    sig, _, instrument, _, policy = case
    decision = decide(*case)
    if decision.reason is not None:
        return
    parts = [o.qty for o in decision.orders]
    total = decision.inputs.qty
    reference = decision.inputs.reference_price
    assert total is not None
    assert reference is not None
    limit = Fraction(policy.max_single_order_size)

    assert sum(parts) == total
    assert len(parts) == decision.inputs.parts
    if len(parts) == 1:
        assert not policy.enable_order_splitting or notional(instrument, total, reference) <= limit
        assert decision.orders[0].idempotency_key == sig.signal_id
        return
    assert policy.enable_order_splitting
    assert len(parts) <= policy.max_split_orders
    biggest = parts[0]
    assert all(p == biggest for p in parts[:-1])
    assert 0 < parts[-1] <= biggest
    assert all(instrument.is_on_step(p) for p in parts)
    assert all(notional(instrument, p, reference) <= limit for p in parts)
    # The parts are as big as the max allows, so no fewer orders could hold the total.
    assert notional(instrument, biggest + instrument.lot_step, reference) > limit
    assert biggest * (len(parts) - 1) < total
    assert [o.idempotency_key for o in decision.orders] == [
        f"{sig.signal_id}:{i}" for i in range(1, len(parts) + 1)
    ]


@PROPERTY_SETTINGS
@given(cases())
def test_decide_market_exactly_when_confident_and_the_spread_is_tight(case):
    sig, book, _, _, policy = case
    decision = decide(*case)
    if decision.reason is not None or book is None:
        return
    bid, ask = Fraction(book.bid), Fraction(book.ask)
    spread_pct = (ask - bid) / ((ask + bid) / 2) * 100
    expected_market = (
        sig.confidence >= policy.market_order_confidence_threshold
        and spread_pct <= Fraction(policy.market_order_spread_threshold)
    )

    assert (decision.inputs.order_type is OrderType.MARKET) is expected_market


@PROPERTY_SETTINGS
@given(cases())
def test_decide_limit_price_never_crosses_more_than_the_ratio_and_is_on_the_tick(case):
    sig, book, instrument, _, policy = case
    decision = decide(*case)
    if decision.inputs.pricing is not PricingRule.SPREAD_RATIO or decision.reason is not None:
        return
    assert book is not None
    price = decision.orders[0].price
    assert price is not None
    assert instrument.is_on_tick(price)
    bid, ask = Fraction(book.bid), Fraction(book.ask)
    ratio = Fraction(policy.limit_order_price_offset_ratio)
    tick = Fraction(instrument.tick_size)
    if sig.side is Side.BUY:
        raw = bid + ratio * (ask - bid)
        assert raw - tick < Fraction(price) <= raw
    else:
        raw = ask - ratio * (ask - bid)
        assert raw <= Fraction(price) < raw + tick


@PROPERTY_SETTINGS
@given(cases())
def test_decide_offset_limits_are_priced_by_the_engine_and_others_carry_a_price(case):
    _, book, _, limits, _ = case
    decision: SignalDecision = decide(*case)
    offset = limits.limit_offset_bps is not None or limits.limit_offset_abs is not None

    for intent in decision.orders:
        if intent.type is OrderType.MARKET:
            assert intent.price is None
            assert not intent.price_at_offset
        elif intent.price_at_offset:
            assert offset
            assert book is not None
            assert intent.price is None
        else:
            assert intent.price is not None
            assert not offset or book is None
