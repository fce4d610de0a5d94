"""Numbers across the unified interface's boundary: exact on the way in, exact on the way out.

Seed 004 speaks floats. ordergate keeps every price, quantity and amount a `Decimal`.
On the way in a float becomes the Decimal of its shortest repr (`0.1` is `Decimal("0.1")`,
never the binary expansion `0.1000000000000000055511151231257827...`). On the way out
answers are `ExactNumber`: a `Decimal` that also meets floats the way seed code uses them
(`state.equity * 0.5`, `result.filled_qty == 0.1`), by reading the float through its
shortest repr too, so the arithmetic stays exact and the seed's code runs unchanged.
`float(x)` reads any answer as the float the seed expects.
"""

from __future__ import annotations

import math
from decimal import Context, Decimal, InvalidOperation
from numbers import Rational
from typing import Any, TypeAlias, overload

from ordergate.domain.errors import InvalidRequest

NumberIn: TypeAlias = Decimal | float | int | str
"""What a numeric field of a request accepts: a float (read by its shortest repr), an
int, a decimal string or a `Decimal`."""


def _exact_operand(value: object) -> Any:
    """A float as the Decimal of its shortest repr; anything else as it is."""
    return Decimal(repr(value)) if isinstance(value, float) else value


def _wrapped(result: Any) -> ExactNumber:
    """An operator's answer as an `ExactNumber`; `NotImplemented` passed on, so Python
    asks the other operand (a `Fraction`, say)."""
    if result is NotImplemented:
        unanswered: ExactNumber = NotImplemented
        return unanswered
    return ExactNumber(result)


class ExactNumber(Decimal):
    """A `Decimal` that meets floats through their shortest repr, exactly.

    Seed code does `equity * weight` with a float weight, which a plain `Decimal` refuses
    (`TypeError`), and `filled == 0.1`, which a plain `Decimal` answers False (it compares
    with the float's binary value). An `ExactNumber` reads the float as `Decimal(repr(f))`
    first, so both work and stay exact; arithmetic answers `ExactNumber` again.
    """

    __slots__ = ()

    def __add__(self, other: Decimal | int | float) -> ExactNumber:
        return _wrapped(Decimal.__add__(self, _exact_operand(other)))

    def __radd__(self, other: Decimal | int | float) -> ExactNumber:
        return _wrapped(Decimal.__radd__(self, _exact_operand(other)))

    def __sub__(self, other: Decimal | int | float) -> ExactNumber:
        return _wrapped(Decimal.__sub__(self, _exact_operand(other)))

    def __rsub__(self, other: Decimal | int | float) -> ExactNumber:
        return _wrapped(Decimal.__rsub__(self, _exact_operand(other)))

    def __mul__(self, other: Decimal | int | float) -> ExactNumber:
        return _wrapped(Decimal.__mul__(self, _exact_operand(other)))

    def __rmul__(self, other: Decimal | int | float) -> ExactNumber:
        return _wrapped(Decimal.__rmul__(self, _exact_operand(other)))

    def __truediv__(self, other: Decimal | int | float) -> ExactNumber:
        return _wrapped(Decimal.__truediv__(self, _exact_operand(other)))

    def __rtruediv__(self, other: Decimal | int | float) -> ExactNumber:
        return _wrapped(Decimal.__rtruediv__(self, _exact_operand(other)))

    def __floordiv__(self, other: Decimal | int | float) -> ExactNumber:
        return _wrapped(Decimal.__floordiv__(self, _exact_operand(other)))

    def __rfloordiv__(self, other: Decimal | int | float) -> ExactNumber:
        return _wrapped(Decimal.__rfloordiv__(self, _exact_operand(other)))

    def __mod__(self, other: Decimal | int | float) -> ExactNumber:
        return _wrapped(Decimal.__mod__(self, _exact_operand(other)))

    def __rmod__(self, other: Decimal | int | float) -> ExactNumber:
        return _wrapped(Decimal.__rmod__(self, _exact_operand(other)))

    def __pow__(
        self, other: Decimal | int | float, modulo: Decimal | int | None = None
    ) -> ExactNumber:
        return _wrapped(Decimal.__pow__(self, _exact_operand(other), modulo))

    def __rpow__(self, other: Decimal | int | float, context: Context | None = None) -> ExactNumber:
        return _wrapped(Decimal.__rpow__(self, _exact_operand(other), context))

    def __neg__(self) -> ExactNumber:
        return ExactNumber(Decimal.__neg__(self))

    def __pos__(self) -> ExactNumber:
        return ExactNumber(Decimal.__pos__(self))

    def __abs__(self) -> ExactNumber:
        return ExactNumber(Decimal.__abs__(self))

    @overload
    def __round__(self, ndigits: None = None, /) -> int: ...

    @overload
    def __round__(self, ndigits: int, /) -> ExactNumber: ...

    def __round__(self, ndigits: int | None = None, /) -> int | ExactNumber:
        if ndigits is None:
            return Decimal.__round__(self)
        return ExactNumber(Decimal.__round__(self, ndigits))

    def __eq__(self, other: object) -> bool:
        return Decimal.__eq__(self, _exact_operand(other))

    def __ne__(self, other: object) -> bool:
        return Decimal.__ne__(self, _exact_operand(other))

    def __lt__(self, other: Decimal | float | Rational) -> bool:
        return Decimal.__lt__(self, _exact_operand(other))

    def __le__(self, other: Decimal | float | Rational) -> bool:
        return Decimal.__le__(self, _exact_operand(other))

    def __gt__(self, other: Decimal | float | Rational) -> bool:
        return Decimal.__gt__(self, _exact_operand(other))

    def __ge__(self, other: Decimal | float | Rational) -> bool:
        return Decimal.__ge__(self, _exact_operand(other))

    # Equal to the Decimal of a float's repr, so hashed as that Decimal: a float key and
    # its ExactNumber may land in different dict slots, as a float and its Decimal do.
    __hash__ = Decimal.__hash__


