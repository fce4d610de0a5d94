"""The account's cash and shares: a cash account (no margin, no shorting).

A buy pays for its shares from cash at the fill; a sell is paid into cash. What open
orders hold back (cash for buys, shares for sells) is worked out from the orders by the
broker: the ledger only books fills.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.values import ZERO
from ordergate.simulators.robinhood.orders import SideName


@dataclass(slots=True)
class Holding:
    """One symbol's shares and what they cost (for `average_buy_price`)."""

    quantity: Decimal = ZERO
    cost: Decimal = ZERO
    created_ns: int = 0
    updated_ns: int = 0

    @property
    def average_buy_price(self) -> Decimal:
        return self.cost / self.quantity if self.quantity else ZERO


class Ledger:
    """Cash and holdings, changed only by `book`."""

    def __init__(self, cash: Decimal) -> None:
        if cash < ZERO:
            raise InvalidRequest("cash must not be negative")
        self.cash = cash
        self._holdings: dict[str, Holding] = {}

    def holding(self, symbol: str) -> Holding | None:
        """The symbol's holding, if it was ever traded (its quantity may be zero)."""
        return self._holdings.get(symbol)

    def quantity(self, symbol: str) -> Decimal:
        held = self._holdings.get(symbol)
        return ZERO if held is None else held.quantity

    def holdings(self) -> dict[str, Holding]:
        """Every symbol ever traded, in the order first traded."""
        return dict(self._holdings)

    def book(
        self, symbol: str, side: SideName, price: Decimal, quantity: Decimal, now_ns: int
    ) -> None:
        """Book a fill: cash moves by price * quantity, shares by quantity."""
        held = self._holdings.setdefault(symbol, Holding(created_ns=now_ns))
        if side == "buy":
            self.cash -= price * quantity
            held.cost += price * quantity
            held.quantity += quantity
        else:
            if quantity > held.quantity:
                raise InvalidRequest(f"{symbol}: selling {quantity}, holding {held.quantity}")
            self.cash += price * quantity
            held.cost -= held.average_buy_price * quantity
            held.quantity -= quantity
        held.updated_ns = now_ns
