"""Typed reads of a request's parameters, refusing bad ones with Bybit's `10001`.

GET parameters arrive as strings; POST bodies are JSON, where Bybit sends decimals as
strings but clients may send numbers and booleans. Unknown parameters are ignored, as
Bybit ignores them (ccxt passes some of its own params through).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from ordergate.domain.values import ZERO, is_reasonable
from ordergate.simulators.bybit.errors import params_error


class Params:
    """The parameters of one request."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, object]) -> None:
        self._values = values

    def optional_text(self, name: str) -> str | None:
        """A string parameter; absent or empty reads as None."""
        value = self._values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise params_error(f"params error: {name} must be a string")
        return str(value)

    def text(self, name: str) -> str:
        value = self.optional_text(name)
        if value is None:
            raise params_error(f"params error: {name} is required")
        return value

    def optional_decimal(self, name: str) -> Decimal | None:
        """A positive decimal (Bybit's prices and quantities); absent or empty is None."""
        value = self._values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise params_error(f"params error: {name} must be a decimal string")
        try:
            number = Decimal(str(value))
        except InvalidOperation as exc:
            raise params_error(f"params error: {name} {value!r} is not a number") from exc
        if not is_reasonable(number) or number <= ZERO:
            raise params_error(f"params error: {name} {value!r} must be a positive number")
        return number

    def decimal(self, name: str) -> Decimal:
        value = self.optional_decimal(name)
        if value is None:
            raise params_error(f"params error: {name} is required")
        return value

    def integer(self, name: str, default: int) -> int:
        value = self._values.get(name)
        if value is None or value == "":
            return default
        text = str(value)
        if isinstance(value, bool) or not text.lstrip("-").isdigit():
            raise params_error(f"params error: {name} must be an integer")
        return int(text)

    def flag(self, name: str) -> bool:
        """A boolean: JSON true/false, or "true"/"false" in a query string."""
        value = self._values.get(name)
        if value is None or value == "":
            return False
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise params_error(f"params error: {name} must be true or false")

    def limit(self, default: int, maximum: int) -> int:
        """The page size: `limit` in [1, maximum]."""
        limit = self.integer("limit", default)
        if not 1 <= limit <= maximum:
            raise params_error(f"params error: limit must be in [1, {maximum}]")
        return limit
