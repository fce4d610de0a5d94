"""The market routes: instruments (`?symbol=`, or all listed) and one by id; quotes
(`?symbols=A,B`: a null result for a symbol not listed, as robin_stocks expects), one
by symbol, and one by instrument id (`marketdata/quotes/{id}/`)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from ordergate.simulators.robinhood import errors
from ordergate.simulators.robinhood.broker import Broker
from ordergate.simulators.robinhood.errors import detail, field_error
from ordergate.simulators.robinhood.market_payloads import instrument_payload, quote_payload
from ordergate.simulators.robinhood.rest import Answer, Call, Route
from ordergate.simulators.robinhood.stocks import StockSpec
from ordergate.simulators.robinhood.wire import JsonObject, Urls


class MarketRoutes:
    def __init__(
        self, broker: Broker, urls: Urls, resting_liquidity: Mapping[str, Decimal]
    ) -> None:
        self._broker = broker
        self._urls = urls
        self._liquidity = dict(resting_liquidity)

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/instruments/", self._instruments),
            Route("GET", "/instruments/{instrument_id}/", self._instrument),
            Route("GET", "/quotes/", self._quotes),
            Route("GET", "/quotes/{symbol}/", self._quote_by_symbol),
            Route("GET", "/marketdata/quotes/{instrument_id}/", self._quote_by_id),
        ]

    def quote(self, spec: StockSpec) -> JsonObject:
        symbol = spec.symbol
        return quote_payload(
            spec,
            self._broker.quote(symbol),
            self._broker.previous_close[symbol],
            self._liquidity.get(symbol),
            self._urls,
        )

    def _instruments(self, call: Call) -> Answer:
        wanted = call.query.get("symbol")
        specs = [
            spec
            for spec in self._broker.stocks.values()
            if wanted is None or spec.symbol == wanted.upper()
        ]
        results = [instrument_payload(spec, self._urls) for spec in specs]
        return Answer({"previous": None, "results": results, "next": None})

    def _instrument(self, call: Call) -> Answer:
        return Answer(instrument_payload(self._by_id(call.match["instrument_id"]), self._urls))

    def _quotes(self, call: Call) -> Answer:
        wanted = call.query.get("symbols")
        if not wanted:
            raise field_error("symbols", "This field is required.")
        stocks = self._broker.stocks
        results = [
            self.quote(stocks[symbol]) if symbol in stocks else None
            for symbol in (name.strip().upper() for name in wanted.split(","))
        ]
        return Answer({"results": results})

    def _quote_by_symbol(self, call: Call) -> Answer:
        spec = self._broker.stocks.get(call.match["symbol"].upper())
        if spec is None:
            raise detail(404, errors.NOT_FOUND)
        return Answer(self.quote(spec))

    def _quote_by_id(self, call: Call) -> Answer:
        return Answer(self.quote(self._by_id(call.match["instrument_id"])))

    def _by_id(self, instrument_id: str) -> StockSpec:
        for spec in self._broker.stocks.values():
            if spec.instrument_id == instrument_id:
                return spec
        raise detail(404, errors.NOT_FOUND)
