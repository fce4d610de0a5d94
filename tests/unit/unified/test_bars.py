"""Bars from quote samples, per interval of market time."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ordergate.domain.errors import InvalidRequest
from ordergate.unified.bars import NANOS_PER_SECOND, Bar, BarBuilder
from ordergate.unified.vocabulary import UnifiedQuote

D = Decimal
MINUTE = 60 * NANOS_PER_SECOND


def quote(symbol: str, last: str, ts: int = 0) -> UnifiedQuote:
    return UnifiedQuote(symbol, last, last, last, ts)


def test_bar_builder_folds_an_interval_and_closes_it_when_the_next_begins() -> None:
    builder = BarBuilder(60)
    assert builder.advance(10 * MINUTE) == {}
    for last in ("10", "12", "9", "11"):
        builder.add(quote("A", last))
    builder.add(quote("B", "5"))
    assert builder.advance(10 * MINUTE + 59 * NANOS_PER_SECOND) == {}  # the same interval

    closed = builder.advance(11 * MINUTE)

    assert closed == {
        "A": Bar("A", 10 * MINUTE, D(10), D(12), D(9), D(11), quotes=4),
        "B": Bar("B", 10 * MINUTE, D(5), D(5), D(5), D(5), quotes=1),
    }
    assert builder.advance(12 * MINUTE) == {}  # nothing was quoted in the 11th minute


def test_bar_builder_skipped_intervals_close_the_last_one_quoted() -> None:
    builder = BarBuilder(60)
    builder.advance(0)
    builder.add(quote("A", "1"))

    closed = builder.advance(5 * MINUTE)

    assert [bar.start_ns for bar in closed.values()] == [0]


def test_bar_builder_refuses_a_quote_before_an_interval_and_a_bad_interval() -> None:
    with pytest.raises(InvalidRequest):
        BarBuilder(60).add(quote("A", "1"))
    with pytest.raises(InvalidRequest):
        BarBuilder(0)
