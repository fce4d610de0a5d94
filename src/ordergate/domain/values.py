"""Small value types shared by the whole domain."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

ZERO = Decimal(0)
ONE = Decimal(1)

# Quantities and prices beyond these are refused at the edge: the grid and margin
# arithmetic then always fits the default 28-digit decimal context.
MAX_DIGITS_BEFORE_POINT = 15
MAX_MAGNITUDE = Decimal(10) ** MAX_DIGITS_BEFORE_POINT
MAX_DECIMALS = 12


def is_reasonable(value: Decimal) -> bool:
    """Finite, below 1e15 in size, and with at most 12 significant decimals."""
    # adjusted() is the exponent of the leading digit: >= 15 means |value| >= 1e15.
    if not value.is_finite() or value.adjusted() >= MAX_DIGITS_BEFORE_POINT:
        return False
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if exponent >= -MAX_DECIMALS:
        return True
    normalized = value.normalize().as_tuple().exponent  # "1.000...0": trailing zeros only
    assert isinstance(normalized, int)
    return normalized >= -MAX_DECIMALS


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP = "STOP"
    STOP_LIMIT = "STOP_LIMIT"

    @property
    def needs_price(self) -> bool:
        return self in (OrderType.LIMIT, OrderType.STOP_LIMIT)

    @property
    def needs_stop_price(self) -> bool:
        return self in (OrderType.STOP, OrderType.STOP_LIMIT)


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    DAY = "DAY"


class LiquiditySide(StrEnum):
    MAKER = "MAKER"
    TAKER = "TAKER"


class TradingState(StrEnum):
    """What new orders may do: anything; only reduce (SAFE mode); nothing (kill switch)."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


class DirtyCause(StrEnum):
    """Why an instrument's position is in doubt until reconciliation agrees again."""

    AMBIGUOUS_REQUEST = "AMBIGUOUS_REQUEST"
    VENUE_RECONNECT = "VENUE_RECONNECT"
    SEQUENCE_GAP = "SEQUENCE_GAP"
    RECONCILIATION_MISMATCH = "RECONCILIATION_MISMATCH"
    # The venue streamed a fill of an order ordergate does not know (a manual trade, a
    # server-side stop-out): the position moved without it until reconciliation adopts it.
    UNKNOWN_FILL = "UNKNOWN_FILL"


class OrderStatus(StrEnum):
    NEW = "NEW"
    DENIED = "DENIED"
    # Dry run: approved by pre-trade risk, never sent (terminal).
    PLANNED = "PLANNED"
    PENDING_SUBMIT = "PENDING_SUBMIT"
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    PENDING_CANCEL = "PENDING_CANCEL"
    CANCELED = "CANCELED"
    PENDING_REPLACE = "PENDING_REPLACE"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    UNKNOWN = "UNKNOWN"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES

    @property
    def is_open(self) -> bool:
        """May still trade at the venue (counts toward exposure and reserved margin)."""
        return self in OPEN_STATUSES


TERMINAL_STATUSES = frozenset(
    {
        OrderStatus.DENIED,
        OrderStatus.PLANNED,
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.REJECTED,
        OrderStatus.EXPIRED,
    }
)
# NEW is not open: it has not passed risk yet and lives only inside one engine batch.
OPEN_STATUSES = frozenset(
    {
        OrderStatus.PENDING_SUBMIT,
        OrderStatus.SUBMITTED,
        OrderStatus.ACCEPTED,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.PENDING_REPLACE,
        OrderStatus.UNKNOWN,
    }
)
