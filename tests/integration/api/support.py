"""What the REST API tests share: a tiny market with known prices, and a running app.

The market has two instruments whose bars are flat (open = high = low = close), so every
bar is one price and bid = ask = last = close. The first bar is applied at start-up, so
a market order fills at `EURUSD[0]` / `BTCUSDT[0]` until the test moves the market with
`Api.advance()`, which applies the next bar and waits until the engine has taken in
everything the venue said.

`running()` creates an admin API key once the app has started and sends it with every
request (`scope=None`: a client with no key, for the tests of the keys themselves).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from ordergate.api.app import create_app
from ordergate.app.application import Application
from ordergate.auth.keys import Scope
from ordergate.config.settings import Settings
from ordergate.venues.paper.venue import PaperVenue

D = Decimal

# Closes of the bars, one a minute from FIRST_BAR_OPEN; a bar is known when it closes.
EURUSD = ("1.10000", "1.10200", "1.10400", "1.09800", "1.10000", "1.10100", "1.10200", "1.10300")
BTCUSDT = ("40000.0", "41000.0", "39000.0", "42000.0", "43000.0", "44000.0", "45000.0", "46000.0")
FIRST_BAR_OPEN = datetime(2024, 1, 2, tzinfo=UTC)

MARKET_TOML = """\
[feed]
align_start = false
loop = false

[instruments.EURUSD]
base_currency = "EUR"
quote_currency = "USD"
tick_size = "0.00001"
lot_step = "0.01"
min_qty = "0.01"
min_notional = "0"
contract_size = "100000"
margin_rate = "0.01"
maker_fee_rate = "0"
taker_fee_rate = "0"
bars = "eurusd.csv"

[instruments.BTCUSDT]
base_currency = "BTC"
quote_currency = "USDT"
tick_size = "0.1"
lot_step = "0.001"
min_qty = "0.001"
min_notional = "5"
contract_size = "1"
margin_rate = "0.01"
maker_fee_rate = "0.0002"
taker_fee_rate = "0.00055"
bars = "btcusdt.csv"
"""

BALANCES: dict[str, dict[str, Decimal]] = {
    "default": {"USD": D(100_000), "USDT": D(100_000)},
    "alt": {"USD": D(50_000), "USDT": D(50_000)},
}


def market_time(step: int) -> datetime:
    """Market-data time after `step` advances (step 0: the bar applied at start-up)."""
    return FIRST_BAR_OPEN + timedelta(minutes=step + 1)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def write_market(directory: Path) -> Path:
    """Write the market TOML and its two CSV files into `directory`; return the TOML."""
    for name, closes in (("eurusd.csv", EURUSD), ("btcusdt.csv", BTCUSDT)):
        rows = ["timestamp,open,high,low,close"]
        for i, close in enumerate(closes):
            stamp = (FIRST_BAR_OPEN + timedelta(minutes=i)).strftime("%Y-%m-%d %H:%M:%S")
            rows.append(f"{stamp},{close},{close},{close},{close}")
        (directory / name).write_text("\n".join(rows) + "\n")
    toml = directory / "market.toml"
    toml.write_text(MARKET_TOML)
    return toml


def make_settings(market: Path, **overrides: Any) -> Settings:
    """Settings for a still, in-memory, deterministic app (nothing read from the env)."""
    values: dict[str, Any] = {
        "db": ":memory:",
        "paper_bars_per_second": 0,
        "paper_data": market,
        "paper_balances": BALANCES,
        "paper_loop": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


class Api:
    """An HTTP client on a running app, plus the few hooks a test needs to move time."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        self.app = app
        self.http = client

    @property
    def application(self) -> Application:
        application: Application = self.app.state.application
        return application

    @property
    def venue(self) -> PaperVenue:
        venue = self.application.partition.wiring.market
        assert isinstance(venue, PaperVenue)
        return venue

    async def place(self, expected_status: int = 201, /, **body: Any) -> dict[str, Any]:
        """POST /v1/orders and return the order, checking the HTTP status."""
        response = await self.http.post("/v1/orders", json=body)
        assert response.status_code == expected_status, response.text
        order: dict[str, Any] = response.json()
        return order

    async def paper_place(self, expected_status: int = 201, /, **body: Any) -> dict[str, Any]:
        """POST /paper/order and return the order, checking the HTTP status."""
        response = await self.http.post("/paper/order", json=body)
        assert response.status_code == expected_status, response.text
        order: dict[str, Any] = response.json()
        return order

    async def order(self, order_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/v1/orders/{order_id}")
        assert response.status_code == 200, response.text
        order: dict[str, Any] = response.json()
        return order

    async def orders(self, **params: Any) -> list[dict[str, Any]]:
        """Every order matching the filters (one page of up to 1000)."""
        response = await self.http.get("/v1/orders", params={"limit": 1000, **params})
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def fills(self, **params: Any) -> list[dict[str, Any]]:
        response = await self.http.get("/v1/fills", params={"limit": 1000, **params})
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def positions(self, **params: Any) -> dict[str, dict[str, Any]]:
        """Positions by symbol."""
        response = await self.http.get("/v1/positions", params=params)
        assert response.status_code == 200, response.text
        return {p["symbol"]: p for p in response.json()}

    async def account(self, **params: Any) -> dict[str, dict[str, Any]]:
        """The account's figures by currency."""
        response = await self.http.get("/v1/account", params=params)
        assert response.status_code == 200, response.text
        return {c["currency"]: c for c in response.json()["currencies"]}

    async def advance(self, steps: int = 1) -> None:
        """Apply the next `steps` bars, then wait until the engine has handled the results."""
        for _ in range(steps):
            assert self.venue.advance(), "the test market ran out of bars"
            await self.settle()

    async def settle(self) -> None:
        await self.application.partition.engine.settle()


@asynccontextmanager
async def running(settings: Settings, *, scope: Scope | None = Scope.ADMIN) -> AsyncIterator[Api]:
    """Start the app (its lifespan builds ordergate) and give an HTTP client on it.

    The client sends a fresh key of `scope` in `X-API-Key`, or no key if `scope` is None.
    """
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app):
        headers: dict[str, str] = {}
        if scope is not None:
            application: Application = app.state.application
            issued = application.keys.create(scope, "api tests", actor="tests")
            headers["X-API-Key"] = issued.plaintext
        async with httpx.AsyncClient(
            transport=transport, base_url="http://ordergate.test", headers=headers
        ) as client:
            yield Api(app, client)
