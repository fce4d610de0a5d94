"""The strict exchange asks `may_send` as each REST request leaves (`payloads`), without I/O.

It is asked in `fetch`, after ordergate's budget and ccxt's throttle, where ccxt hands
the request to aiohttp: a request that waited there while the lease lapsed is not sent.
"""

from __future__ import annotations

from typing import Any

import ccxt.async_support as ccxt_rest  # type: ignore[import-untyped]
import pytest

from ordergate.domain.errors import JournalFenced
from ordergate.venues.ccxt.payloads import PayloadGuard, strict_exchange

URL = "https://api.bybit.com/v5/order/realtime?category=linear&orderLinkId=abc"
GUARD = PayloadGuard(1024)


class Lease:
    def __init__(self) -> None:
        self.valid = True

    def __call__(self) -> bool:
        return self.valid


class RecordingExchange:
    """Stands in for a ccxt exchange class: its `fetch` records what it was asked to send."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.sent: list[tuple[str, str]] = []

    async def fetch(
        self, url: str, method: str = "GET", headers: Any = None, body: Any = None
    ) -> Any:
        self.sent.append((method, url))
        return {"retCode": 0}


async def test_fetch_asks_may_send_at_each_request_and_sends_nothing_once_it_says_no():
    lease = Lease()
    exchange = strict_exchange(RecordingExchange, {}, GUARD, lease)

    assert await exchange.fetch(URL) == {"retCode": 0}
    lease.valid = False  # lapsed after the exchange was built and used
    with pytest.raises(JournalFenced) as fenced:
        await exchange.fetch(URL, "POST")

    assert exchange.sent == [("GET", URL)]
    assert "orderLinkId" not in fenced.value.message  # the path, not the query
    assert "POST https://api.bybit.com/v5/order/realtime withheld" in fenced.value.message


async def test_fetch_without_may_send_always_sends():
    exchange = strict_exchange(RecordingExchange, {}, GUARD)

    await exchange.fetch(URL)

    assert exchange.sent == [("GET", URL)]


async def test_a_ccxt_order_request_passes_the_check_after_signing_and_before_any_session():
    exchange = strict_exchange(
        ccxt_rest.bybit, {"apiKey": "key", "secret": "secret"}, GUARD, lambda: False
    )
    try:
        with pytest.raises(JournalFenced):
            await exchange.privatePostV5OrderCreate({"category": "linear", "symbol": "BTCUSDT"})
        assert exchange.session is None  # ccxt never opened one: nothing left
    finally:
        await exchange.close()
