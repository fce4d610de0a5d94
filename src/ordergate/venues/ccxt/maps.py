"""ordergate's vocabulary and ccxt's, mapped explicitly both ways.

Every map raises on a value it does not list: an ordergate value the venue cannot express
raises `UnsupportedByVenue` (the request is refused before it is sent); a venue value
ordergate has no name for raises `UnmappedVenueValue`. Nothing falls back to a default.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Generic, TypeVar

from ordergate.domain.values import ZERO, OrderStatus, Side
from ordergate.venues.ccxt.errors import UnmappedVenueValue, UnsupportedByVenue

Ours = TypeVar("Ours")
Theirs = TypeVar("Theirs")


class TwoWayMap(Generic[Ours, Theirs]):
    """A one-to-one map between ordergate values and a venue's spelling of them."""

    __slots__ = ("_from_venue", "_to_venue", "what")

    def __init__(self, what: str, pairs: Mapping[Ours, Theirs]) -> None:
        self.what = what
        self._to_venue = dict(pairs)
        self._from_venue = {venue: ours for ours, venue in pairs.items()}
        if len(self._from_venue) != len(self._to_venue):
            raise ValueError(f"{what}: two ordergate values share one venue spelling")

    def to_venue(self, value: Ours) -> Theirs:
        try:
            return self._to_venue[value]
        except KeyError:
            raise UnsupportedByVenue(f"the venue has no {self.what} {value}") from None

    def from_venue(self, value: object) -> Ours:
        try:
            return self._from_venue[value]  # type: ignore[index]
        except (KeyError, TypeError):
            raise UnmappedVenueValue(f"unknown {self.what} from the venue: {value!r}") from None


SIDES: TwoWayMap[Side, str] = TwoWayMap("side", {Side.BUY: "buy", Side.SELL: "sell"})


def order_status(ccxt_status: object, filled: Decimal, amount: Decimal) -> OrderStatus:
    """ordergate's status of an order from ccxt's unified status and its fill.

    ccxt has five statuses and ordergate six final-or-working ones, so this is not a
    one-to-one map: "open" splits by whether anything filled, and "closed" (done) is
    FILLED only when nothing remains. Bybit's PartiallyFilledCanceled, for one, comes out
    of ccxt as "closed" with quantity left. An order the venue rejected after it had
    traded (Bybit's partially-filled-then-rejected) stopped working with fills: for
    ordergate it is canceled, as REJECTED means it never worked.
    """
    if ccxt_status == "open":
        return OrderStatus.PARTIALLY_FILLED if filled > ZERO else OrderStatus.ACCEPTED
    if ccxt_status == "closed":
        return OrderStatus.FILLED if filled >= amount else OrderStatus.CANCELED
    if ccxt_status == "canceled":
        return OrderStatus.CANCELED
    if ccxt_status == "expired":
        return OrderStatus.EXPIRED
    if ccxt_status == "rejected":
        return OrderStatus.CANCELED if filled > ZERO else OrderStatus.REJECTED
    raise UnmappedVenueValue(f"unknown order status from the venue: {ccxt_status!r}")
