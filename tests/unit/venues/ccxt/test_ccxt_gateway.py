"""The request budget and the gateway: reads retried with backoff, writes sent once."""

from __future__ import annotations

import time
from decimal import Decimal

import ccxt
import pytest

from ordergate.domain.errors import AmbiguousVenueError, RejectedByVenue, RetryableVenueError
from ordergate.domain.limits import Rate
from ordergate.engine.retry import RetryPolicy
from ordergate.venues.ccxt.budget import RequestBudget
from ordergate.venues.ccxt.gateway import Gateway

NO_WAIT = RetryPolicy(max_attempts=3, base_delay=0.0)
PLENTY = Rate(Decimal(1000), 1000)


class Flaky:
    """A ccxt call that fails with `errors` in turn, then answers."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "answer"


def gateway(rate: Rate = PLENTY) -> Gateway:
    return Gateway(object(), RequestBudget(rate), NO_WAIT)


async def test_a_read_is_retried_until_it_answers():
    call = Flaky(ccxt.RequestTimeout("slow"), ccxt.ExchangeNotAvailable("502"))

    assert await gateway().read("read", call) == "answer"
    assert call.calls == 3


async def test_a_read_gives_up_after_the_policys_attempts():
    call = Flaky(*(ccxt.NetworkError("down") for _ in range(5)))

    with pytest.raises(RetryableVenueError):
        await gateway().read("read", call)
    assert call.calls == NO_WAIT.max_attempts


async def test_a_read_refused_for_good_is_not_retried():
    call = Flaky(ccxt.AuthenticationError("bad key"))

    with pytest.raises(RejectedByVenue):
        await gateway().read("read", call)
    assert call.calls == 1


async def test_a_write_is_sent_once_whatever_happens():
    timeout = Flaky(ccxt.RequestTimeout("slow"))
    limited = Flaky(ccxt.RateLimitExceeded("10006"))

    with pytest.raises(AmbiguousVenueError):
        await gateway().write("create", timeout)
    with pytest.raises(RetryableVenueError):
        await gateway().write("create", limited)
    assert timeout.calls == limited.calls == 1


async def test_requests_wait_for_the_budget_rather_than_fail():
    budget = gateway(Rate(Decimal(50), 1))
    started = time.monotonic()

    for _ in range(4):
        await budget.read("read", Flaky())

    # a burst of one, then one token every 20 ms: three waits
    assert time.monotonic() - started >= 0.055
