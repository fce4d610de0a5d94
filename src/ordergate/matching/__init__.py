"""A deterministic exchange: replayed market data, order books, fills, margin.

Pure and synchronous (no clock, no randomness, no dict or set order in a decision), and
no I/O but reading market-data files. Two adapters are built on it: the paper venue
(`venues.paper`, in process, behind the `Venue` port) and the venue simulators
(`simulators`, the same matching behind a real venue's wire protocol). Neither imports
the other; both import this.

- `marketdata`: bars, bid/ask bar pairs and quotes from CSV files;
- `feed`: several series merged into one sequence of steps (`ReplayFeed`);
- `market`: a market described by a TOML file (instruments, rules, data), and the
  bundled demo (`data/`);
- `core`: the `MatchingEngine`, with `working` (how working orders fill), `book` (the
  price index), `rules` (fill prices), `checks` (what an exchange refuses), `ledger`
  (cash and positions) and `restore` (re-seeding after a restart).
"""

from ordergate.matching.checks import DUPLICATE_CLIENT_ORDER_ID, ORDER_CLOSED, ORDER_NOT_FOUND
from ordergate.matching.core import MatchingEngine
from ordergate.matching.feed import FeedStep, ReplayFeed, SymbolUpdate
from ordergate.matching.market import PaperMarket, load_demo_market, load_market
from ordergate.matching.marketdata import (
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
from ordergate.matching.restore import RestoredOrder
from ordergate.matching.rules import ExecutionRules

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
