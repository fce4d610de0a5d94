"""Real ccxt exchanges with the network replaced: a fake transport under ccxt's `fetch`.

ccxt's own request building, signing, error mapping and parsing all run; only the HTTP
round trip is swapped for canned answers (recorded Bybit payloads, Binance and Kraken
payloads written from their public API docs), and every request ccxt would have sent is
kept for assertions.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import ccxt.async_support as ccxt_rest

from ordergate.domain.values import OrderType, Side, TimeInForce
from ordergate.engine.venue_reports import VenueOrderRequest
from ordergate.venues.ccxt.config import CcxtVenueConfig
from ordergate.venues.ccxt.dialects import Dialect, dialect_for
from ordergate.venues.ccxt.markets import MarketDirectory, load_directory
from ordergate.venues.ccxt.translate import Translator

D = Decimal
ACCOUNT = "acct"
COID = "0123456789abcdef0123456789abcdef"
BYBIT_RECORDED = Path(__file__).resolve().parents[5] / "shared" / "reference" / "bybit-v5"
PAYLOADS = Path(__file__).resolve().parent / "payloads"


def recorded(name: str) -> Any:
    """A recorded Bybit v5 payload (shared/reference/bybit-v5)."""
    return json.loads((BYBIT_RECORDED / name).read_text())


def payload(name: str) -> Any:
    """A payload written from an exchange's public API docs (payloads/)."""
    return json.loads((PAYLOADS / name).read_text())


@dataclass
class SentRequest:
    method: str
    path: str
    params: dict[str, str]
    body: str | None

    def json(self) -> dict[str, Any]:
        assert self.body is not None
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


Answer = Callable[[SentRequest], tuple[int, Any]]


@dataclass
class FakeTransport:
    """Answers ccxt's requests by (method, path); records what was sent."""

    exchange: Any
    routes: dict[tuple[str, str], Answer] = field(default_factory=dict)
    sent: list[SentRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.exchange.fetch = self.fetch

    def answer(self, method: str, path: str, body: Any, status: int = 200) -> None:
        self.routes[(method, path)] = lambda _request: (status, body)

    def answer_with(self, method: str, path: str, answer: Answer) -> None:
        self.routes[(method, path)] = answer

    def last(self, path: str) -> SentRequest:
        return [r for r in self.sent if r.path == path][-1]

    def to(self, path: str) -> list[SentRequest]:
        return [r for r in self.sent if r.path == path]

    async def fetch(
        self, url: str, method: str = "GET", headers: Any = None, body: Any = None
    ) -> Any:
        parts = urlsplit(url)
        params = dict(parse_qsl(parts.query))
        if body:
            try:
                decoded = json.loads(body)
                if isinstance(decoded, dict):
                    params.update({k: str(v) for k, v in decoded.items()})
            except ValueError:
                params.update(dict(parse_qsl(body)))
        request = SentRequest(method, parts.path, params, body)
        self.sent.append(request)
        answer = self.routes.get((method, parts.path))
        if answer is None:
            raise AssertionError(f"no canned answer for {method} {parts.path}")
        status, response = answer(request)
        # A text answer (an HTML error page) is not JSON: ccxt parses nothing from it.
        text = response if isinstance(response, str) else json.dumps(response)
        parsed = None if isinstance(response, str) else response
        # ccxt's own error mapping runs on the answer, as in its real fetch.
        self.exchange.handle_errors(status, "", url, method, {}, text, parsed, headers or {}, body)
        self.exchange.handle_http_status_code(status, "", url, method, text)
        return parsed if parsed is not None else text


@dataclass
class Offline:
    """One exchange as the adapter configures it, its markets loaded through ccxt."""

    exchange: Any
    transport: FakeTransport
    dialect: Dialect
    markets: MarketDirectory

    @property
    def translator(self) -> Translator:
        return Translator(ACCOUNT, self.markets, self.dialect)


MARKET_ROUTES: dict[str, list[tuple[str, str, Any]]] = {
    "bybit": [
        ("GET", "/v5/market/instruments-info", recorded("http_get_instruments_linear.json")),
        ("GET", "/v5/user/query-api", recorded("http_get_user_query_api.json")),
        ("GET", "/v5/account/info", recorded("http_get_account_info.json")),
    ],
    "binance-swap": [
        ("GET", "/fapi/v1/exchangeInfo", payload("binance_fapi_exchange_info.json")),
    ],
    "binance-spot": [
        ("GET", "/api/v3/exchangeInfo", payload("binance_spot_exchange_info.json")),
    ],
    "kraken": [
        ("GET", "/0/public/Assets", payload("kraken_assets.json")),
        ("GET", "/0/public/AssetPairs", payload("kraken_asset_pairs.json")),
    ],
}


@asynccontextmanager
async def offline(
    exchange_id: str, market_type: str, symbols: tuple[str, ...]
) -> AsyncIterator[Offline]:
    """A ccxt exchange built from the adapter's config, markets loaded from canned payloads."""
    config = CcxtVenueConfig(
        exchange_id=exchange_id,
        account=ACCOUNT,
        symbols=symbols,
        market_type=market_type,
        api_key="key",
        api_secret="c2VjcmV0",  # Kraken's secret is base64
        live=False,
    )
    dialect = dialect_for(exchange_id)
    exchange = getattr(ccxt_rest, exchange_id)(
        config.exchange_settings(dialect.constructor_defaults(market_type))
    )
    # The network is fake: no session to let settle, no rate to respect.
    exchange.timeout_on_exit = 0
    exchange.enableRateLimit = False
    transport = FakeTransport(exchange)
    key = exchange_id if exchange_id != "binance" else f"binance-{market_type}"
    for method, path, body in MARKET_ROUTES[key]:
        transport.answer(method, path, body)
    try:
        await exchange.load_markets()
        markets = load_directory(
            exchange.markets, symbols, market_type, exchange.precisionMode, dialect.min_notional
        )
        yield Offline(exchange, transport, dialect, markets)
    finally:
        await exchange.close()


def request(
    type: OrderType = OrderType.LIMIT,
    side: Side = Side.BUY,
    qty: str = "0.010",
    price: str | None = "30000.5",
    stop_price: str | None = None,
    tif: TimeInForce = TimeInForce.GTC,
    reduce_only: bool = False,
    symbol: str = "BTCUSDT",
) -> VenueOrderRequest:
    return VenueOrderRequest(
        client_order_id=COID,
        account=ACCOUNT,
        symbol=symbol,
        side=side,
        type=type,
        qty=D(qty),
        price=None if price is None else D(price),
        stop_price=None if stop_price is None else D(stop_price),
        time_in_force=tif,
        reduce_only=reduce_only,
    )
