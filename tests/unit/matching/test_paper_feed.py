"""The replay feed: merging symbols into steps, aligning starts, looping and seeking."""

from __future__ import annotations

import itertools

from tests.unit.matching.matching_support import MINUTE, T0, D

from ordergate.matching import Bar, BarSeries, QuoteSeries, QuoteTick, ReplayFeed

DAY = 24 * 60 * MINUTE


def bars(start: int, *closes: str) -> BarSeries:
    """One-minute flat bars opening at `start`, `start + 1 min`, ..."""
    return BarSeries(
        [Bar(start + i * MINUTE, D(c), D(c), D(c), D(c)) for i, c in enumerate(closes)],
        interval_ns=MINUTE,
    )


def drain(feed: ReplayFeed, limit: int = 1000) -> list[tuple[int, tuple[str, ...]]]:
    steps: list[tuple[int, tuple[str, ...]]] = []
    while len(steps) < limit and (step := feed.next_step()) is not None:
        steps.append((step.ts, tuple(update.symbol for update in step.updates)))
    return steps


def test_feed_merges_symbols_by_time_then_symbol_order():
    feed = ReplayFeed({"B": bars(T0, "1", "2", "3"), "A": bars(T0 + MINUTE, "5", "6")})

    steps = drain(feed)

    assert steps == [
        (T0 + MINUTE, ("B",)),
        (T0 + 2 * MINUTE, ("A", "B")),
        (T0 + 3 * MINUTE, ("A", "B")),
    ]


def test_feed_update_carries_event_time_points_and_last_price():
    feed = ReplayFeed({"A": bars(T0, "1.5")})

    step = feed.next_step()

    assert step is not None
    (update,) = step.updates
    assert (update.ts, update.last) == (T0 + MINUTE, D("1.5"))
    assert [(p.bid, p.ask) for p in update.points] == [(D("1.5"), D("1.5"))]


def test_feed_without_loop_ends_with_none():
    feed = ReplayFeed({"A": bars(T0, "1")})

    assert feed.next_step() is not None
    assert feed.next_step() is None
    assert feed.peek_ts() is None


def test_feed_align_start_lands_every_first_event_on_the_latest_start():
    feed = ReplayFeed(
        {"OLD": bars(T0 - 3650 * DAY, "1", "2"), "NEW": bars(T0, "5", "6")}, align_start=True
    )

    steps = drain(feed)

    assert steps == [(T0 + MINUTE, ("NEW", "OLD")), (T0 + 2 * MINUTE, ("NEW", "OLD"))]


def test_feed_align_start_honours_an_explicit_start():
    feed = ReplayFeed({"A": bars(T0, "1")}, align_start=True, start_ns=T0 + DAY)

    assert feed.peek_ts() == T0 + DAY
    assert feed.first_ts == T0 + DAY


def test_feed_loop_replays_shifted_by_span_and_time_never_goes_back():
    feed = ReplayFeed({"A": bars(T0, "1", "2", "3"), "B": bars(T0 + MINUTE, "7")}, loop=True)

    steps = drain(feed, limit=9)

    times = [ts for ts, _ in steps]
    assert feed.span_ns == 3 * MINUTE
    assert all(later > earlier for earlier, later in itertools.pairwise(times))
    assert [symbols for _, symbols in steps[:3]] == [symbols for _, symbols in steps[3:6]]
    assert [ts - 3 * MINUTE for ts in times[3:6]] == times[:3]


def test_feed_seek_skips_steps_at_or_before_time_and_returns_latest_prices():
    feed = ReplayFeed({"A": bars(T0, "1", "2", "3", "4"), "B": bars(T0, "10", "20")})

    latest = feed.seek(T0 + 2 * MINUTE)

    assert [(u.symbol, u.ts, u.last) for u in latest] == [
        ("A", T0 + 2 * MINUTE, D(2)),
        ("B", T0 + 2 * MINUTE, D(20)),
    ]
    assert drain(feed) == [(T0 + 3 * MINUTE, ("A",)), (T0 + 4 * MINUTE, ("A",))]


def test_feed_seek_to_the_past_skips_nothing():
    feed = ReplayFeed({"A": bars(T0, "1", "2", "3")})
    feed.next_step()
    feed.next_step()

    assert feed.seek(T0) == ()
    assert drain(feed) == [(T0 + 3 * MINUTE, ("A",))]


def test_feed_seek_in_a_looping_feed_lands_in_the_right_round():
    feed = ReplayFeed({"A": bars(T0, "1", "2", "3")}, loop=True)
    span = feed.span_ns

    latest = feed.seek(T0 + 1000 * span + MINUTE)

    assert [(u.ts, u.last) for u in latest] == [(T0 + 1000 * span + MINUTE, D(1))]
    assert feed.peek_ts() == T0 + 1000 * span + 2 * MINUTE


def test_feed_seek_between_rounds_returns_last_price_of_previous_round():
    feed = ReplayFeed({"A": bars(T0, "1", "2"), "B": bars(T0 + 5 * MINUTE, "9")}, loop=True)
    span = feed.span_ns

    latest = feed.seek(T0 + span + MINUTE + 1)  # after round 1's first A event

    by_symbol = {u.symbol: (u.ts, u.last) for u in latest}
    assert by_symbol["A"] == (T0 + span + MINUTE, D(1))
    assert by_symbol["B"] == (T0 + 6 * MINUTE, D(9))  # B's last event was in round 0


def test_feed_of_quotes_uses_each_quote_as_a_point_with_mid_as_last():
    series = QuoteSeries(
        [QuoteTick(T0, D("1.0"), D("1.2")), QuoteTick(T0 + 500, D("1.1"), D("1.3"))]
    )
    feed = ReplayFeed({"Q": series})

    first = feed.next_step()

    assert series.interval_ns == 500
    assert first is not None
    assert first.ts == T0
    assert first.updates[0].last == D("1.1")


def test_feed_without_series_has_no_steps():
    feed = ReplayFeed({})

    assert (feed.next_step(), feed.first_ts, feed.seek(T0)) == (None, None, ())
