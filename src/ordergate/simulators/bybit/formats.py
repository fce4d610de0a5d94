"""Numbers and envelopes as Bybit writes them.

Bybit sends prices, quantities and money as decimal strings: quantities with the
instrument's step precision ("0.010"), prices with its price scale ("30000.50"),
account figures with up to 8 decimals, and computed values (order value, fees) as they
come. Every REST answer is the same envelope.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

from ordergate.domain.values import ZERO
from ordergate.simulators.bybit.config import InstrumentSpec
from ordergate.simulators.bybit.errors import RetCode

JsonObject = dict[str, object]
_ACCOUNT_PLACES: Final = Decimal("1e-8")


def plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: "1500", "0.0150" -> "0.015"."""
    if value == ZERO:
        return "0"
    return format(value.normalize(), "f")


def fixed(value: Decimal, places: int) -> str:
    """A decimal with exactly `places` decimals."""
    return format(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN), "f")


def qty(spec: InstrumentSpec, value: Decimal) -> str:
    return fixed(value, spec.qty_scale)


def price(spec: InstrumentSpec, value: Decimal) -> str:
    return fixed(value, spec.price_scale)


def money(value: Decimal) -> str:
    """An account figure: at most 8 decimals."""
    return plain(value.quantize(_ACCOUNT_PLACES, rounding=ROUND_HALF_EVEN))


def envelope(
    result: object, now_ms: int, code: RetCode = RetCode.OK, message: str = "OK"
) -> JsonObject:
    """Bybit's REST answer; an error carries an empty `result`."""
    return {
        "retCode": int(code),
        "retMsg": message,
        "result": result,
        "retExtInfo": {},
        "time": now_ms,
    }
