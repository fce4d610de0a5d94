"""ccxt tickers as ordergate quotes: best bid and ask, last price, the venue's time.

A ticker without both sides of the book is no quote: a price the venue did not state is
never made up (a gate on a one-sided feed is the safe answer). `last` falls back to the
mid of bid and ask when the venue reports no trade. Some venues (Bybit) put no time on a
ticker; it is then as old as the response that carried it (`received_ns`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ordergate.engine.venue_reports import Quote
from ordergate.venues.ccxt.decimals import ns_of_ms, optional_decimal
from ordergate.venues.ccxt.markets import MarketEntry

TWO = 2


def quote_of(ticker: Mapping[str, Any], entry: MarketEntry, received_ns: int) -> Quote | None:
    """The quote in one ccxt ticker of `entry`'s market, or None if it is incomplete."""
    what = f"{entry.symbol} ticker"
    bid = optional_decimal(ticker.get("bid"), f"{what} bid")
    ask = optional_decimal(ticker.get("ask"), f"{what} ask")
    if bid is None or ask is None:
        return None
    ts = ns_of_ms(ticker.get("timestamp"))
    last = optional_decimal(ticker.get("last"), f"{what} last")
    return Quote(
        symbol=entry.symbol,
        bid=bid,
        ask=ask,
        last=(bid + ask) / TWO if last is None else last,
        ts=received_ns if ts is None else ts,
    )
