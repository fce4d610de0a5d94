"""Reading a `POST orders/` body into an `OrderTicket`, refusing what Robinhood refuses.

robin_stocks posts a form (every value a string, booleans as "True"/"False", fields that
are None left out); a JSON body is read the same way. The fields read: `account` and
`instrument` (URLs of this account and of a listed instrument: only their paths count,
so a client redirected to the simulator may send Robinhood's own origin), `symbol`,
`side`, `type`, `trigger`, `time_in_force`, `quantity`, `price`, `stop_price`, `ref_id`
(a UUID: the idempotency key), `market_hours`, `extended_hours`,
`preset_percent_limit`. The quote fields robin_stocks adds (`ask_price`, `bid_price`,
`bid_ask_timestamp`) and `order_form_version` are accepted and not used. A field
refused answers 400 in Django REST framework's shape, `{"<field>": ["<message>"]}`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Final

from ordergate.domain.values import ONE, ZERO, is_reasonable
from ordergate.simulators.robinhood.errors import RobinhoodError, field_error
from ordergate.simulators.robinhood.orders import OrderTicket, OrderType, SideName
from ordergate.simulators.robinhood.sessions import session_of
from ordergate.simulators.robinhood.stocks import StockSpec

REQUIRED: Final = "This field is required."
NOT_A_NUMBER: Final = "A valid number is required."
BAD_LINK: Final = "Invalid hyperlink - Object does not exist."
_SIDES: Final[dict[str, SideName]] = {"buy": "buy", "sell": "sell"}
_TYPES: Final[dict[str, OrderType]] = {"limit": "limit", "market": "market"}
_TRIGGERS: Final = ("immediate", "stop")
_TIMES_IN_FORCE: Final = ("gfd", "gtc", "ioc")
_MARKET_HOURS: Final = ("regular_hours", "extended_hours", "all_day_hours")
_MAX_SHARE_DECIMALS: Final = 6


def read_ticket(
    body: Mapping[str, object], account_number: str, stocks: Mapping[str, StockSpec]
) -> OrderTicket:
    """The ticket `body` asks for, or a `RobinhoodError` (400) naming the field."""
    form = _Form(body)
    if not form.text("account").endswith(f"/accounts/{account_number}/"):
        raise field_error("account", BAD_LINK)
    by_instrument = {f"/instruments/{spec.instrument_id}/": spec for spec in stocks.values()}
    instrument = form.text("instrument")
    spec = next((s for path, s in by_instrument.items() if instrument.endswith(path)), None)
    if spec is None:
        raise field_error("instrument", BAD_LINK)
    symbol = form.optional_text("symbol")
    if symbol is not None and symbol.upper() != spec.symbol:
        raise RobinhoodError(400, {"non_field_errors": ["Symbol does not match instrument."]})
    side = _SIDES[form.choice("side", tuple(_SIDES))]
    order_type = _TYPES[form.choice("type", tuple(_TYPES))]
    trigger = form.choice("trigger", _TRIGGERS, default="immediate")
    price = form.optional_price("price")
    if order_type == "limit" and price is None:
        raise field_error("price", REQUIRED)
    stop_price = form.optional_price("stop_price")
    if trigger == "stop" and stop_price is None:
        raise field_error("stop_price", REQUIRED)
    market_hours = form.choice("market_hours", _MARKET_HOURS, default="regular_hours")
    extended_hours = form.flag("extended_hours")
    return OrderTicket(
        symbol=spec.symbol,
        side=side,
        order_type=order_type,
        trigger=trigger,
        time_in_force=form.choice("time_in_force", _TIMES_IN_FORCE, default="gfd"),
        quantity=form.quantity("quantity"),
        price=price,
        stop_price=stop_price,
        ref_id=form.ref_id("ref_id"),
        market_hours=market_hours,
        extended_hours=extended_hours,
        preset_percent_limit=form.optional_decimal("preset_percent_limit"),
        session=session_of(order_type, market_hours, extended_hours),
    )


class _Form:
    """Typed reads of the body's fields, each refusal in DRF's words."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, object]) -> None:
        self._values = values

    def optional_text(self, name: str) -> str | None:
        value = self._values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise field_error(name, "Not a valid string.")
        return str(value)

    def text(self, name: str) -> str:
        value = self.optional_text(name)
        if value is None:
            raise field_error(name, REQUIRED)
        return value

    def choice(self, name: str, allowed: tuple[str, ...], default: str | None = None) -> str:
        value = self.optional_text(name) if default is not None else self.text(name)
        if value is None:
            assert default is not None  # the branch above
            return default
        if value not in allowed:
            raise field_error(name, f'"{value}" is not a valid choice.')
        return value

    def flag(self, name: str) -> bool:
        value = self._values.get(name)
        if value is None or isinstance(value, bool):
            return bool(value)
        text = str(value).lower()
        if text not in ("true", "false", "1", "0"):
            raise field_error(name, "Must be a valid boolean.")
        return text in ("true", "1")

    def optional_decimal(self, name: str) -> Decimal | None:
        text = self.optional_text(name)
        if text is None:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise field_error(name, NOT_A_NUMBER) from exc
        if not is_reasonable(number):
            raise field_error(name, NOT_A_NUMBER)
        return number

    def optional_price(self, name: str) -> Decimal | None:
        """A positive price on Robinhood's grid: cents from $1, 4 decimals below."""
        number = self.optional_decimal(name)
        if number is None:
            return None
        if number <= ZERO:
            raise field_error(name, "Ensure this value is greater than 0.")
        places = 2 if number >= ONE else 4
        if _decimals(number) > places:
            raise field_error(name, f"Ensure that there are no more than {places} decimal places.")
        return number

    def quantity(self, name: str) -> Decimal:
        number = self.optional_decimal(name)
        if number is None:
            raise field_error(name, REQUIRED)
        if number <= ZERO:
            raise field_error(name, "Ensure this value is greater than 0.")
        if _decimals(number) > _MAX_SHARE_DECIMALS:
            raise field_error(
                name, f"Ensure that there are no more than {_MAX_SHARE_DECIMALS} decimal places."
            )
        return number

    def ref_id(self, name: str) -> str | None:
        text = self.optional_text(name)
        if text is None:
            return None
        try:
            return str(uuid.UUID(text))
        except ValueError as exc:
            raise field_error(name, "Must be a valid UUID.") from exc


def _decimals(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # finite: is_reasonable
    return max(-exponent, 0)
