"""The deterministic paper venue: matching over replayed market data.

Build the bundled demo venue::

    market = load_demo_market()
    venue = PaperVenue.from_market(market, {"main": {"USD": Decimal(100_000)}}, session="42")
    await venue.connect()
    runner = asyncio.create_task(venue.run(bars_per_second=1.0))

`venue` is the `Venue`, the `MarketData` and the `Clock` of a paper deployment;
`market.instruments` are what it trades. After a restart, `venue.restore(...)` re-seeds it
from the journal and `venue.seek(last_ts)` resumes market-data time after it.
"""

from ordergate.venues.paper.checks import (
    DUPLICATE_CLIENT_ORDER_ID,
    ORDER_CLOSED,
    ORDER_NOT_FOUND,
)
from ordergate.venues.paper.feed import FeedStep, ReplayFeed, SymbolUpdate
from ordergate.venues.paper.market import PaperMarket, load_demo_market, load_market
from ordergate.venues.paper.marketdata import (
    Bar,
    BarSeries,
    MarketDataError,
    PricePoint,
    PriceSeries,
    QuoteSeries,
    QuoteTick,
    load_bar_series,
    load_bid_ask_bar_series,
    load_quote_series,
    parse_timestamp_ns,
)
from ordergate.venues.paper.matching import MatchingEngine
from ordergate.venues.paper.restore import RestoredOrder
from ordergate.venues.paper.rules import ExecutionRules
from ordergate.venues.paper.venue import PaperVenue

__all__ = [
    "DUPLICATE_CLIENT_ORDER_ID",
    "ORDER_CLOSED",
    "ORDER_NOT_FOUND",
    "Bar",
    "BarSeries",
    "ExecutionRules",
    "FeedStep",
    "MarketDataError",
    "MatchingEngine",
    "PaperMarket",
    "PaperVenue",
    "PricePoint",
    "PriceSeries",
    "QuoteSeries",
    "QuoteTick",
    "ReplayFeed",
    "RestoredOrder",
    "SymbolUpdate",
    "load_bar_series",
    "load_bid_ask_bar_series",
    "load_demo_market",
    "load_market",
    "load_quote_series",
    "parse_timestamp_ns",
]
