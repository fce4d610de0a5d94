"""Commands: the intents strategies send. Validated for shape on construction.

A command that fails validation raises `InvalidRequest` before it reaches the engine, so
nothing is recorded for it. Business rules (limits, margin, symbols) are not checked
here: they are pre-trade checks, and a failing one gives a DENIED order, not an error.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

import msgspec

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.signal_model import TradingSignal
from ordergate.domain.values import (
    MAX_DECIMALS,
    MAX_MAGNITUDE,
    ZERO,
    OrderType,
    Side,
    TimeInForce,
    TradingState,
    is_reasonable,
)

MAX_ID_LENGTH = 128
MAX_NAME_LENGTH = 64


def _plain_decimals(command: msgspec.Struct, *names: str) -> None:
    """Make each named field a plain `Decimal`: an int or a `Decimal` subclass is taken
    as its value (the journal encodes `Decimal` itself, and a subclass may compare or
    hash differently); anything else (a float's binary value, a string) is refused."""
    for name in names:
        value = getattr(command, name)
        if value is None or type(value) is Decimal:
            continue
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise InvalidRequest(f"{name} must be a Decimal, got {type(value).__name__}")
        msgspec.structs.force_setattr(command, name, Decimal(value))


def _require_positive(name: str, value: Decimal | None, *, required: bool) -> None:
    if value is None:
        if required:
            raise InvalidRequest(f"{name} is required")
        return
    if not value.is_finite() or value <= ZERO:
        raise InvalidRequest(f"{name} must be a positive finite number, got {value}")
    if not is_reasonable(value):
        raise InvalidRequest(
            f"{name} must be below {MAX_MAGNITUDE:.0E} with at most {MAX_DECIMALS} decimals"
        )


def price_field_problem(order_type: OrderType, field: str, value: Decimal | None) -> str | None:
    """Why `price` or `stop_price` does not fit the order type, if it does not."""
    needed = order_type.needs_price if field == "price" else order_type.needs_stop_price
    if needed and value is None:
        return f"{order_type} orders need a {field}"
    if value is not None and not needed:
        return f"{field} is not used by {order_type} orders"
    return None


def _require_name(name: str, value: str | None, *, limit: int, required: bool) -> None:
    if value is None:
        if required:
            raise InvalidRequest(f"{name} is required")
        return
    if not value or len(value) > limit or not value.isprintable() or value != value.strip():
        raise InvalidRequest(f"{name} must be 1..{limit} printable characters, no edge spaces")


class PlaceOrder(msgspec.Struct, frozen=True, gc=False):
    account: str
    symbol: str
    side: Side
    qty: Decimal
    type: OrderType = OrderType.MARKET
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    idempotency_key: str | None = None
    strategy: str | None = None
    trace_id: str | None = None
    parent_order_id: str | None = None
    # LIMIT only: no price; ordergate prices it at the configured offset from the touch.
    price_at_offset: bool = False
    # The trading signal this order is placed for (set by the signal path, seed 002).
    signal_id: str | None = None
    # The entry point's own order types, checked as the risk limits' are (seed 000's
    # /paper is market-only): another type is DENIED with UNSUPPORTED_ORDER_TYPE.
    allowed_types: frozenset[OrderType] | None = None

    def __post_init__(self) -> None:
        _plain_decimals(self, "qty", "price", "stop_price", "stop_loss", "take_profit")
        _require_name("account", self.account, limit=MAX_NAME_LENGTH, required=True)
        _require_name("symbol", self.symbol, limit=MAX_NAME_LENGTH, required=True)
        _require_name("strategy", self.strategy, limit=MAX_NAME_LENGTH, required=False)
        _require_name("idempotency_key", self.idempotency_key, limit=MAX_ID_LENGTH, required=False)
        _require_name("signal_id", self.signal_id, limit=MAX_ID_LENGTH, required=False)
        _require_name("trace_id", self.trace_id, limit=MAX_ID_LENGTH, required=False)
        _require_positive("qty", self.qty, required=True)
        if self.price_at_offset:
            if self.type is not OrderType.LIMIT or self.price is not None:
                raise InvalidRequest("price_at_offset is for LIMIT orders sent without a price")
        else:
            problem = price_field_problem(self.type, "price", self.price)
            if problem is not None:
                raise InvalidRequest(problem)
        problem = price_field_problem(self.type, "stop_price", self.stop_price)
        if problem is not None:
            raise InvalidRequest(problem)
        _require_positive("price", self.price, required=False)
        _require_positive("stop_price", self.stop_price, required=False)
        _require_positive("stop_loss", self.stop_loss, required=False)
        _require_positive("take_profit", self.take_profit, required=False)
        if self.reduce_only and (self.stop_loss is not None or self.take_profit is not None):
            raise InvalidRequest("a reduce-only order cannot carry a stop-loss or take-profit")

    def fingerprint(self) -> str:
        """Identify what the order is, so a reused idempotency key can be told apart."""
        parts = (
            self.account,
            self.symbol,
            self.side,
            self.type,
            _canonical(self.qty),
            _canonical(self.price),
            _canonical(self.stop_price),
            self.time_in_force,
            "1" if self.reduce_only else "0",
            _canonical(self.stop_loss),
            _canonical(self.take_profit),
            self.strategy or "",
            self.parent_order_id or "",
            "offset" if self.price_at_offset else "",
        )
        return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


def _canonical(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


class CancelOrder(msgspec.Struct, frozen=True, gc=False):
    order_id: str
    reason: str | None = None


class ReplaceOrder(msgspec.Struct, frozen=True, gc=False):
    order_id: str
    qty: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None

    def __post_init__(self) -> None:
        _plain_decimals(self, "qty", "price", "stop_price")
        _require_positive("qty", self.qty, required=False)
        _require_positive("price", self.price, required=False)
        _require_positive("stop_price", self.stop_price, required=False)
        if self.qty is None and self.price is None and self.stop_price is None:
            raise InvalidRequest("replace needs at least one of qty, price, stop_price")


class ClosePosition(msgspec.Struct, frozen=True, gc=False):
    """Flatten (or reduce by `qty`) one position with a reduce-only market order."""

    account: str
    symbol: str
    qty: Decimal | None = None
    strategy: str | None = None
    trace_id: str | None = None

    def __post_init__(self) -> None:
        _plain_decimals(self, "qty")
        _require_name("account", self.account, limit=MAX_NAME_LENGTH, required=True)
        _require_name("symbol", self.symbol, limit=MAX_NAME_LENGTH, required=True)
        _require_positive("qty", self.qty, required=False)


class CloseAll(msgspec.Struct, frozen=True, gc=False):
    """Cancel every open order and flatten every position (of one account, or all)."""

    account: str | None = None
    reason: str | None = None
    trace_id: str | None = None
    actor: str = "unknown"


# A target set's key is shorter than an order's: the orders it places are keyed
# `tgt:<set key>:<symbol>`.
MAX_TARGET_KEY_LENGTH = 48


class SetTargets(msgspec.Struct, frozen=True, gc=False):
    """Take each position of `account` in `targets` (symbol, signed quantity) to its
    target, with orders of `strategy` (`engine.targets`). LIMIT orders are priced at the
    configured offset from the touch."""

    account: str
    strategy: str
    targets: tuple[tuple[str, Decimal], ...]
    order_type: OrderType = OrderType.MARKET
    idempotency_key: str | None = None
    trace_id: str | None = None

    def __post_init__(self) -> None:
        _require_name("account", self.account, limit=MAX_NAME_LENGTH, required=True)
        _require_name("strategy", self.strategy, limit=MAX_NAME_LENGTH, required=True)
        _require_name(
            "idempotency_key", self.idempotency_key, limit=MAX_TARGET_KEY_LENGTH, required=False
        )
        _require_name("trace_id", self.trace_id, limit=MAX_ID_LENGTH, required=False)
        if self.order_type not in (OrderType.MARKET, OrderType.LIMIT):
            raise InvalidRequest("targets are worked with MARKET or LIMIT orders")
        if not self.targets:
            raise InvalidRequest("a target set needs at least one target")
        targets = []
        for symbol, qty in self.targets:
            value: object = qty  # typed Decimal; a caller may still pass anything
            if isinstance(value, bool) or not isinstance(value, Decimal | int):
                raise InvalidRequest(f"target of {symbol} must be a Decimal")
            targets.append((symbol, Decimal(value)))
        msgspec.structs.force_setattr(self, "targets", tuple(targets))
        symbols = [symbol for symbol, _ in self.targets]
        if len(set(symbols)) != len(symbols):
            raise InvalidRequest("a target set names a symbol twice")
        for symbol, qty in self.targets:
            _require_name("symbol", symbol, limit=MAX_NAME_LENGTH, required=True)
            if not is_reasonable(abs(qty)):
                raise InvalidRequest(
                    f"target of {symbol} must be finite, below {MAX_MAGNITUDE:.0E} with at "
                    f"most {MAX_DECIMALS} decimals"
                )

    def fingerprint(self) -> str:
        """Identify what the set asks, so a reused key can be told apart."""
        parts = [self.account, self.strategy, self.order_type.value]
        parts.extend(f"{symbol}={_canonical(qty)}" for symbol, qty in self.targets)
        return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


class ProcessSignal(msgspec.Struct, frozen=True, gc=False):
    """A trading signal to act on (seed 002); validated when it was decoded."""

    signal: TradingSignal


class AdjustBalance(msgspec.Struct, frozen=True, gc=False):
    account: str
    currency: str
    amount: Decimal
    reason: str

    def __post_init__(self) -> None:
        _require_name("account", self.account, limit=MAX_NAME_LENGTH, required=True)
        _plain_decimals(self, "amount")
        _require_name("currency", self.currency, limit=16, required=True)
        if not self.amount.is_finite() or self.amount == ZERO:
            raise InvalidRequest("amount must be a non-zero finite number")


class SetTradingState(msgspec.Struct, frozen=True, gc=False):
    """Set ACTIVE, REDUCING or HALTED for an account, an instrument, or both."""

    state: TradingState
    reason: str
    actor: str
    account: str | None = None
    symbol: str | None = None

    def __post_init__(self) -> None:
        _require_name("account", self.account, limit=MAX_NAME_LENGTH, required=False)
        _require_name("symbol", self.symbol, limit=MAX_NAME_LENGTH, required=False)
        _require_name("reason", self.reason, limit=500, required=True)


class ArmTrading(msgspec.Struct, frozen=True, gc=False):
    """Arm live trading for an account; `confirmation` must read `ARM <account> ON <venue>`."""

    account: str
    venue: str
    confirmation: str
    actor: str

    def __post_init__(self) -> None:
        _require_name("account", self.account, limit=MAX_NAME_LENGTH, required=True)
        expected = f"ARM {self.account} ON {self.venue}"
        if self.confirmation != expected:
            raise InvalidRequest(
                f"confirmation must read exactly {expected!r}", code="ARM_CONFIRMATION"
            )


class ClearDirty(msgspec.Struct, frozen=True, gc=False):
    """An operator vouches for an account's positions (or one instrument's)."""

    account: str
    reason: str
    actor: str
    symbol: str | None = None


Command = (
    PlaceOrder
    | ProcessSignal
    | SetTargets
    | CancelOrder
    | ReplaceOrder
    | ClosePosition
    | CloseAll
    | AdjustBalance
    | SetTradingState
    | ArmTrading
    | ClearDirty
)
