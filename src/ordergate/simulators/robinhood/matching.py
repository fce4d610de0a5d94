"""How much of a working order one market step fills, and at what price.

Pure: the touch (best bid and ask) and the order decide. A market order takes the touch
for all it wants: a buy at the ask, a sell at the bid. So does a limit order that is
marketable when it arrives (its first chance to trade): it trades at the touch, at its
limit or better. A resting limit order fills at its limit once the touch reaches it (a
buy when ask <= limit, a sell when bid >= limit), up to the symbol's resting liquidity
per step, so a large order fills over several steps. A limit buy sent as robin_stocks
sends a "market" buy (a limit at the ask, with `preset_percent_limit`) is a limit like
any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.values import ZERO
from ordergate.simulators.robinhood.orders import OrderTicket


@dataclass(frozen=True, slots=True)
class Touch:
    """One symbol's market after a step."""

    bid: Decimal
    ask: Decimal
    last: Decimal

    def __post_init__(self) -> None:
        if self.bid <= ZERO or self.ask <= ZERO or self.last <= ZERO:
            raise InvalidRequest("bid, ask and last must be positive")
        if self.bid > self.ask:
            raise InvalidRequest(f"bid {self.bid} is above ask {self.ask}")


@dataclass(frozen=True, slots=True)
class Fill:
    price: Decimal
    quantity: Decimal


def fill_on_step(
    ticket: OrderTicket,
    remaining: Decimal,
    touch: Touch,
    liquidity: Decimal | None,
    arriving: bool = False,
) -> Fill | None:
    """What `touch` fills of an order with `remaining` shares open; None: nothing.
    `arriving`: the order's first chance to trade (see the module)."""
    if remaining <= ZERO:
        return None
    if ticket.order_type == "market":
        return Fill(touch.ask if ticket.side == "buy" else touch.bid, remaining)
    limit = ticket.price
    if limit is None:
        raise InvalidRequest("a limit order without a price cannot be matched")
    reached = touch.ask <= limit if ticket.side == "buy" else touch.bid >= limit
    if not reached:
        return None
    if arriving:
        return Fill(touch.ask if ticket.side == "buy" else touch.bid, remaining)
    return Fill(limit, remaining if liquidity is None else min(remaining, liquidity))


def touch_price(ticket: OrderTicket, touch: Touch) -> Decimal:
    """Where the order would fill against `touch` now, whatever its limit: its limit,
    or for a market order the side of the touch it takes."""
    if ticket.order_type == "limit" and ticket.price is not None:
        return ticket.price
    return touch.ask if ticket.side == "buy" else touch.bid
