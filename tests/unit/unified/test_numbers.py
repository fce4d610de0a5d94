"""Numbers across the unified boundary: floats by their shortest repr, answers exact."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ordergate.domain.errors import InvalidRequest
from ordergate.unified.numbers import ExactNumber, answer, exact, exact_or_none


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_exact_float_is_its_shortest_repr_and_reads_back_as_the_float(f: float) -> None:
    d = exact(f)
    assert d == Decimal(repr(f))
    assert float(d) == f


def test_exact_float_is_never_binary_expanded() -> None:
    assert str(exact(0.1)) == "0.1"
    binary = Decimal.from_float(0.1)  # 0.1000000000000000055511151231257827...
    assert exact(0.1) != binary


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3, "3"), ("0.25", "0.25"), (" 1.5 ", "1.5"), (Decimal("2.50"), "2.50"), (1e-7, "1E-7")],
)
def test_exact_ints_strings_and_decimals_are_taken_as_they_are(value, expected) -> None:
    assert str(exact(value)) == expected


@pytest.mark.parametrize(
    "value",
    [math.nan, math.inf, -math.inf, True, False, "abc", "NaN", "Infinity", Decimal("NaN"), None],
)
def test_exact_refuses_what_is_not_a_finite_number(value) -> None:
    with pytest.raises(InvalidRequest):
        exact(value)


def test_exact_or_none_keeps_none_and_answer_reads_none_as_zero() -> None:
    assert exact_or_none(None) is None
    assert answer(None) == 0
    assert isinstance(answer(Decimal("1.5")), ExactNumber)


def test_exact_number_meets_floats_exactly_as_seed_code_uses_them() -> None:
    equity = ExactNumber("1000.10")

    half = equity * 0.5
    assert isinstance(half, ExactNumber)
    assert half == Decimal("500.05")
    assert 0.3 * equity == Decimal("300.03")  # 0.3 read as Decimal("0.3"), not 0.29999...
    assert equity - 0.1 == Decimal("1000.00")
    assert 1000.0 + equity == Decimal("2000.10")
    assert equity / 4.0 == Decimal("250.025")
    assert ExactNumber("0.1") == 0.1
    assert 0.1 == ExactNumber("0.1")  # noqa: SIM300 (the float on the left is the point)
    assert ExactNumber("0.3") != 0.1 + 0.2  # the float sum is 0.30000000000000004
    assert ExactNumber("0.1") < 0.2 <= ExactNumber("0.2")
    assert max(ExactNumber("1.5"), 0.5) == 1.5
    assert float(equity) == 1000.1


def test_exact_number_keeps_its_kind_through_unary_ops_round_and_sum() -> None:
    x = ExactNumber("-2.345")
    for value in (-x, +x, abs(x), round(x, 2), sum([x, x]), x // 1, x % 1, x**2):
        assert isinstance(value, ExactNumber), value
    assert round(x) == -2
    assert isinstance(round(x), int)


def test_exact_number_leaves_other_numbers_to_answer_for_themselves() -> None:
    assert ExactNumber(1) + Decimal(1) == 2
    with pytest.raises(TypeError):
        _ = ExactNumber(1) + Fraction(1, 3)  # as Decimal: Fraction and Decimal do not mix


def test_exact_number_hashes_as_its_decimal() -> None:
    assert hash(ExactNumber("0.1")) == hash(Decimal("0.1"))
    assert {Decimal("0.1"): "x"}[ExactNumber("0.1")] == "x"
