"""Seed 004's vocabulary: its order, result, position and account types and its
`ExecutionEngine` Protocol, with the seed's field names, order and defaults.

`OrderSide` is ordergate's `Side` and `OrderType` is ordergate's `OrderType`: the same
string values as the seed's `str, Enum`s (`OrderType` adds `STOP_LIMIT`), one class each,
so nothing converts and nothing clashes with `ordergate.Side`. Fields ordergate adds
come after the seed's, with defaults, so the seed's positional and keyword
constructions both still work.

Numeric fields take a float, an int, a decimal string or a `Decimal` and hold an
`ExactNumber` (`numbers`): a float is read through its shortest repr.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ordergate.domain.values import OrderType, Side, TimeInForce
from ordergate.unified.numbers import ZERO, ExactNumber, NumberIn, exact, exact_or_none

OrderSide = Side
"""The seed's `OrderSide`: ordergate's `Side` (BUY, SELL)."""

__all__ = [
    "ExecutionEngine",
    "OrderSide",
    "OrderType",
    "UnifiedAccountState",
    "UnifiedInstrument",
    "UnifiedOrderRequest",
    "UnifiedOrderResult",
    "UnifiedPosition",
    "UnifiedQuote",
]


@dataclass(slots=True)
class UnifiedOrderRequest:
    """An order to submit. `ref_id` is the idempotency key: the same `ref_id` with the
    same order answers the order already placed; with a different one, it is refused."""

    symbol: str
    side: Side
    quantity: NumberIn
    type: OrderType = OrderType.MARKET
    price: NumberIn | None = None  # required for LIMIT (and STOP_LIMIT)
    stop_price: NumberIn | None = None  # required for STOP (and STOP_LIMIT)
    time_in_force: str = "GTC"
    ref_id: str | None = None
    # ordergate's own terms, beyond the seed's
    reduce_only: bool = False
    stop_loss: NumberIn | None = None
    take_profit: NumberIn | None = None

    def __post_init__(self) -> None:
        # Convert at construction so a bad number fails where it is written, and what is
        # read back is what will be sent. Strings are accepted for the enums, as the
        # seed's `str, Enum`s accept them.
        self.side = Side(self.side)
        self.type = OrderType(self.type)
        self.time_in_force = TimeInForce(str(self.time_in_force).upper())
        self.quantity = exact(self.quantity, "quantity")
        self.price = exact_or_none(self.price, "price")
        self.stop_price = exact_or_none(self.stop_price, "stop_price")
        self.stop_loss = exact_or_none(self.stop_loss, "stop_loss")
        self.take_profit = exact_or_none(self.take_profit, "take_profit")


@dataclass(frozen=True, slots=True)
class UnifiedOrderResult:
    """An order as the seed reports it; `id` is ordergate's order id.

    `status` is the seed's word (`PENDING`, `FILLED`, `REJECTED`, `CANCELED`) and
    `ordergate_status` ordergate's own status beside it; `error` is
    `"<reason code>: <reason>"` for a denial or rejection, and `reason_code` the code alone.
    """

    id: str
    status: str
    filled_qty: ExactNumber = ZERO
    avg_fill_price: ExactNumber = ZERO
    error: str | None = None
    # ordergate's own, beyond the seed's
    ordergate_status: str | None = None
    reason_code: str | None = None
    client_order_id: str | None = None
    venue_order_id: str | None = None
    symbol: str | None = None
    side: Side | None = None
    quantity: ExactNumber | None = None
    ref_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "filled_qty", exact(self.filled_qty, "filled_qty"))
        object.__setattr__(self, "avg_fill_price", exact(self.avg_fill_price, "avg_fill_price"))
        object.__setattr__(self, "quantity", exact_or_none(self.quantity, "quantity"))

    @property
    def order_id(self) -> str:
        """ordergate's order id (the seed's `id`)."""
        return self.id


@dataclass(frozen=True, slots=True)
class UnifiedPosition:
    """A net position: `side` from its sign, `quantity` always positive, `unrealized_pnl`
    at the current mark (in `currency`, the instrument's quote currency)."""

    symbol: str
    side: Side
    quantity: ExactNumber
    avg_price: ExactNumber
    unrealized_pnl: ExactNumber
    ticket_id: str | None = None  # ordergate nets positions: there are no tickets
    # ordergate's own, beyond the seed's
    mark_price: ExactNumber | None = None
    realized_pnl: ExactNumber = ZERO
    currency: str | None = None
    account: str | None = None

    def __post_init__(self) -> None:
        for name in ("quantity", "avg_price", "unrealized_pnl", "realized_pnl"):
            object.__setattr__(self, name, exact(getattr(self, name), name))
        object.__setattr__(self, "mark_price", exact_or_none(self.mark_price, "mark_price"))


@dataclass(frozen=True, slots=True)
class UnifiedAccountState:
    """An account's figures in one currency (its main one): balance, equity at current
    marks, margin used by positions and open orders, and margin still available."""

    balance: ExactNumber
    equity: ExactNumber
    used_margin: ExactNumber = ZERO
    available_margin: ExactNumber = ZERO
    currency: str = "USD"
    # ordergate's own, beyond the seed's
    unrealized_pnl: ExactNumber = ZERO
    account: str | None = None

    def __post_init__(self) -> None:
        for name in ("balance", "equity", "used_margin", "available_margin", "unrealized_pnl"):
            object.__setattr__(self, name, exact(getattr(self, name), name))


@dataclass(frozen=True, slots=True)
class UnifiedQuote:
    """Best prices of a symbol now (ordergate's, beyond the seed): `last` is the last
    trade or bar close, the price positions are marked at; `ts` its market time (ns)."""

    symbol: str
    bid: ExactNumber
    ask: ExactNumber
    last: ExactNumber
    ts: int

    def __post_init__(self) -> None:
        for name in ("bid", "ask", "last"):
            object.__setattr__(self, name, exact(getattr(self, name), name))


@dataclass(frozen=True, slots=True)
class UnifiedInstrument:
    """What sizing an order needs to know of a symbol (ordergate's, beyond the seed):
    notional = quantity * price * `contract_size`, in `quote_currency`; quantities are
    multiples of `lot_step`, at least `min_qty`; prices multiples of `tick_size`."""

    symbol: str
    quote_currency: str
    tick_size: ExactNumber
    lot_step: ExactNumber
    min_qty: ExactNumber
    contract_size: ExactNumber

    def __post_init__(self) -> None:
        for name in ("tick_size", "lot_step", "min_qty", "contract_size"):
            object.__setattr__(self, name, exact(getattr(self, name), name))


@runtime_checkable
class ExecutionEngine(Protocol):
    """Seed 004's execution engine, plus `cancel_order` and `get_order`.

    Parameters are typed as the seed types them (floats); ordergate's engine accepts
    more (`Decimal`, `int`, decimal strings), which still satisfies the Protocol.
    """

    def connect(self) -> None:
        """Connect to the venue, or start the engine."""
        ...

    def disconnect(self) -> None:
        """Disconnect and release every resource."""
        ...

    def get_account_state(self) -> UnifiedAccountState:
        """The account's figures now."""
        ...

    def get_positions(self) -> list[UnifiedPosition]:
        """Every open position."""
        ...

    def submit_order(self, order: UnifiedOrderRequest) -> UnifiedOrderResult:
        """Submit an order to the venue."""
        ...

    def close_position(self, symbol: str, quantity: float | None = None) -> UnifiedOrderResult:
        """Close a position, wholly or by `quantity`."""
        ...

    def close_all(self) -> list[UnifiedOrderResult]:
        """Emergency flatten: close every open position."""
        ...

    def cancel_order(self, order_id: str) -> UnifiedOrderResult:
        """Cancel a working order."""
        ...

    def get_order(self, order_id: str) -> UnifiedOrderResult | None:
        """The order as it is now; None if there is no such order."""
        ...
