"""Failed key attempts per client address: a bucket each, a table of bounded size."""

from __future__ import annotations

import pytest
from tests.fakes import FakeClock

from ordergate.auth.ratelimit import FailedAttempts
from ordergate.domain.errors import RateLimited


def test_an_address_out_of_attempts_is_refused_until_its_rate_gives_one_back() -> None:
    clock = FakeClock()
    failures = FailedAttempts(rate=1.0, burst=3, clock=clock)

    for _ in range(3):
        failures.check("10.0.0.1")
        failures.record("10.0.0.1")
    with pytest.raises(RateLimited) as refused:
        failures.check("10.0.0.1")
    failures.check("10.0.0.2")  # another address is not held to the first one's failures

    assert refused.value.code == "AUTH_FAILURES"
    assert refused.value.retry_after == pytest.approx(1.0)
    clock.now += 1.0
    failures.check("10.0.0.1")


def test_an_address_that_never_failed_costs_nothing() -> None:
    failures = FailedAttempts(rate=1.0, burst=1)

    failures.check("10.0.0.1")

    assert len(failures) == 0


def test_the_table_forgets_the_least_recently_failing_address_first() -> None:
    clock = FakeClock()
    failures = FailedAttempts(rate=1.0, burst=1, clock=clock, max_addresses=2)
    failures.record("a")
    failures.record("b")
    failures.record("a")  # a failed again: b is now the oldest

    failures.record("c")

    assert len(failures) == 2
    failures.check("b")  # forgotten: a full bucket again
    with pytest.raises(RateLimited):
        failures.check("a")


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (1, 0), (-1, 5)])
def test_a_limit_that_limits_nothing_is_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="rate > 0 and burst >= 1"):
        FailedAttempts(rate=rate, burst=burst)
