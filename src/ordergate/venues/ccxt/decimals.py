"""Numbers from ccxt as `Decimal`, and its millisecond times as nanoseconds.

The adapter builds its exchanges with `number=str`: ccxt then hands every parsed number
back as the string it computed with its own string arithmetic (`Precise`), never as a
float, and `Decimal(str)` is exact. Floats should not appear; if an exchange's parser
produces one anyway, its shortest repr is the value ccxt meant, so it is read from that
rather than from its binary expansion.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from ordergate.venues.ccxt.errors import UnmappedVenueValue

NS_PER_MS = 1_000_000


def decimal_of(value: object, what: str) -> Decimal:
    """The number ccxt reported for `what`; raise if it is missing or not a number."""
    if isinstance(value, bool) or value is None:
        raise UnmappedVenueValue(f"the venue reported no number for {what}: {value!r}")
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(value) if isinstance(value, str | int | Decimal) else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise UnmappedVenueValue(f"the venue reported {value!r} for {what}, not a number")
    return number


def optional_decimal(value: object, what: str) -> Decimal | None:
    """Like `decimal_of`, for a number the venue may leave out (None or an empty string)."""
    if value is None or value == "":
        return None
    return decimal_of(value, what)


def ns_of_ms(value: object) -> int | None:
    """A ccxt timestamp (integer milliseconds) in nanoseconds; None when there is none."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        return int(value) * NS_PER_MS
    except ValueError:
        return None