ZERO = ExactNumber(0)


def exact(value: NumberIn, name: str = "value") -> ExactNumber:
    """`value` as an exact, finite number; a float through its shortest repr.

    Refuse (`InvalidRequest`) NaN, infinities, booleans (`True` is an int, not a
    quantity) and anything that is not a number or a decimal string.
    """
    if isinstance(value, bool):
        raise InvalidRequest(f"{name} must be a number, got a boolean ({value})")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidRequest(f"{name} must be a finite number, got {value}")
        return ExactNumber(repr(value))
    if isinstance(value, Decimal | int):
        number = ExactNumber(value)
    elif isinstance(value, str):
        try:
            number = ExactNumber(value.strip())
        except InvalidOperation:
            raise InvalidRequest(f"{name} must be a decimal number, got {value!r}") from None
    else:
        raise InvalidRequest(f"{name} must be a number, got {type(value).__name__}")
    if not number.is_finite():
        raise InvalidRequest(f"{name} must be a finite number, got {value}")
    return number


def exact_or_none(value: NumberIn | None, name: str = "value") -> ExactNumber | None:
    """`exact(value)`, or None for None (an optional price)."""
    return None if value is None else exact(value, name)


def plain(value: NumberIn, name: str = "value") -> Decimal:
    """`exact(value)` as a plain `Decimal`, for ordergate's commands: the journal encodes
    `Decimal` itself, not a subclass of it."""
    return Decimal(exact(value, name))


def plain_or_none(value: NumberIn | None, name: str = "value") -> Decimal | None:
    """`plain(value)`, or None for None."""
    return None if value is None else plain(value, name)


def answer(value: Decimal | None) -> ExactNumber:
    """An engine figure as an answer: exact, with None (no fill yet) as zero, as the seed."""
    return ZERO if value is None else ExactNumber(value)
