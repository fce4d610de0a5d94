"""Private account routes: executions, positions, the wallet, fees and key information.

`/v5/position/list` answers a position for a named symbol even when it is flat (as
Bybit does) and only open positions when asked by coin. `/v5/user/query-api` and
`/v5/account/info` are what ccxt reads to decide the account is unified (UTA 2.0).
`/v5/asset/coin/query-info` lists the coins of the instruments and the wallet (all of
them, or the one `coin` names); NautilusTrader's instrument provider reads it first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from ordergate.simulators.bybit import account_payloads
from ordergate.simulators.bybit.admission import LINEAR, read_category
from ordergate.simulators.bybit.errors import params_error
from ordergate.simulators.bybit.exchange import BybitExchange
from ordergate.simulators.bybit.formats import JsonObject
from ordergate.simulators.bybit.order_payloads import execution_rest
from ordergate.simulators.bybit.params import Params
from ordergate.simulators.bybit.queries import page, selected_symbols, time_window
from ordergate.simulators.bybit.rest import Route

# Decimals of a coin amount on its chain (Bybit's `minAccuracy`): 8 for every coin here.
_COIN_PRECISION = 8


class AccountRoutes:
    def __init__(self, exchange: BybitExchange, api_key: str, clock: Callable[[], int]) -> None:
        self._exchange = exchange
        self._api_key = api_key
        self._clock = clock
        self._started_ms = clock() // 1_000_000

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/v5/execution/list", True, self.executions),
            Route("GET", "/v5/position/list", True, self.positions),
            Route("GET", "/v5/account/wallet-balance", True, self.wallet),
            Route("GET", "/v5/account/fee-rate", True, self.fee_rate),
            Route("GET", "/v5/account/info", True, self.account_info),
            Route("GET", "/v5/user/query-api", True, self.api_key_info),
            Route("GET", "/v5/asset/coin/query-info", True, self.coin_info),
        ]

    def executions(self, params: Params) -> JsonObject:
        category = read_category(params)
        symbols = selected_symbols(params, self._exchange.specs, required=False)
        start, end = time_window(params, self._clock() // 1_000_000)
        order_id = params.optional_text("orderId")
        order_link_id = params.optional_text("orderLinkId")
        exec_type = params.optional_text("execType")
        listed = [
            execution
            for execution in reversed(self._exchange.executions())
            if category == LINEAR
            and execution.symbol in symbols
            and start <= execution.exec_time_ms <= end
            and order_id in (None, execution.order_id)
            and order_link_id in (None, execution.order_link_id)
            and exec_type in (None, "Trade")
        ]
        items, cursor = page(listed, params, default=50, maximum=100)
        specs = self._exchange.specs
        return {
            "nextPageCursor": cursor,
            "category": category,
            "list": [execution_rest(item, specs[item.symbol]) for item in items],
        }

    def positions(self, params: Params) -> JsonObject:
        category = read_category(params)
        listed = []
        if category == LINEAR:
            symbols = selected_symbols(params, self._exchange.specs, required=True)
            if params.optional_text("symbol") is not None:
                listed = [self._exchange.position(symbol) for symbol in sorted(symbols)]
            else:
                listed = [p for p in self._exchange.positions() if p.symbol in symbols]
        items, cursor = page(listed, params, default=20, maximum=200)
        specs = self._exchange.specs
        return {
            "list": [account_payloads.position_rest(p, specs[p.symbol]) for p in items],
            "nextPageCursor": cursor,
            "category": category,
        }

    def wallet(self, params: Params) -> JsonObject:
        account_type = params.text("accountType")
        if account_type != account_payloads.ACCOUNT_TYPE:
            raise params_error("accountType only support UNIFIED")
        wallet = self._exchange.wallet()
        coins = params.optional_text("coin")
        if coins is not None:
            wanted = set(coins.split(","))
            wallet = replace(wallet, coins=tuple(c for c in wallet.coins if c.coin in wanted))
        return {"list": [account_payloads.wallet_rest(wallet)]}

    def fee_rate(self, params: Params) -> JsonObject:
        category = read_category(params)
        symbol = params.optional_text("symbol")
        specs = self._exchange.specs
        if symbol is not None and symbol not in specs:
            raise params_error(f"params error: symbol invalid: {symbol}")
        listed = [
            account_payloads.fee_rate(spec)
            for spec in specs.values()
            if category == LINEAR and symbol in (None, spec.symbol)
        ]
        return {"list": listed}

    def account_info(self, params: Params) -> JsonObject:
        return account_payloads.account_info(self._started_ms)

    def api_key_info(self, params: Params) -> JsonObject:
        created = datetime.fromtimestamp(self._started_ms / 1000, tz=UTC)
        return account_payloads.api_key_info(self._api_key, created.strftime("%Y-%m-%dT%H:%M:%SZ"))

    def coin_info(self, params: Params) -> JsonObject:
        specs = self._exchange.specs.values()
        coins = {spec.base_coin for spec in specs} | {spec.quote_coin for spec in specs}
        coins |= {coin.coin for coin in self._exchange.wallet().coins}
        wanted = params.optional_text("coin")
        listed = sorted(coins) if wanted is None else [c for c in sorted(coins) if c == wanted]
        return {"rows": [account_payloads.coin_info(coin, _COIN_PRECISION) for coin in listed]}
