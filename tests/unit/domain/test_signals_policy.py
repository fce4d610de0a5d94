"""The signal policy by example: order type at each threshold, pricing, sizing, splitting,
cancel rules, stale orders, dry runs and every reason a signal makes no orders."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from tests.fakes import BTC, EURUSD

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.instruments import Instrument
from ordergate.domain.limits import NO_LIMITS, LimitsBook, RiskLimits
from ordergate.domain.signal_model import SignalReason, TradingSignal
from ordergate.domain.signal_policy import (
    CancelScope,
    OpenOrderRef,
    OrderIntent,
    PricingRule,
    SignalDecision,
    SignalPolicy,
    decide,
    order_key,
    orders_to_cancel,
    placed_by_signal,
    stale_orders,
)
from ordergate.domain.values import OrderType, Side, TimeInForce
from ordergate.engine.commands import PlaceOrder
from ordergate.engine.venue_reports import Quote

D = Decimal
R = SignalReason
# A round-numbered instrument: a spread of 0.10 around 100.00 is exactly 0.1%.
CENT = Instrument(
    symbol="TESTUSDT",
    base_currency="TEST",
    quote_currency="USDT",
    tick_size=D("0.01"),
    lot_step=D("0.001"),
    min_qty=D("0.001"),
)
SECOND = 1_000_000_000


def signal(**changes: Any) -> TradingSignal:
    fields: dict[str, Any] = {
        "signal_id": "sig-1",
        "strategy": "momentum",
        "symbol": CENT.symbol,
        "side": Side.BUY,
        "confidence": D("0.95"),
        "timestamp": 0,
        "account": "acct-1",
        "qty": D("1"),
        **changes,
    }
    return TradingSignal(**fields)


def quote(bid: str, ask: str, symbol: str = CENT.symbol) -> Quote:
    return Quote(symbol=symbol, bid=D(bid), ask=D(ask), last=D(bid), ts=0)


TIGHT = quote("99.95", "100.05")  # mid 100.00, spread exactly 0.1%


def run(
    sig: TradingSignal | None = None,
    book: Quote | None = TIGHT,
    instrument: Instrument = CENT,
    limits: RiskLimits = NO_LIMITS,
    **policy: Any,
) -> SignalDecision:
    return decide(sig or signal(), book, instrument, limits, SignalPolicy(**policy))


def only(decision: SignalDecision) -> OrderIntent:
    assert decision.reason is None, decision.message
    (intent,) = decision.orders
    return intent


# --- MARKET or LIMIT -------------------------------------------------------------------------


def test_decide_confidence_and_spread_exactly_at_thresholds_is_market():
    decision = run(signal(confidence=D("0.9")))

    intent = only(decision)
    assert (intent.type, intent.price, intent.price_at_offset) == (OrderType.MARKET, None, False)
    assert decision.inputs.spread_pct == D("0.1")
    assert decision.inputs.pricing is PricingRule.MARKET


def test_decide_confidence_just_below_threshold_is_limit():
    intent = only(run(signal(confidence=D("0.899999999999"))))

    assert intent.type is OrderType.LIMIT


def test_decide_spread_just_above_threshold_is_limit():
    # spread 0.1001 around 100.00005: 0.10009995...% of the mid
    intent = only(run(book=quote("99.95", "100.0501")))

    assert intent.type is OrderType.LIMIT


def test_decide_spread_threshold_is_percent_of_the_mid_not_of_the_bid():
    # 0.1 / 99.95 is 0.10005% of the bid but exactly 0.1% of the mid 100.00.
    assert only(run(book=quote("99.95", "100.05"))).type is OrderType.MARKET


def test_decide_zero_thresholds_make_market_only_on_a_locked_book():
    def order_type(book: Quote) -> OrderType:
        decision = run(
            signal(confidence=D(0)),
            book,
            market_order_confidence_threshold=D(0),
            market_order_spread_threshold=D(0),
        )
        return only(decision).type

    assert order_type(quote("100", "100")) is OrderType.MARKET
    assert order_type(quote("100", "100.01")) is OrderType.LIMIT


@pytest.mark.parametrize("order_type", [OrderType.MARKET, OrderType.LIMIT])
def test_decide_time_in_force_is_gtc_as_the_api_sends(order_type):
    confidence = D("0.95") if order_type is OrderType.MARKET else D("0.5")

    intent = only(run(signal(confidence=confidence)))

    assert (intent.type, intent.time_in_force) == (order_type, TimeInForce.GTC)


def test_decide_reports_the_inputs_of_the_choice():
    decision = run(signal(confidence=D("0.5"), qty=D("2")), quote("99.90", "100.10"))

    inputs = decision.inputs
    assert inputs.confidence == D("0.5")
    assert (inputs.bid, inputs.ask) == (D("99.90"), D("100.10"))
    assert inputs.spread_pct == D("0.2")
    assert inputs.reference_price == D("100.00")
    assert (inputs.order_type, inputs.pricing) == (OrderType.LIMIT, PricingRule.SPREAD_RATIO)
    assert (inputs.qty, inputs.parts) == (D("2"), 1)
    assert "confidence 0.5 < 0.9" in decision.message


# --- LIMIT prices ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "ratio", "expected"),
    [
        (Side.BUY, "0", "100.00"),
        (Side.BUY, "0.5", "100.10"),
        (Side.BUY, "1", "100.20"),
        (Side.SELL, "0", "100.20"),
        (Side.SELL, "0.5", "100.10"),
        (Side.SELL, "1", "100.00"),
        (Side.BUY, "0.25", "100.05"),
        (Side.SELL, "0.25", "100.15"),
    ],
)
def test_decide_limit_price_is_the_ratio_across_the_spread_from_its_own_side(side, ratio, expected):
    intent = only(
        run(
            signal(side=side, confidence=D("0.5")),
            quote("100.00", "100.20"),
            limit_order_price_offset_ratio=D(ratio),
        )
    )

    assert (intent.type, intent.price) == (OrderType.LIMIT, D(expected))


@pytest.mark.parametrize(("side", "expected"), [(Side.BUY, "100.02"), (Side.SELL, "100.03")])
def test_decide_limit_price_off_the_tick_rounds_away_from_the_far_side(side, expected):
    # The mid 100.025 is between ticks: a buy goes down, a sell up.
    intent = only(run(signal(side=side, confidence=D("0.5")), quote("100.00", "100.05")))

    assert intent.price == D(expected)


def test_decide_limit_offset_in_bps_makes_an_offset_priced_limit_for_the_engine():
    decision = run(signal(confidence=D("0.5")), limits=RiskLimits(limit_offset_bps=D("5")))

    intent = only(decision)
    assert (intent.type, intent.price, intent.price_at_offset) == (OrderType.LIMIT, None, True)
    assert decision.inputs.pricing is PricingRule.RISK_OFFSET


def test_decide_limit_offset_absolute_makes_an_offset_priced_limit_for_the_engine():
    intent = only(run(signal(confidence=D("0.5")), limits=RiskLimits(limit_offset_abs=D("0.5"))))

    assert intent.price_at_offset is True


def test_decide_limit_offset_of_the_signals_strategy_wins_over_the_ratio():
    book = LimitsBook(strategies={"maker": RiskLimits(limit_offset_bps=D("10"))})

    def intent_for(strategy: str) -> OrderIntent:
        sig = signal(strategy=strategy, confidence=D("0.5"))
        return only(run(sig, limits=book.resolve(sig.account, sig.symbol, sig.strategy)))

    assert intent_for("maker").price_at_offset is True
    assert (intent_for("taker").price_at_offset, intent_for("taker").price) == (False, D("100.00"))


def test_decide_limit_offset_leaves_a_market_decision_market():
    intent = only(run(limits=RiskLimits(limit_offset_bps=D("5"))))

    assert intent.type is OrderType.MARKET


# --- no quote: the price hint ---------------------------------------------------------------


@pytest.mark.parametrize(("side", "expected"), [(Side.BUY, "99.99"), (Side.SELL, "100.00")])
def test_decide_without_a_quote_places_a_limit_at_the_hint_on_the_tick(side, expected):
    decision = run(signal(side=side, price=D("99.995")), book=None)

    intent = only(decision)
    assert (intent.type, intent.price) == (OrderType.LIMIT, D(expected))
    assert decision.inputs.pricing is PricingRule.PRICE_HINT
    assert decision.inputs.reference_price == D("99.995")


def test_decide_with_a_quote_ignores_the_price_hint():
    intent = only(run(signal(price=D("90"), confidence=D("0.5"))))

    assert intent.price == D("100.00")


def test_decide_without_a_quote_the_hint_wins_over_a_configured_offset():
    decision = run(signal(price=D("100")), book=None, limits=RiskLimits(limit_offset_bps=D("5")))

    assert (only(decision).price, only(decision).price_at_offset) == (D("100"), False)


@pytest.mark.parametrize(
    "book", [quote("0", "100"), quote("100.1", "100"), quote("-1", "1"), quote("NaN", "1")]
)
def test_decide_unusable_quote_falls_back_to_the_hint(book):
    decision = run(signal(price=D("100")), book=book)

    assert decision.inputs.pricing is PricingRule.PRICE_HINT
    assert decision.inputs.bid is None


# --- quantities -----------------------------------------------------------------------------


def test_decide_qty_off_the_step_is_rounded_down():
    assert only(run(signal(qty=D("1.23456")))).qty == D("1.234")


def test_decide_notional_becomes_qty_at_the_mid_rounded_down():
    # 250 / 100.00 is 2.5 exactly; 1000 / 99.999 is 10.0001000..., down to 10.000.
    assert only(run(signal(qty=None, notional=D("250")))).qty == D("2.5")
    assert only(run(signal(qty=None, notional=D("1000")), quote("99.998", "100"))).qty == D(
        "10.000"
    )


def test_decide_notional_counts_the_contract_size():
    sig = signal(symbol=EURUSD.symbol, qty=None, notional=D("250000"))

    decision = run(sig, quote("1.24999", "1.25001", EURUSD.symbol), instrument=EURUSD)

    # 250,000 USD at 1.25 is 200,000 EUR: two lots of 100,000.
    assert only(decision).qty == D("2")


def test_decide_notional_without_a_quote_is_sized_at_the_hint():
    assert only(run(signal(qty=None, notional=D("500"), price=D("125")), book=None)).qty == D("4")


@pytest.mark.parametrize("changes", [{"qty": D("0.0009")}, {"qty": None, "notional": D("0.09")}])
def test_decide_quantity_below_one_step_makes_no_orders(changes):
    decision = run(signal(**changes))

    assert (decision.reason, decision.orders) == (R.SIGNAL_QTY_BELOW_STEP, ())


# --- splitting ------------------------------------------------------------------------------


def test_decide_splitting_disabled_sends_one_order_whatever_its_size():
    decision = run(signal(qty=D("500")), max_single_order_size=D("10000"))

    assert only(decision).qty == D("500")
    assert only(decision).idempotency_key == "sig-1"


def test_decide_order_worth_exactly_the_max_is_not_split():
    decision = run(
        signal(qty=D("100")), enable_order_splitting=True, max_single_order_size=D(10000)
    )

    assert only(decision).idempotency_key == "sig-1"


def test_decide_large_order_splits_into_the_fewest_equal_parts_and_a_remainder():
    decision = run(
        signal(qty=None, notional=D("25000")),
        enable_order_splitting=True,
        max_single_order_size=D("10000"),
    )

    assert [o.qty for o in decision.orders] == [D("100"), D("100"), D("50")]
    assert [o.idempotency_key for o in decision.orders] == ["sig-1:1", "sig-1:2", "sig-1:3"]
    assert decision.inputs.parts == 3
    assert "split into 3 orders" in decision.message


def test_decide_split_parts_all_carry_the_signals_order_fields():
    decision = run(
        signal(confidence=D("0.5"), qty=D("250"), trace_id="t-1"),
        enable_order_splitting=True,
    )

    first = decision.orders[0]
    for part in decision.orders:
        assert (part.account, part.symbol, part.side, part.strategy, part.trace_id) == (
            "acct-1",
            CENT.symbol,
            Side.BUY,
            "momentum",
            "t-1",
        )
        assert (part.type, part.price) == (first.type, first.price)


def test_decide_max_single_order_size_below_one_step_makes_no_orders():
    decision = run(enable_order_splitting=True, max_single_order_size=D("0.05"))

    assert (decision.reason, decision.orders) == (R.SIGNAL_SPLIT_BELOW_STEP, ())


def test_decide_split_into_more_than_max_split_orders_makes_no_orders():
    sig = signal(qty=D("3"))
    split: dict[str, Any] = {"enable_order_splitting": True, "max_single_order_size": D("100")}

    assert len(run(sig, max_split_orders=3, **split).orders) == 3
    decision = run(sig, max_split_orders=2, **split)
    assert (decision.reason, decision.orders) == (R.SIGNAL_TOO_MANY_ORDERS, ())


# --- refusals --------------------------------------------------------------------------------


def test_decide_without_quote_or_hint_makes_no_orders():
    decision = run(book=None)

    assert (decision.reason, decision.orders) == (R.SIGNAL_NO_PRICE, ())
    assert decision.refused
    assert "no usable quote" in decision.message


def test_decide_hint_below_one_tick_makes_no_orders():
    decision = run(signal(price=D("0.005")), book=None)

    assert decision.reason is R.SIGNAL_NO_PRICE


def test_decide_quantity_beyond_what_ordergate_accepts_makes_no_orders():
    # 1e14 USDT at 0.000001: 1e20 contracts, far above the 1e15 an order may hold.
    tiny = replace(CENT, tick_size=D("0.000001"))
    sig = signal(qty=None, notional=D("1e14"), price=D("0.000001"))

    decision = run(sig, book=None, instrument=tiny)

    assert (decision.reason, decision.orders) == (R.SIGNAL_OUT_OF_RANGE, ())


def test_decide_refused_signal_cancels_nothing():
    decision = run(book=None)

    assert decision.cancel.scope is CancelScope.NONE
    assert orders_to_cancel(decision.cancel, [open_order("9", Side.SELL)]) == ()


def test_decide_instrument_of_another_symbol_is_a_caller_error():
    with pytest.raises(InvalidRequest):
        run(instrument=BTC)


# --- every intent is a PlaceOrder -----------------------------------------------------------


@pytest.mark.parametrize(
    "decision",
    [
        run(),
        run(signal(confidence=D("0.5"), trace_id="t")),
        run(signal(confidence=D("0.5")), limits=RiskLimits(limit_offset_bps=D("5"))),
        run(signal(price=D("99")), book=None),
        run(signal(qty=D("250")), enable_order_splitting=True),
    ],
    ids=["market", "ratio", "offset", "hint", "split"],
)
def test_order_intent_maps_field_for_field_onto_place_order(decision):
    for intent in decision.orders:
        command = PlaceOrder(**msgspec.structs.asdict(intent))

        assert command.idempotency_key == intent.idempotency_key
        assert (command.type, command.price, command.price_at_offset) == (
            intent.type,
            intent.price,
            intent.price_at_offset,
        )


# --- cancel rules -----------------------------------------------------------------------------


def open_order(
    order_id: str,
    side: Side,
    *,
    key: str | None = None,
    account: str = "acct-1",
    symbol: str = CENT.symbol,
    strategy: str | None = "momentum",
    created_ts: int = 0,
) -> OpenOrderRef:
    return OpenOrderRef(
        order_id=order_id,
        account=account,
        symbol=symbol,
        side=side,
        created_ts=created_ts,
        idempotency_key=key,
        strategy=strategy,
    )


BOOK_OF_OPEN_ORDERS = [
    open_order("buy", Side.BUY, key="old-signal"),
    open_order("sell", Side.SELL, key="older-signal:2"),
    open_order("other-account", Side.SELL, account="acct-2"),
    open_order("other-symbol", Side.SELL, symbol=BTC.symbol),
    open_order("other-strategy", Side.SELL, strategy="meanrev"),
    open_order("no-strategy", Side.SELL, strategy=None),
]


def test_cancel_rule_by_default_cancels_both_sides_of_the_strategys_orders():
    decision = run()

    assert decision.cancel.scope is CancelScope.BOTH_SIDES
    assert orders_to_cancel(decision.cancel, BOOK_OF_OPEN_ORDERS) == ("buy", "sell")


def test_cancel_rule_opposite_only_cancels_the_other_side():
    decision = run(cancel_opposite_orders_only=True)

    assert (decision.cancel.scope, decision.cancel.sides) == (
        CancelScope.OPPOSITE_SIDE,
        (Side.SELL,),
    )
    assert orders_to_cancel(decision.cancel, BOOK_OF_OPEN_ORDERS) == ("sell",)


def test_cancel_rule_opposite_of_a_sell_is_buy():
    decision = run(signal(side=Side.SELL), cancel_opposite_orders_only=True)

    assert orders_to_cancel(decision.cancel, BOOK_OF_OPEN_ORDERS) == ("buy",)


def test_cancel_rule_spares_the_orders_this_signal_placed_so_a_redelivery_keeps_them():
    mine = [
        open_order("single", Side.BUY, key="sig-1"),
        open_order("part", Side.BUY, key="sig-1:2"),
        open_order("not-mine-a", Side.BUY, key="sig-10"),
        open_order("not-mine-b", Side.BUY, key="sig-1:02"),
        open_order("not-mine-c", Side.BUY, key="sig-1:x"),
        open_order("not-mine-d", Side.BUY, key="sig-1:"),
    ]

    assert orders_to_cancel(run().cancel, mine) == (
        "not-mine-a",
        "not-mine-b",
        "not-mine-c",
        "not-mine-d",
    )


def test_order_keys_of_a_signal_are_its_id_or_numbered_parts():
    assert (order_key("s"), order_key("s", 1), order_key("s", 12)) == ("s", "s:1", "s:12")
    assert placed_by_signal("s:12", "s")
    assert not placed_by_signal("s:12", "s:1")
    assert not placed_by_signal("s:\uff11", "s")  # a full-width 1 is not a part number


# --- stale orders ----------------------------------------------------------------------------


def test_stale_orders_at_exactly_the_timeout_are_stale_and_a_nanosecond_less_is_not():
    now = 10_000 * SECOND
    orders = [
        open_order("on-time", Side.BUY, key="a", created_ts=now - 3600 * SECOND),
        open_order("young", Side.BUY, key="b", created_ts=now - 3600 * SECOND + 1),
    ]

    assert stale_orders(orders, now, SignalPolicy()) == ("on-time",)


def test_stale_orders_come_oldest_first():
    orders = [
        open_order("two", Side.BUY, key="b", created_ts=2),
        open_order("one", Side.SELL, key="a", created_ts=1),
    ]

    assert stale_orders(orders, 10 * SECOND, SignalPolicy(cancel_stale_order_timeout=5)) == (
        "one",
        "two",
    )


@pytest.mark.parametrize("timeout", [0, None])
def test_stale_orders_timeout_zero_or_none_disables_it(timeout):
    orders = [open_order("ancient", Side.BUY, key="a", created_ts=0)]

    assert stale_orders(orders, 10**18, SignalPolicy(cancel_stale_order_timeout=timeout)) == ()


def test_stale_orders_without_an_idempotency_key_are_not_signal_orders():
    orders = [open_order("manual", Side.BUY, key=None, created_ts=0)]

    assert stale_orders(orders, 10**18, SignalPolicy()) == ()


# --- dry run ----------------------------------------------------------------------------------


def test_dry_run_decides_the_same_orders_and_marks_the_decision():
    live = run(signal(qty=D("250")), enable_order_splitting=True)
    dry = run(signal(qty=D("250")), enable_order_splitting=True, dry_run=True)

    assert (live.dry_run, dry.dry_run) == (False, True)
    assert msgspec.structs.replace(dry, dry_run=False) == live


def test_dry_run_refusal_is_marked_too():
    assert run(book=None, dry_run=True).dry_run is True


# --- the policy itself --------------------------------------------------------------------------


def test_policy_defaults_are_seed_002s():
    policy = SignalPolicy()

    assert (
        policy.market_order_confidence_threshold,
        policy.market_order_spread_threshold,
        policy.limit_order_price_offset_ratio,
        policy.max_single_order_size,
        policy.enable_order_splitting,
        policy.cancel_opposite_orders_only,
        policy.cancel_stale_order_timeout,
        policy.dry_run,
    ) == (D("0.9"), D("0.1"), D("0.5"), D("10000"), False, False, 3600, False)


@pytest.mark.parametrize(
    "bad",
    [
        {"market_order_confidence_threshold": D("1.01")},
        {"market_order_confidence_threshold": D("-0.1")},
        {"market_order_confidence_threshold": 0.9},
        {"market_order_spread_threshold": D("-0.01")},
        {"market_order_spread_threshold": D("NaN")},
        {"limit_order_price_offset_ratio": D("1.5")},
        {"limit_order_price_offset_ratio": D("-0.5")},
        {"max_single_order_size": D(0)},
        {"max_single_order_size": D("Infinity")},
        {"max_split_orders": 0},
        {"max_split_orders": 10_000},
        {"max_split_orders": True},
        {"cancel_stale_order_timeout": -1},
        {"cancel_stale_order_timeout": 1.5},
    ],
)
def test_policy_out_of_range_setting_is_refused_on_construction(bad):
    with pytest.raises(InvalidRequest):
        SignalPolicy(**bad)


@pytest.mark.parametrize(
    "edge",
    [
        {"market_order_confidence_threshold": D(0)},
        {"market_order_confidence_threshold": D(1)},
        {"limit_order_price_offset_ratio": D(0)},
        {"limit_order_price_offset_ratio": D(1)},
        {"market_order_spread_threshold": D(0)},
        {"max_split_orders": 9999},
        {"cancel_stale_order_timeout": 0},
        {"cancel_stale_order_timeout": None},
    ],
)
def test_policy_settings_at_the_edge_of_their_range_are_accepted(edge):
    assert SignalPolicy(**edge) is not None
