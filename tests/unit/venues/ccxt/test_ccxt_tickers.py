"""ccxt tickers read as quotes: both sides of the book or nothing, never a made-up price."""

from __future__ import annotations

import pytest
from ccxt_support import D, offline

from ordergate.engine.venue_reports import Quote
from ordergate.venues.ccxt.tickers import quote_of

RECEIVED_NS = 1_700_000_000_123_000_000


@pytest.fixture
async def btc():
    async with offline("bybit", "swap", ("BTCUSDT",)) as bybit:
        yield bybit.markets.entry("BTCUSDT")


def test_a_full_ticker_is_a_quote_at_the_venues_time(btc):
    ticker = {"bid": "50000.1", "ask": "50000.2", "last": "50000.0", "timestamp": 1_700_000_000_000}

    assert quote_of(ticker, btc, RECEIVED_NS) == Quote(
        "BTCUSDT", D("50000.1"), D("50000.2"), D("50000.0"), 1_700_000_000_000_000_000
    )


def test_a_ticker_without_time_is_as_old_as_its_response(btc):
    quote = quote_of({"bid": "1", "ask": "2", "last": "1.5", "timestamp": None}, btc, RECEIVED_NS)

    assert quote is not None
    assert quote.ts == RECEIVED_NS


def test_a_ticker_without_a_trade_takes_the_mid_as_last(btc):
    quote = quote_of({"bid": "100.0", "ask": "100.2", "last": None}, btc, RECEIVED_NS)

    assert quote is not None
    assert quote.last == D("100.1")


@pytest.mark.parametrize("missing", ["bid", "ask"])
def test_a_one_sided_ticker_is_no_quote(btc, missing):
    ticker = {"bid": "100.0", "ask": "100.2", "last": "100.1", missing: None}

    assert quote_of(ticker, btc, RECEIVED_NS) is None
