"""Public market routes: server time, instruments, tickers and the order book."""

from __future__ import annotations

from collections.abc import Callable

from ordergate.simulators.bybit import market_payloads
from ordergate.simulators.bybit.admission import LINEAR, read_category, read_symbol
from ordergate.simulators.bybit.errors import params_error
from ordergate.simulators.bybit.exchange import BybitExchange
from ordergate.simulators.bybit.formats import JsonObject
from ordergate.simulators.bybit.params import Params
from ordergate.simulators.bybit.queries import page
from ordergate.simulators.bybit.rest import Route


class MarketRoutes:
    def __init__(self, exchange: BybitExchange, clock: Callable[[], int]) -> None:
        self._exchange = exchange
        self._clock = clock

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/v5/market/time", False, self.time),
            Route("GET", "/v5/market/instruments-info", False, self.instruments),
            Route("GET", "/v5/market/tickers", False, self.tickers),
            Route("GET", "/v5/market/orderbook", False, self.orderbook),
        ]

    def time(self, params: Params) -> JsonObject:
        return market_payloads.server_time(self._clock())

    def instruments(self, params: Params) -> JsonObject:
        """Linear instruments (other categories list none); `status` other than Trading,
        such as ccxt's PreLaunch query, lists none either."""
        category = read_category(params)
        specs = self._exchange.specs
        symbol = params.optional_text("symbol")
        status = params.optional_text("status")
        listed = [
            spec
            for spec in specs.values()
            if category == LINEAR
            and (symbol is None or spec.symbol == symbol)
            and status in (None, "Trading")
        ]
        items, cursor = page(listed, params, default=500, maximum=1000)
        return {
            "nextPageCursor": cursor,
            "category": category,
            "list": [market_payloads.instrument(spec) for spec in items],
        }

    def tickers(self, params: Params) -> JsonObject:
        category = read_category(params)
        specs = self._exchange.specs
        symbol = params.optional_text("symbol")
        if symbol is not None and symbol not in specs:
            raise params_error("Not supported symbols")
        now = self._clock() // 1_000_000
        listed = [
            market_payloads.ticker(
                spec,
                self._exchange.quote(spec.symbol),
                self._exchange.session_stats(spec.symbol),
                now,
            )
            for spec in specs.values()
            if category == LINEAR and symbol in (None, spec.symbol)
        ]
        return {"category": category, "list": listed}

    def orderbook(self, params: Params) -> JsonObject:
        if read_category(params) != LINEAR:
            raise params_error("params error: the simulator lists the linear category only")
        spec = read_symbol(params, self._exchange.specs)
        params.limit(25, 500)
        return market_payloads.orderbook(
            spec,
            self._exchange.quote(spec.symbol),
            self._exchange.session_stats(spec.symbol),
            self._clock() // 1_000_000,
        )
