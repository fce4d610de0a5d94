"""Bybit's per-endpoint limit over a rolling second, and the headers it reports."""

from __future__ import annotations

from ordergate.simulators.bybit.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.ms = 1_000

    def __call__(self) -> int:
        return self.ms


def test_requests_beyond_the_limit_in_a_second_are_refused_until_it_rolls():
    clock = Clock()
    limiter = RateLimiter({"/v5/order/create": 2}, clock)

    first = limiter.admit("/v5/order/create")
    clock.ms += 300
    second = limiter.admit("/v5/order/create")
    refused = limiter.admit("/v5/order/create")
    clock.ms = 2_000
    again = limiter.admit("/v5/order/create")

    assert (first.allowed, first.remaining) == (True, 1)
    assert (second.allowed, second.remaining) == (True, 0)
    assert (refused.allowed, refused.reset_ms) == (False, 2_000)
    assert refused.headers() == {
        "X-Bapi-Limit": "2",
        "X-Bapi-Limit-Status": "0",
        "X-Bapi-Limit-Reset-Timestamp": "2000",
    }
    assert again.allowed


def test_endpoints_without_a_limit_are_not_counted():
    limiter = RateLimiter({"/v5/order/create": 1}, Clock())

    assert limiter.admit("/v5/market/time") is None
