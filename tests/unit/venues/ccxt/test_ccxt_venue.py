"""`CcxtVenue` before it connects: the port's identity, and requests refused as retryable."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ordergate.domain.errors import RetryableVenueError
from ordergate.engine.ports import Venue
from ordergate.venues.ccxt import CcxtVenue, CcxtVenueConfig
from ordergate.venues.ccxt.errors import UnsupportedByVenue


def venue(exchange_id: str = "bybit", **changes: object) -> CcxtVenue:
    fields: dict[str, object] = {
        "exchange_id": exchange_id,
        "account": "main",
        "symbols": ("BTCUSDT",),
        "market_type": "swap",
        "api_key": "key",
        "api_secret": "secret",
        "live": True,
    }
    return CcxtVenue(CcxtVenueConfig(**{**fields, **changes}))  # type: ignore[arg-type]


def test_the_venue_is_named_and_live_as_configured():
    port: Venue = venue()
    sim: Venue = venue(name="bybit-sim", live=False)

    assert (port.name, port.live) == ("bybit", True)
    assert (sim.name, sim.live) == ("bybit-sim", False)


async def test_requests_before_connect_are_retryable():
    unconnected = venue()

    with pytest.raises(RetryableVenueError):
        await unconnected.get_order("main", "BTCUSDT", "0" * 32)
    with pytest.raises(RetryableVenueError):
        await unconnected.cancel_order("main", "BTCUSDT", "0" * 32)
    with pytest.raises(RetryableVenueError):
        await unconnected.replace_order("main", "BTCUSDT", "0" * 32, Decimal(1), None, None)
    with pytest.raises(RetryableVenueError):
        _ = unconnected.instruments
    await unconnected.disconnect()  # nothing to close


async def test_an_exchange_ccxt_does_not_know_is_refused_on_connect():
    with pytest.raises(UnsupportedByVenue):
        await venue("no-such-exchange").connect()
