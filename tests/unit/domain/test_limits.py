"""Risk limits and their overrides: global, then account, instrument, strategy.

`LimitsBook.resolve` merges the levels field by field, the most specific last; a level
sets only what it names and the rest falls through.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.limits import LimitsBook, Rate, RiskLimits
from ordergate.domain.values import OrderType

D = Decimal
MARKET_AND_LIMIT = frozenset({OrderType.MARKET, OrderType.LIMIT})
LIMIT_ONLY = frozenset({OrderType.LIMIT})

BOOK = LimitsBook(
    global_limits=RiskLimits(
        max_position_qty=D("1"),
        allowed_order_types=MARKET_AND_LIMIT,
        fat_finger_bps=D("100"),
        limit_offset_bps=D("10"),
    ),
    accounts={"acct-b": RiskLimits(max_position_qty=D("0.5"), limit_offset_bps=D("20"))},
    instruments={"ETHUSDT": RiskLimits(max_position_qty=D("20"), fat_finger_bps=D("300"))},
    strategies={
        "maker": RiskLimits(allowed_order_types=LIMIT_ONLY, limit_offset_bps=D("50")),
        "tiny": RiskLimits(max_position_qty=D("0.01")),
    },
)


def test_limits_no_override_applies_global():
    limits = BOOK.resolve("acct-a", "BTCUSDT", None)

    assert limits == BOOK.global_limits


def test_limits_unknown_names_at_every_level_fall_back_to_global():
    assert BOOK.resolve("nobody", "NOPE", "nothing") == BOOK.global_limits


def test_limits_none_keys_fall_back_to_global():
    assert BOOK.resolve(None, None, None) == BOOK.global_limits


def test_limits_account_override_replaces_global_for_that_account_only():
    assert BOOK.resolve("acct-b", "BTCUSDT", None).max_position_qty == D("0.5")
    assert BOOK.resolve("acct-a", "BTCUSDT", None).max_position_qty == D("1")


def test_limits_instrument_override_replaces_global_for_that_instrument_only():
    assert BOOK.resolve("acct-a", "ETHUSDT", None).fat_finger_bps == D("300")
    assert BOOK.resolve("acct-a", "BTCUSDT", None).fat_finger_bps == D("100")


def test_limits_strategy_override_replaces_global_for_that_strategy_only():
    assert BOOK.resolve("acct-a", "BTCUSDT", "maker").allowed_order_types == LIMIT_ONLY
    assert BOOK.resolve("acct-a", "BTCUSDT", "other").allowed_order_types == MARKET_AND_LIMIT
    assert BOOK.resolve("acct-a", "BTCUSDT", None).allowed_order_types == MARKET_AND_LIMIT


def test_limits_instrument_wins_over_account():
    # acct-b says 0.5, ETHUSDT says 20: the instrument is more specific
    assert BOOK.resolve("acct-b", "ETHUSDT", None).max_position_qty == D("20")


def test_limits_strategy_wins_over_instrument_and_account():
    limits = BOOK.resolve("acct-b", "ETHUSDT", "tiny")

    assert limits.max_position_qty == D("0.01")


def test_limits_strategy_wins_over_account_for_offsets():
    assert BOOK.resolve("acct-b", "BTCUSDT", None).limit_offset_bps == D("20")
    assert BOOK.resolve("acct-b", "BTCUSDT", "maker").limit_offset_bps == D("50")


def test_limits_fields_a_level_does_not_set_fall_through():
    limits = BOOK.resolve("acct-b", "ETHUSDT", "maker")

    assert limits.allowed_order_types == LIMIT_ONLY  # strategy
    assert limits.limit_offset_bps == D("50")  # strategy over account
    assert limits.max_position_qty == D("20")  # instrument over account
    assert limits.fat_finger_bps == D("300")  # instrument over global


def test_limits_override_cannot_unset_a_global_limit_with_none():
    book = LimitsBook(
        global_limits=RiskLimits(max_order_qty=D("5")),
        strategies={"free": RiskLimits(max_order_qty=None)},
    )

    assert book.resolve("a", "BTCUSDT", "free").max_order_qty == D("5")


def test_limits_override_of_zero_replaces_global():
    # zero is a value, not "unset": an override of 0 disables trading size, it is not skipped
    book = LimitsBook(
        global_limits=RiskLimits(max_position_qty=D("5")),
        accounts={"frozen": RiskLimits(max_position_qty=D("0"))},
    )

    assert book.resolve("frozen", "BTCUSDT", None).max_position_qty == D("0")


def test_limits_resolve_answers_the_same_again():
    first = BOOK.resolve("acct-b", "BTCUSDT", None)

    assert BOOK.resolve("acct-b", "BTCUSDT", None) == first
    assert BOOK.resolve("acct-a", "BTCUSDT", None) != first  # cached per account too


def test_limits_resolve_still_right_after_many_strategy_names():
    book = LimitsBook(
        global_limits=RiskLimits(max_position_qty=D("1")),
        strategies={"s-3": RiskLimits(max_position_qty=D("3"))},
    )
    for i in range(10_050):  # more than the cache holds
        book.resolve("a", "BTCUSDT", f"s-{i}")

    assert book.resolve("a", "BTCUSDT", "s-3").max_position_qty == D("3")
    assert book.resolve("a", "BTCUSDT", "s-4").max_position_qty == D("1")


def test_limits_merged_with_empty_override_is_unchanged():
    limits = RiskLimits(max_order_qty=D("5"))

    assert limits.merged(RiskLimits()) is limits


def test_limits_as_dict_shows_only_set_fields_as_plain_values():
    limits = RiskLimits(
        max_order_qty=D("5"),
        allowed_order_types=frozenset({OrderType.LIMIT, OrderType.MARKET}),
        instrument_submit_rate=Rate(D("2.5"), 10),
        one_pending_order_per_side=True,
        spam_window_ms=250,
    )

    assert limits.as_dict() == {
        "max_order_qty": "5",
        "allowed_order_types": ["LIMIT", "MARKET"],
        "instrument_submit_rate": {"per_second": "2.5", "burst": 10},
        "one_pending_order_per_side": True,
        "spam_window_ms": 250,
    }


@pytest.mark.parametrize(
    "field",
    ["max_order_qty", "max_position_qty", "fat_finger_bps", "limit_offset_abs", "min_qty"],
)
def test_limits_negative_decimal_refused(field):
    values: dict[str, Any] = {field: D("-1")}

    with pytest.raises(InvalidRequest, match=field):
        RiskLimits(**values)


@pytest.mark.parametrize("field", ["spam_window_ms", "max_quote_age_ms", "feed_stale_after_ms"])
def test_limits_negative_integer_refused(field):
    values: dict[str, Any] = {field: -1}

    with pytest.raises(InvalidRequest, match=field):
        RiskLimits(**values)


@pytest.mark.parametrize(
    ("per_second", "burst"), [(D("0"), 1), (D("-1"), 1), (D("1"), 0), (D("1"), -3)]
)
def test_limits_rate_without_positive_refill_and_burst_refused(per_second, burst):
    with pytest.raises(InvalidRequest):
        Rate(per_second, burst)


# --- property: each field resolves to the most specific level that sets it ---------------

LEVEL_VALUE = st.none() | st.integers(min_value=0, max_value=1000).map(Decimal)
FIELDS = ("max_position_qty", "fat_finger_bps", "limit_offset_bps", "max_order_qty")


@given(
    levels=st.lists(
        st.fixed_dictionaries(dict.fromkeys(FIELDS, LEVEL_VALUE)), min_size=4, max_size=4
    ),
    present=st.tuples(st.booleans(), st.booleans(), st.booleans()),
)
def test_limits_resolve_takes_each_field_from_the_most_specific_level_setting_it(levels, present):
    global_, account, instrument, strategy = (RiskLimits(**values) for values in levels)
    has_account, has_instrument, has_strategy = present
    book = LimitsBook(
        global_limits=global_,
        accounts={"a": account},
        instruments={"BTCUSDT": instrument},
        strategies={"s": strategy},
    )

    limits = book.resolve(
        "a" if has_account else "other",
        "BTCUSDT" if has_instrument else "ETHUSDT",
        "s" if has_strategy else None,
    )

    applying = [levels[0]] + [
        values for values, applies in zip(levels[1:], present, strict=True) if applies
    ]
    for f in FIELDS:
        expected = None
        for values in applying:
            if values[f] is not None:
                expected = values[f]
        assert getattr(limits, f) == expected
