"""Tradable instruments: the price and quantity grid an order must sit on."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.values import ONE, ZERO


@dataclass(frozen=True, slots=True)
class Instrument:
    """A linear instrument settled in its quote currency.

    Quantities are in contracts; one contract is `contract_size` units of the base
    (a 100,000 EUR lot for EURUSD, 1 BTC for BTCUSDT), so notional = qty * price *
    contract_size, in `quote_currency`. `margin_rate` is the initial margin as a fraction
    of notional (0.01 is 100:1 leverage).
    """

    symbol: str
    base_currency: str
    quote_currency: str
    tick_size: Decimal
    lot_step: Decimal
    min_qty: Decimal
    min_notional: Decimal = ZERO
    max_qty: Decimal | None = None
    contract_size: Decimal = ONE
    margin_rate: Decimal = ONE
    maker_fee_rate: Decimal = ZERO
    taker_fee_rate: Decimal = ZERO

    def __post_init__(self) -> None:
        if not self.symbol:
            raise InvalidRequest("instrument symbol is empty")
        for name in ("tick_size", "lot_step", "contract_size"):
            if getattr(self, name) <= ZERO:
                raise InvalidRequest(f"{self.symbol}: {name} must be positive")
        if self.min_qty < ZERO or self.min_notional < ZERO:
            raise InvalidRequest(f"{self.symbol}: minimums must not be negative")
        if not ZERO < self.margin_rate <= ONE:
            raise InvalidRequest(f"{self.symbol}: margin_rate must be in (0, 1]")

    def notional(self, qty: Decimal, price: Decimal) -> Decimal:
        return qty * price * self.contract_size

    def initial_margin(self, qty: Decimal, price: Decimal) -> Decimal:
        return qty * price * self.contract_size * self.margin_rate

    def is_on_tick(self, price: Decimal) -> bool:
        return _is_multiple(price, self.tick_size)

    def is_on_step(self, qty: Decimal) -> bool:
        return _is_multiple(qty, self.lot_step)

    def round_price(self, price: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
        """Round a computed price (an offset, a slippage bound) onto the tick grid."""
        ticks = (price / self.tick_size).to_integral_value(rounding=rounding)
        return ticks * self.tick_size

    def round_qty_down(self, qty: Decimal) -> Decimal:
        """Round a computed quantity down to the lot step, never up past what was asked."""
        steps = (qty / self.lot_step).to_integral_value(rounding=ROUND_DOWN)
        return steps * self.lot_step


def _is_multiple(value: Decimal, unit: Decimal) -> bool:
    # A value too large for the decimal context to divide is not on any grid we trade.
    try:
        return value % unit == ZERO
    except InvalidOperation:
        return False
