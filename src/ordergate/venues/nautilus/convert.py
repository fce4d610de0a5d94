"""ordergate's values in NautilusTrader's types and back, exactly.

NautilusTrader's `Price` and `Quantity` carry a precision that must equal the
instrument's (a quote of another precision is a `RuntimeError` inside `run`; an order of
a finer one is denied, of a coarser one rejected). Every value is therefore built from a
string with exactly the instrument's decimals, and read back through `str`, never a
float (`venues.nautilus_vocabulary`, shared with the live venue). A value finer than the
grid is sent as it is, so NautilusTrader's own risk engine refuses it as it would refuse
any strategy's.

Instruments: every ordergate `Instrument` is linear and settled in its quote currency, so
each becomes a `CryptoPerpetual` (the one NautilusTrader instrument with a free
`multiplier`, here the contract size) on the simulated venue of one account.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from nautilus_trader.model.enums import TimeInForce as NautilusTif
from nautilus_trader.model.identifiers import InstrumentId, Symbol, Venue
from nautilus_trader.model.instruments import CryptoPerpetual
from nautilus_trader.model.objects import Currency, Money, Price, Quantity

from ordergate.domain.instruments import Instrument
from ordergate.domain.values import ZERO, TimeInForce

NS_PER_DAY = 86_400 * 1_000_000_000

_TIFS = {
    TimeInForce.GTC: NautilusTif.GTC,
    TimeInForce.IOC: NautilusTif.IOC,
    TimeInForce.FOK: NautilusTif.FOK,
    TimeInForce.DAY: NautilusTif.GTD,  # until the next 00:00 UTC: see `day_expiry_ns`
}


def precision_of(step: Decimal) -> int:
    """Decimals of a tick or lot step: 0.1 → 1, 0.001 → 3, 5 → 0."""
    exponent = step.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # a finite step (Instrument checks it is positive)
    return max(0, -exponent)


def fixed(value: Decimal, precision: int) -> str:
    """`value` with exactly `precision` decimals when that loses nothing; else as it is
    (finer than the grid: NautilusTrader then refuses it, as it would anyone's)."""
    try:
        on_grid = value.quantize(Decimal(1).scaleb(-precision))
    except InvalidOperation:  # too many digits for the context, or not finite
        return str(value)
    return f"{on_grid:.{precision}f}" if on_grid == value else str(value)


def to_price(value: Decimal, precision: int) -> Price:
    return Price.from_str(fixed(value, precision))


def to_quantity(value: Decimal, precision: int) -> Quantity:
    return Quantity.from_str(fixed(value, precision))


def money(amount: Decimal, currency: str) -> Money:
    return Money.from_str(f"{amount} {currency}")


def tif_to_nautilus(tif: TimeInForce) -> NautilusTif:
    return _TIFS[tif]


def day_expiry_ns(now_ns: int) -> int:
    """The next 00:00 UTC after `now_ns`: a DAY order expires on the first market step at
    or after it, as the paper venue's DAY orders expire on the first step of a later date."""
    return (now_ns // NS_PER_DAY + 1) * NS_PER_DAY


def instrument_id(symbol: str, venue: Venue) -> InstrumentId:
    return InstrumentId(Symbol(symbol), venue)


def perpetual(instrument: Instrument, venue: Venue) -> CryptoPerpetual:
    """The NautilusTrader instrument of ordergate's `instrument` on `venue`."""
    price_precision = precision_of(instrument.tick_size)
    size_precision = precision_of(instrument.lot_step)
    quote = Currency.from_str(instrument.quote_currency)
    return CryptoPerpetual(
        instrument_id=instrument_id(instrument.symbol, venue),
        raw_symbol=Symbol(instrument.symbol),
        base_currency=Currency.from_str(instrument.base_currency),
        quote_currency=quote,
        settlement_currency=quote,
        is_inverse=False,
        price_precision=price_precision,
        price_increment=to_price(instrument.tick_size, price_precision),
        size_precision=size_precision,
        size_increment=to_quantity(instrument.lot_step, size_precision),
        multiplier=to_quantity(instrument.contract_size, precision_of(instrument.contract_size)),
        max_quantity=None
        if instrument.max_qty is None
        else to_quantity(instrument.max_qty, size_precision),
        min_quantity=to_quantity(instrument.min_qty, size_precision)
        if instrument.min_qty > ZERO
        else None,
        max_notional=None,
        min_notional=money(instrument.min_notional, instrument.quote_currency)
        if instrument.min_notional > ZERO
        else None,
        max_price=None,
        min_price=None,
        margin_init=instrument.margin_rate,
        margin_maint=instrument.margin_rate / 2,
        maker_fee=instrument.maker_fee_rate,
        taker_fee=instrument.taker_fee_rate,
        ts_event=0,
        ts_init=0,
    )
