"""Token buckets: `burst` tokens at most, refilled at `per_second`, time passed in (ns)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ordergate.domain.limits import Rate
from ordergate.domain.throttle import TokenBucket

D = Decimal
S = 1_000_000_000
T = 5 * S  # any start: the bucket only looks at differences


def test_throttle_new_bucket_allows_a_burst_then_refuses():
    bucket = TokenBucket(Rate(D(1), 3), T)

    taken = [bucket.take(T) for _ in range(4)]

    assert taken == [True, True, True, False]


def test_throttle_refused_take_spends_nothing():
    bucket = TokenBucket(Rate(D(1), 1), T)
    bucket.take(T)

    assert not bucket.take(T)
    assert not bucket.take(T + S // 2)
    assert bucket.take(T + S)  # one token a second: back after a second, not later


def test_throttle_refills_at_rate():
    bucket = TokenBucket(Rate(D(2), 2), T)
    bucket.take(T)
    bucket.take(T)

    assert not bucket.available(T + S // 2 - 1)
    assert bucket.available(T + S // 2)  # 2 a second: one token in half a second
    assert bucket.take(T + S // 2)
    assert not bucket.take(T + S // 2)


def test_throttle_refill_never_exceeds_burst():
    bucket = TokenBucket(Rate(D(10), 2), T)
    bucket.take(T)

    later = T + 3600 * S  # an hour idle earns 36,000 tokens, but the bucket holds 2
    assert [bucket.take(later) for _ in range(3)] == [True, True, False]


def test_throttle_fractional_rate_accumulates_partial_tokens():
    bucket = TokenBucket(Rate(D("0.5"), 1), T)
    bucket.take(T)

    assert not bucket.available(T + S)  # half a token
    assert not bucket.available(T + S + S // 2)  # three quarters
    assert bucket.available(T + 2 * S)


def test_throttle_seconds_until_available_counts_missing_fraction():
    bucket = TokenBucket(Rate(D(4), 1), T)
    bucket.take(T)

    assert bucket.seconds_until_available(T) == D("0.25")
    assert bucket.seconds_until_available(T + S // 8) == D("0.125")
    assert bucket.seconds_until_available(T + S) == D(0)


def test_throttle_clock_going_backwards_earns_nothing():
    bucket = TokenBucket(Rate(D(1), 1), T)
    bucket.take(T)

    assert not bucket.available(T - 10 * S)
    assert not bucket.available(T + S // 2)
    assert bucket.available(T + S)


@given(
    per_second=st.integers(min_value=1, max_value=50),
    burst=st.integers(min_value=1, max_value=20),
    gaps_ms=st.lists(st.integers(min_value=0, max_value=2000), min_size=1, max_size=60),
)
def test_throttle_never_grants_more_than_burst_plus_rate_times_elapsed(per_second, burst, gaps_ms):
    rate = Rate(D(per_second), burst)
    bucket = TokenBucket(rate, T)
    now = T
    granted = 0
    for gap in gaps_ms:
        now += gap * 1_000_000
        granted += bucket.take(now)
        elapsed = D(now - T) / S
        assert granted <= burst + per_second * elapsed
    # and a request waiting as long as it is told always gets its token
    wait = bucket.seconds_until_available(now)
    assert bucket.take(now + int((wait * S).to_integral_value(rounding="ROUND_CEILING")))
