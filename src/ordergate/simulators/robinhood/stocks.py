"""The stocks the simulator lists, and where their prices come from.

The bundled demo market (`ordergate.matching`) has minute bars of EURUSD, GBPUSD and
BTCUSDT only, no stock. Each stock therefore borrows one bundled series' relative moves
and scales them onto a plausible price level of its own, on a one-cent tick:

    price = level * (1 + amplify * (source_mid / source_first_mid - 1))

`amplify` brings the source's volatility near the stock's (a day's range of a few per
cent): a currency moves a few times less than a large-cap stock, bitcoin several times
more than an index fund. The shapes are plausible, not history: AAPL never traded at
these prices on these days.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from ordergate.simulators.ids import derived_uuid

TICK: Final = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class StockSpec:
    """One listed stock: what `instruments/` says of it and how its price is shaped."""

    symbol: str
    name: str
    simple_name: str
    kind: str  # Robinhood's instrument `type`: "stock", or "etp" for an exchange-traded fund
    list_date: str
    market_mic: str
    level: Decimal  # the price the shaped series starts at (and manual mode's first quote)
    source: str  # the bundled series whose moves it borrows
    amplify: Decimal

    @property
    def instrument_id(self) -> str:
        """A stable UUID of the instrument (derived from its symbol, not Robinhood's)."""
        return derived_uuid(f"robinhood:instrument:{self.symbol}")


CATALOGUE: Final[dict[str, StockSpec]] = {
    spec.symbol: spec
    for spec in (
        StockSpec(
            symbol="AAPL",
            name="Apple Inc. Common Stock",
            simple_name="Apple",
            kind="stock",
            list_date="1980-12-12",
            market_mic="XNAS",
            level=Decimal("190.00"),
            source="EURUSD",
            amplify=Decimal(4),
        ),
        StockSpec(
            symbol="MSFT",
            name="Microsoft Corporation Common Stock",
            simple_name="Microsoft",
            kind="stock",
            list_date="1987-09-17",
            market_mic="XNAS",
            level=Decimal("370.00"),
            source="GBPUSD",
            amplify=Decimal(4),
        ),
        StockSpec(
            symbol="SPY",
            name="SPDR S&P 500 ETF Trust",
            simple_name="SPDR S&P 500 ETF",
            kind="etp",
            list_date="1993-01-29",
            market_mic="ARCX",
            level=Decimal("470.00"),
            source="BTCUSDT",
            amplify=Decimal("0.2"),
        ),
    )
}
DEFAULT_SYMBOLS: Final = tuple(CATALOGUE)
