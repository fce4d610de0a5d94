"""The markets ordergate trades at a venue: symbols both ways, and their instruments.

ordergate names instruments the way the venue does (`BTCUSDT`); ccxt names markets in
its unified form (`BTC/USDT:USDT`). The venue's name is ccxt's market `id`, so the map
goes through it, restricted to one market type: on Bybit, spot and the linear perpetual
share the id `BTCUSDT`.

ccxt states each market's price and amount precision in the exchange's `precisionMode`:
a tick size, a number of decimal places, or a number of significant digits. The first
two give a fixed grid; significant digits do not (the step depends on the price), so
such a market cannot be an ordergate `Instrument` and is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ccxt  # type: ignore[import-untyped]

from ordergate.domain.errors import RejectedByVenue
from ordergate.domain.instruments import Instrument
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import ONE, ZERO
from ordergate.venues.ccxt.decimals import decimal_of, optional_decimal
from ordergate.venues.ccxt.errors import UnmappedVenueValue

MinNotional = Callable[[Mapping[str, Any]], Decimal | None]


@dataclass(frozen=True, slots=True)
class MarketEntry:
    """One traded market: ordergate's symbol, ccxt's, and the instrument's grid.

    `settle` is the currency the market settles in (None for spot); an ordergate
    instrument settles in its quote currency, so a market settling in another one
    (inverse, quanto) is not loaded.
    """

    symbol: str
    ccxt_symbol: str
    market_type: str
    contract: bool
    settle: str | None
    instrument: Instrument


class MarketDirectory:
    """The configured markets of one venue, looked up by either name."""

    def __init__(self, entries: Iterable[MarketEntry]) -> None:
        self._by_symbol = {e.symbol: e for e in entries}
        self._by_ccxt = {e.ccxt_symbol: e for e in self._by_symbol.values()}

    @property
    def entries(self) -> list[MarketEntry]:
        return list(self._by_symbol.values())

    def entry(self, symbol: str) -> MarketEntry:
        """The market of an ordergate symbol; refuse one this venue is not set up for."""
        try:
            return self._by_symbol[symbol]
        except KeyError:
            raise RejectedByVenue(
                f"{symbol} is not among the symbols configured for this venue",
                code=ReasonCode.SYMBOL_NOT_ALLOWED,
            ) from None

    def has(self, symbol: str) -> bool:
        return symbol in self._by_symbol

    def by_ccxt_symbol(self, ccxt_symbol: object) -> MarketEntry | None:
        """The configured market of a ccxt symbol; None for a market ordergate does not trade."""
        return self._by_ccxt.get(ccxt_symbol) if isinstance(ccxt_symbol, str) else None


def load_directory(
    markets: Mapping[str, Mapping[str, Any]],
    symbols: Iterable[str],
    market_type: str,
    precision_mode: int,
    min_notional: MinNotional,
) -> MarketDirectory:
    """Find each configured symbol among ccxt's `markets` and build its instrument."""
    entries = []
    for symbol in symbols:
        found = [
            m for m in markets.values() if m.get("id") == symbol and m.get("type") == market_type
        ]
        if len(found) != 1:
            raise UnmappedVenueValue(
                f"{symbol}: {len(found)} {market_type} markets have this id, expected one"
            )
        entries.append(market_entry(symbol, found[0], precision_mode, min_notional))
    return MarketDirectory(entries)


def market_entry(
    symbol: str, market: Mapping[str, Any], precision_mode: int, min_notional: MinNotional
) -> MarketEntry:
    quote = str(market["quote"])
    settle = market.get("settle")
    if settle is not None and settle != quote:
        raise UnmappedVenueValue(
            f"{symbol} settles in {settle}, not its quote currency {quote}: not supported"
        )
    precision = market.get("precision") or {}
    limits = market.get("limits") or {}
    amount_limits = limits.get("amount") or {}
    lot_step = grid_step(precision.get("amount"), precision_mode, f"{symbol} amount precision")
    instrument = Instrument(
        symbol=symbol,
        base_currency=str(market["base"]),
        quote_currency=quote,
        tick_size=grid_step(precision.get("price"), precision_mode, f"{symbol} price precision"),
        lot_step=lot_step,
        min_qty=optional_decimal(amount_limits.get("min"), f"{symbol} min amount") or lot_step,
        min_notional=min_notional(market) or ZERO,
        max_qty=optional_decimal(amount_limits.get("max"), f"{symbol} max amount"),
        contract_size=optional_decimal(market.get("contractSize"), f"{symbol} contract size")
        or ONE,
        maker_fee_rate=optional_decimal(market.get("maker"), f"{symbol} maker fee") or ZERO,
        taker_fee_rate=optional_decimal(market.get("taker"), f"{symbol} taker fee") or ZERO,
    )
    return MarketEntry(
        symbol=symbol,
        ccxt_symbol=str(market["symbol"]),
        market_type=str(market["type"]),
        contract=bool(market.get("contract")),
        settle=None if settle is None else str(settle),
        instrument=instrument,
    )


def grid_step(precision: object, precision_mode: int, what: str) -> Decimal:
    """The step of a grid ccxt states as `precision` under `precision_mode`."""
    if precision_mode == ccxt.TICK_SIZE:
        return decimal_of(precision, what)
    if precision_mode == ccxt.DECIMAL_PLACES:
        places = decimal_of(precision, what)
        if places != places.to_integral_value():
            raise UnmappedVenueValue(f"{what}: {places} decimal places is not a whole number")
        return Decimal(1).scaleb(-int(places))
    if precision_mode == ccxt.SIGNIFICANT_DIGITS:
        raise UnmappedVenueValue(f"{what} is in significant digits: no fixed grid to trade on")
    raise UnmappedVenueValue(f"{what}: unknown ccxt precision mode {precision_mode!r}")


def default_min_notional(market: Mapping[str, Any]) -> Decimal | None:
    """ccxt's unified minimum cost of an order, where the exchange's parser fills it."""
    cost = (market.get("limits") or {}).get("cost") or {}
    return optional_decimal(cost.get("min"), f"{market.get('id')} min cost")
