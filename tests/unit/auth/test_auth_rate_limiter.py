"""The token bucket per key, on a fake monotonic clock."""

from __future__ import annotations

import pytest
from tests.fakes import FakeClock

from ordergate.auth import RateLimiter
from ordergate.domain.errors import RateLimited


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_rate_limiter_burst_admitted_then_rate_limited(clock: FakeClock) -> None:
    limiter = RateLimiter(rate=10, burst=3, clock=clock)
    for _ in range(3):
        limiter.admit("k1")

    with pytest.raises(RateLimited) as raised:
        limiter.admit("k1")

    assert raised.value.code == "RATE_LIMITED"
    assert raised.value.retry_after == pytest.approx(0.1)


def test_rate_limiter_refill_one_token_per_period(clock: FakeClock) -> None:
    limiter = RateLimiter(rate=10, burst=1, clock=clock)
    limiter.admit("k1")

    clock.now += 0.1
    limiter.admit("k1")
    clock.now += 0.05

    with pytest.raises(RateLimited) as raised:
        limiter.admit("k1")
    assert raised.value.retry_after == pytest.approx(0.05)


def test_rate_limiter_slow_rate_retry_after_whole_wait(clock: FakeClock) -> None:
    limiter = RateLimiter(rate=0.5, burst=1, clock=clock)
    limiter.admit("k1")

    with pytest.raises(RateLimited) as raised:
        limiter.admit("k1")

    assert raised.value.retry_after == pytest.approx(2.0)


def test_rate_limiter_keys_have_separate_buckets(clock: FakeClock) -> None:
    limiter = RateLimiter(rate=1, burst=1, clock=clock)
    limiter.admit("k1")

    limiter.admit("k2")

    with pytest.raises(RateLimited):
        limiter.admit("k1")


def test_rate_limiter_refused_request_takes_no_token(clock: FakeClock) -> None:
    limiter = RateLimiter(rate=10, burst=1, clock=clock)
    limiter.admit("k1")
    for _ in range(5):
        with pytest.raises(RateLimited):
            limiter.admit("k1")

    clock.now += 0.1

    limiter.admit("k1")


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_rate_limiter_bad_parameters_value_error(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="rate"):
        RateLimiter(rate=rate, burst=burst)
