"""Instruments, tickers, the order book and server time in Bybit's JSON.

Instruments follow the recorded `http_get_instruments_linear_symbol_type` payload (the
one that carries `category`, which ccxt reads to mark a market linear) and add the
`lotSizeFilter.maxMktOrderQty` that the other recording, `http_get_instruments_linear`,
carries (each recording was trimmed differently; NautilusTrader requires the key); the order book
follows `http_get_orderbook`. Tickers have no recording: their keys are those of
Bybit's documented linear ticker. The book has one level a side, the current best bid
and ask, each showing the instrument's maximum order quantity: the paper engine fills
any quantity at the quote.
"""

from __future__ import annotations

from typing import Final

from ordergate.domain.values import ZERO
from ordergate.engine.venue_reports import Quote
from ordergate.simulators.bybit import formats
from ordergate.simulators.bybit.config import InstrumentSpec
from ordergate.simulators.bybit.formats import JsonObject
from ordergate.simulators.bybit.quotes import SessionStats

MS_PER_HOUR: Final = 3_600_000
FUNDING_INTERVAL_HOURS: Final = 8


def instrument(spec: InstrumentSpec) -> JsonObject:
    return {
        "symbol": spec.symbol,
        "contractType": "LinearPerpetual",
        "status": "Trading",
        "baseCoin": spec.base_coin,
        "quoteCoin": spec.quote_coin,
        "launchTime": str(spec.launch_time_ms),
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": str(spec.price_scale),
        "leverageFilter": {
            "minLeverage": "1",
            "maxLeverage": formats.fixed(spec.max_leverage, 2),
            "leverageStep": "0.01",
        },
        "priceFilter": {
            "minPrice": formats.plain(spec.min_price),
            "maxPrice": formats.plain(spec.max_price),
            "tickSize": formats.plain(spec.tick_size),
        },
        "lotSizeFilter": {
            "maxOrderQty": formats.qty(spec, spec.max_order_qty),
            "minOrderQty": formats.qty(spec, spec.min_order_qty),
            "qtyStep": formats.plain(spec.qty_step),
            "postOnlyMaxOrderQty": formats.qty(spec, spec.max_order_qty),
            "maxMktOrderQty": formats.qty(spec, spec.max_market_order_qty),
            "minNotionalValue": formats.plain(spec.min_notional),
        },
        "unifiedMarginTrade": True,
        "fundingInterval": FUNDING_INTERVAL_HOURS * 60,
        "settleCoin": spec.quote_coin,
        "symbolId": spec.symbol_id,
        "symbolType": "",
    }


def ticker(
    spec: InstrumentSpec, quote: Quote | None, stats: SessionStats | None, now_ms: int
) -> JsonObject:
    """The linear ticker; prices are empty until the symbol has a quote."""
    interval = FUNDING_INTERVAL_HOURS * MS_PER_HOUR
    prices = {
        "lastPrice": "",
        "indexPrice": "",
        "markPrice": "",
        "prevPrice24h": "",
        "price24hPcnt": "0",
        "highPrice24h": "",
        "lowPrice24h": "",
        "prevPrice1h": "",
        "bid1Price": "",
        "bid1Size": "0",
        "ask1Price": "",
        "ask1Size": "0",
    }
    if quote is not None and stats is not None:
        last = formats.price(spec, quote.last)
        change = (quote.last - stats.open) / stats.open if stats.open > ZERO else ZERO
        size = formats.qty(spec, spec.max_order_qty)
        prices = {
            "lastPrice": last,
            "indexPrice": last,
            "markPrice": last,
            "prevPrice24h": formats.price(spec, stats.open),
            "price24hPcnt": formats.fixed(change, 6),
            "highPrice24h": formats.price(spec, stats.high),
            "lowPrice24h": formats.price(spec, stats.low),
            "prevPrice1h": formats.price(spec, stats.open),
            "bid1Price": formats.price(spec, quote.bid),
            "bid1Size": size,
            "ask1Price": formats.price(spec, quote.ask),
            "ask1Size": size,
        }
    return {
        "symbol": spec.symbol,
        **prices,
        "openInterest": "0",
        "openInterestValue": "0",
        "turnover24h": "0",
        "volume24h": "0",
        "fundingRate": "0",
        "nextFundingTime": str((now_ms // interval + 1) * interval),
        "predictedDeliveryPrice": "",
        "basisRate": "",
        "deliveryFeeRate": "",
        "deliveryTime": "0",
        "basis": "",
    }


def orderbook(
    spec: InstrumentSpec, quote: Quote | None, stats: SessionStats | None, now_ms: int
) -> JsonObject:
    """`/v5/market/orderbook`: the best bid and ask, or empty sides before any quote."""
    size = formats.qty(spec, spec.max_order_qty)
    bids = [] if quote is None else [[formats.price(spec, quote.bid), size]]
    asks = [] if quote is None else [[formats.price(spec, quote.ask), size]]
    updates = 0 if stats is None else stats.updates
    ts = now_ms if stats is None else stats.ts_ms
    book: JsonObject = {"s": spec.symbol, "b": bids, "a": asks, "ts": ts}
    return {**book, "u": updates, "seq": updates, "cts": ts}


def server_time(now_ns: int) -> JsonObject:
    return {"timeSecond": str(now_ns // 1_000_000_000), "timeNano": str(now_ns)}
