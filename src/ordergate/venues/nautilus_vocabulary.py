"""NautilusTrader's words in ordergate's, as both NautilusTrader venues say them.

The simulated venue (`venues/nautilus`) and the live one (`venues/nautilus_live`) are
separate adapters, but they read the same NautilusTrader objects: sides, liquidity,
order statuses, fixed-point numbers, and a denial by NautilusTrader's own risk engine.
One mapping here, so the two cannot drift. Importing this module imports NautilusTrader:
only those two adapters do.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from nautilus_trader.model.enums import LiquiditySide as NautilusLiquidity
from nautilus_trader.model.enums import OrderSide as NautilusSide
from nautilus_trader.model.enums import OrderStatus as NautilusStatus

from ordergate.domain.values import ZERO, LiquiditySide, OrderStatus, Side

# A denial by NautilusTrader's risk engine, before any venue saw the order: ordergate has
# no such outcome, so it is a rejection whose reason starts with who denied it.
DENIED_BY: Final = "denied by NautilusTrader's risk engine: "

_TO_NAUTILUS: Final = {Side.BUY: NautilusSide.BUY, Side.SELL: NautilusSide.SELL}
_CLOSED: Final = {
    NautilusStatus.FILLED: OrderStatus.FILLED,
    NautilusStatus.CANCELED: OrderStatus.CANCELED,
    NautilusStatus.REJECTED: OrderStatus.REJECTED,
    NautilusStatus.EXPIRED: OrderStatus.EXPIRED,
}
# Statuses of an order no venue has: not sent, sent and not yet answered, or denied.
_NOT_AT_A_VENUE: Final = frozenset(
    {NautilusStatus.INITIALIZED, NautilusStatus.SUBMITTED, NautilusStatus.DENIED}
)


def denial_reason(reason: str) -> str:
    """The reason ordergate records for a risk-engine denial: who denied it, and why."""
    return f"{DENIED_BY}{reason}"


def side_to_nautilus(side: Side) -> NautilusSide:
    return _TO_NAUTILUS[side]


def side_from_nautilus(side: NautilusSide) -> Side:
    return Side.BUY if side == NautilusSide.BUY else Side.SELL


def liquidity_from_nautilus(side: NautilusLiquidity) -> LiquiditySide:
    """MAKER as maker; TAKER, and a fill that names none, as taker."""
    return LiquiditySide.MAKER if side == NautilusLiquidity.MAKER else LiquiditySide.TAKER


def order_status(status: NautilusStatus, filled_qty: Decimal) -> OrderStatus | None:
    """ordergate's status of a NautilusTrader order: None for one no venue has (not sent,
    not yet answered, or denied by NautilusTrader's risk engine); a working one is
    ACCEPTED or PARTIALLY_FILLED by what has filled."""
    if status in _NOT_AT_A_VENUE:
        return None
    return _CLOSED.get(status) or working_status(filled_qty)


def working_status(filled_qty: Decimal) -> OrderStatus:
    return OrderStatus.PARTIALLY_FILLED if filled_qty > ZERO else OrderStatus.ACCEPTED


def decimal_of(value: Any) -> Decimal:
    """A NautilusTrader `Price`, `Quantity`, `Money` or number as an exact `Decimal`, with
    the decimals NautilusTrader prints (`0.030`, `0.27505500` for money: its precision
    stays visible); a float through its shortest text."""
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value).split(" ", 1)[0])  # Money prints as "0.27505500 USDT"


def optional_decimal(value: Any) -> Decimal | None:
    """As `decimal_of`; None, and a zero price (Bybit's "no price"), are None."""
    if value is None:
        return None
    number = decimal_of(value)
    return None if number == ZERO else number
