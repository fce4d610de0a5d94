"""Per-exchange dialects of ccxt's unified API; `dialect_for` picks one by exchange id."""

from __future__ import annotations

from ordergate.venues.ccxt.dialects.base import Dialect, OrderRef
from ordergate.venues.ccxt.dialects.binance import BinanceDialect
from ordergate.venues.ccxt.dialects.bybit import BybitDialect
from ordergate.venues.ccxt.dialects.kraken import KrakenDialect

_DIALECTS: dict[str, type[Dialect]] = {
    "bybit": BybitDialect,
    "binance": BinanceDialect,
    "binanceusdm": BinanceDialect,
    "kraken": KrakenDialect,
}


def dialect_for(exchange_id: str) -> Dialect:
    """The dialect of `exchange_id`; ccxt's unified conventions for any other exchange."""
    return _DIALECTS.get(exchange_id, Dialect)()


__all__ = [
    "BinanceDialect",
    "BybitDialect",
    "Dialect",
    "KrakenDialect",
    "OrderRef",
    "dialect_for",
]
