"""`CcxtVenue` before it connects: the port's identity, requests refused as retryable, and
how long after sending a request the exchange may still carry it out."""

from __future__ import annotations

from decimal import Decimal

import ccxt.async_support as ccxt_rest
import pytest

from ordergate.domain.errors import RetryableVenueError
from ordergate.engine.ports import Venue
from ordergate.venues.ccxt import CcxtVenue, CcxtVenueConfig
from ordergate.venues.ccxt.dialects import dialect_for
from ordergate.venues.ccxt.dialects.base import UNSTATED_ACCEPTANCE_WINDOW
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


@pytest.mark.parametrize(
    ("exchange_id", "options", "window"),
    [
        ("bybit", {}, 6.0),  # ccxt's recvWindow of 5 s, plus 1 s of clock skew
        ("binance", {}, 11.0),  # 10 s
        ("bybit", {"recvWindow": 20_000}, 21.0),  # as configured
        ("kraken", {}, UNSTATED_ACCEPTANCE_WINDOW),  # signs a nonce, states no window
    ],
)
async def test_acceptance_window_is_the_exchanges_receive_window(exchange_id, options, window):
    exchange = getattr(ccxt_rest, exchange_id)({"options": options})
    try:
        assert dialect_for(exchange_id).acceptance_window(exchange) == window
    finally:
        await exchange.close()


def test_acceptance_window_before_connect_is_the_unstated_one():
    assert venue().acceptance_window == UNSTATED_ACCEPTANCE_WINDOW
