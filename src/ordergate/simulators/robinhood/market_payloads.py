"""Instruments and quotes as `instruments/` and `quotes/` answer them.

Keys as robin_stocks documents them for `get_instruments_by_symbols` and `get_quotes`
(what Robinhood answered when it was written); quote prices carry 6 decimals.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from ordergate.simulators.robinhood.broker import Quoted
from ordergate.simulators.robinhood.sessions import previous_business_day
from ordergate.simulators.robinhood.stocks import StockSpec
from ordergate.simulators.robinhood.wire import QUOTE_PLACES, JsonObject, Urls, fixed, timestamp

# Shares shown at the touch when the symbol's resting liquidity is not limited.
DEFAULT_TOP_SIZE: Final = 100


def instrument_payload(spec: StockSpec, urls: Urls) -> JsonObject:
    return {
        "id": spec.instrument_id,
        "url": urls.instrument(spec.instrument_id),
        "quote": urls.quote(spec.symbol),
        "fundamentals": urls.fundamentals(spec.symbol),
        "splits": urls.splits(spec.instrument_id),
        "state": "active",
        "market": urls.market(spec.market_mic),
        "simple_name": spec.simple_name,
        "name": spec.name,
        "tradeable": True,
        "tradability": "tradable",
        "symbol": spec.symbol,
        "bloomberg_unique": None,
        "margin_initial_ratio": "0.5000",
        "maintenance_ratio": "0.2500",
        "country": "US",
        "day_trade_ratio": "0.2500",
        "list_date": spec.list_date,
        "min_tick_size": None,
        "type": spec.kind,
        "tradable_chain_id": None,
        "rhs_tradability": "tradable",
        "fractional_tradability": "tradable",
        "default_collar_fraction": "0.05",
    }


def quote_payload(
    spec: StockSpec,
    quoted: Quoted,
    previous_close: Decimal,
    top_size: Decimal | None,
    urls: Urls,
) -> JsonObject:
    touch = quoted.touch
    size = DEFAULT_TOP_SIZE if top_size is None else int(top_size)
    close = fixed(previous_close, QUOTE_PLACES)
    return {
        "ask_price": fixed(touch.ask, QUOTE_PLACES),
        "ask_size": size,
        "bid_price": fixed(touch.bid, QUOTE_PLACES),
        "bid_size": size,
        "last_trade_price": fixed(touch.last, QUOTE_PLACES),
        "last_extended_hours_trade_price": None,
        "previous_close": close,
        "adjusted_previous_close": close,
        "previous_close_date": previous_business_day(quoted.updated_ns).isoformat(),
        "symbol": spec.symbol,
        "trading_halted": False,
        "has_traded": True,
        "last_trade_price_source": "consolidated",
        "updated_at": timestamp(quoted.updated_ns),
        "instrument": urls.instrument(spec.instrument_id),
        "instrument_id": spec.instrument_id,
        "state": "active",
    }
