"""Numbers, times and URLs as Robinhood writes them.

Robinhood sends every price and quantity as a string with fixed decimals (orders: 8;
quotes: 6; account money: 4; fees: 2), times as ISO 8601 in UTC with microseconds and a
`Z`, and links between resources as absolute URLs with a trailing slash.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final
from urllib.parse import urlencode

JsonObject = dict[str, object]

ORDER_PLACES: Final = 8
QUOTE_PLACES: Final = 6
MONEY_PLACES: Final = 4
FEE_PLACES: Final = 2
_NS_PER_US: Final = 1_000
_NS_PER_SECOND: Final = 1_000_000_000


def fixed(value: Decimal, places: int) -> str:
    """`value` with exactly `places` decimals: fixed(Decimal(1), 8) == "1.00000000"."""
    return format(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN), "f")


def order_number(value: Decimal | None) -> str | None:
    """A price or quantity of an order or execution (8 decimals); None stays null."""
    return None if value is None else fixed(value, ORDER_PLACES)


def timestamp(ns: int) -> str:
    """ "2024-01-02T14:30:00.123456Z"."""
    seconds, rest = divmod(ns, _NS_PER_SECOND)
    moment = datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=rest // _NS_PER_US)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Urls:
    """The absolute URLs of one account's resources on one origin."""

    __slots__ = ("_account", "origin")

    def __init__(self, origin: str, account_number: str) -> None:
        self.origin = origin.rstrip("/")
        self._account = account_number

    def account(self) -> str:
        return f"{self.origin}/accounts/{self._account}/"

    def user(self) -> str:
        return f"{self.origin}/user/"

    def instrument(self, instrument_id: str) -> str:
        return f"{self.origin}/instruments/{instrument_id}/"

    def quote(self, symbol: str) -> str:
        return f"{self.origin}/quotes/{symbol}/"

    def fundamentals(self, symbol: str) -> str:
        return f"{self.origin}/fundamentals/{symbol}/"

    def splits(self, instrument_id: str) -> str:
        return f"{self.origin}/instruments/{instrument_id}/splits/"

    def market(self, mic: str) -> str:
        return f"{self.origin}/markets/{mic}/"

    def order(self, order_id: str) -> str:
        return f"{self.origin}/orders/{order_id}/"

    def cancel(self, order_id: str) -> str:
        return f"{self.origin}/orders/{order_id}/cancel/"

    def position(self, instrument_id: str) -> str:
        return f"{self.origin}/positions/{self._account}/{instrument_id}/"

    def page(self, path: str, query: Mapping[str, str], cursor: str | None) -> str | None:
        """The URL of another page of `path` (None without a cursor): the same query,
        that cursor."""
        if cursor is None:
            return None
        return f"{self.origin}{path}?{urlencode({**query, 'cursor': cursor})}"
