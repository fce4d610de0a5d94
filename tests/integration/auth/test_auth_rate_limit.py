"""The per-key request rate limit through the API: 429 with Retry-After, then recovery."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.fakes import FakeClock
from tests.integration.api.support import Api, make_settings, running
from tests.integration.auth.auth_support import headers, new_key, refusal

from ordergate.auth import Scope
from ordergate.auth.ratelimit import RateLimiter

RATE = 20.0  # a token every 50 ms
BURST = 3


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def api(market: Path, clock: FakeClock) -> AsyncIterator[Api]:
    settings = make_settings(market, api_rate_per_second=RATE, api_rate_burst=BURST)
    async with running(settings, scope=None) as client:
        # The app's limiter, on a clock the test moves: a slow machine refills nothing.
        access = client.app.state.edge.access
        access.limiter = RateLimiter(settings.api_rate_per_second, settings.api_rate_burst, clock)
        yield client


async def test_rate_limit_over_burst_429_rate_limited_with_retry_after(api: Api) -> None:
    key = headers(new_key(api, Scope.READ))

    answered = [await api.http.get("/v1/account", headers=key) for _ in range(BURST)]
    refused = await api.http.get("/v1/account", headers=key)

    assert [r.status_code for r in answered] == [200] * BURST
    assert refusal(refused) == (429, "RATE_LIMITED")
    assert int(refused.headers["Retry-After"]) >= 1


async def test_rate_limit_after_refill_answers_again(api: Api, clock: FakeClock) -> None:
    key = headers(new_key(api, Scope.READ))
    for _ in range(BURST):
        await api.http.get("/v1/account", headers=key)
    refused = await api.http.get("/v1/account", headers=key)

    clock.now += 1.5 / RATE
    again = await api.http.get("/v1/account", headers=key)

    assert refused.status_code == 429
    assert again.status_code == 200


async def test_rate_limit_one_key_spent_other_key_unaffected(api: Api) -> None:
    spent = headers(new_key(api, Scope.TRADE))
    other = headers(new_key(api, Scope.TRADE))
    for _ in range(BURST + 2):
        await api.http.get("/v1/positions", headers=spent)

    response = await api.http.get("/v1/positions", headers=other)

    assert response.status_code == 200


async def test_rate_limit_public_routes_not_counted(api: Api) -> None:
    statuses = {(await api.http.get("/health")).status_code for _ in range(BURST * 3)}

    assert statuses == {200}
