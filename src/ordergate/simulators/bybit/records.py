"""The simulated exchange's records: orders, executions, positions and the wallet.

Records are frozen: a change makes a new record, so a record handed to the websocket
stream or to a test is a snapshot that later changes cannot touch. Values are in
Bybit's vocabulary (statuses, cancel types) but typed (`Decimal`, enums); turning them
into Bybit's JSON is the payload modules' job.

A conditional order (Bybit's `stopOrderType` "Stop") carries its `Trigger`. Its status
runs `Untriggered`, then `Triggered` when the market reaches the trigger, then the
statuses of the plain order it became (`New`, `PartiallyFilled`, `Filled`,
`Cancelled`); cancelled before it triggered, it ends `Deactivated`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum, StrEnum

from ordergate.domain.values import ZERO, OrderType, Side


class OrderStatus(StrEnum):
    """Bybit's `orderStatus` values for linear orders that this simulator produces."""

    NEW = "New"
    PARTIALLY_FILLED = "PartiallyFilled"
    FILLED = "Filled"
    CANCELLED = "Cancelled"
    UNTRIGGERED = "Untriggered"  # a conditional order waiting for its trigger
    TRIGGERED = "Triggered"  # the moment it triggered, before it works as a plain order
    DEACTIVATED = "Deactivated"  # a conditional order cancelled before it triggered

    @property
    def is_open(self) -> bool:
        return self in _OPEN


_OPEN = frozenset(
    (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.UNTRIGGERED, OrderStatus.TRIGGERED)
)


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    POST_ONLY = "PostOnly"


class TriggerDirection(IntEnum):
    """Bybit's `triggerDirection`: which way the price must cross the trigger."""

    RISE = 1
    FALL = 2


class TriggerBy(StrEnum):
    """Bybit's `triggerBy`: the price a trigger watches."""

    LAST_PRICE = "LastPrice"
    MARK_PRICE = "MarkPrice"
    INDEX_PRICE = "IndexPrice"


@dataclass(frozen=True, slots=True)
class Trigger:
    """What a conditional order waits for: `price` reached in `direction`, watching `by`."""

    price: Decimal
    direction: TriggerDirection
    by: TriggerBy


# Bybit's `cancelType` and `rejectReason` values used here.
CANCEL_BY_USER = "CancelByUser"
CANCEL_BY_REDUCE_ONLY = "CancelByReduceOnly"
CANCEL_UNKNOWN = "UNKNOWN"
REJECT_NONE = "EC_NoError"
REJECT_PER_CANCEL_REQUEST = "EC_PerCancelRequest"
REJECT_NO_IMMEDIATE_QTY = "EC_NoImmediateQtyToFill"
REJECT_NO_FULL_FILL = "EC_CancelForNoFullFill"
REJECT_POST_ONLY_WOULD_TAKE = "EC_PostOnlyWillTakeLiquidity"


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """One order as Bybit reports it. `price` is None for a market order; `trigger` is
    None for a plain (not conditional) order."""

    order_id: str
    order_link_id: str
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    price: Decimal | None
    time_in_force: TimeInForce
    reduce_only: bool
    close_on_trigger: bool
    status: OrderStatus
    created_ms: int
    updated_ms: int
    last_price_on_created: Decimal | None
    cancel_type: str = CANCEL_UNKNOWN
    reject_reason: str = REJECT_NONE
    cum_exec_qty: Decimal = ZERO
    cum_exec_value: Decimal = ZERO
    cum_exec_fee: Decimal = ZERO
    trigger: Trigger | None = None

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def is_conditional(self) -> bool:
        return self.trigger is not None

    @property
    def awaits_trigger(self) -> bool:
        """A conditional order that has not triggered and is not cancelled."""
        return self.status is OrderStatus.UNTRIGGERED

    @property
    def leaves_qty(self) -> Decimal:
        """What may still trade: nothing once the order is closed."""
        return self.qty - self.cum_exec_qty if self.is_open else ZERO

    @property
    def avg_price(self) -> Decimal | None:
        if self.cum_exec_qty == ZERO:
            return None
        return self.cum_exec_value / self.cum_exec_qty


@dataclass(frozen=True, slots=True)
class ExecutionRecord:
    """One fill of an order (`execType` Trade). `seq` counts the symbol's fills, from 1;
    `conditional` says the order was a triggered conditional order."""

    exec_id: str
    order_id: str
    order_link_id: str
    symbol: str
    side: Side
    order_type: OrderType
    order_price: Decimal | None
    order_qty: Decimal
    leaves_qty: Decimal
    exec_price: Decimal
    exec_qty: Decimal
    exec_fee: Decimal
    fee_rate: Decimal
    fee_currency: str
    is_maker: bool
    exec_time_ms: int
    mark_price: Decimal
    closed_size: Decimal
    seq: int
    conditional: bool = False

    @property
    def exec_value(self) -> Decimal:
        return self.exec_price * self.exec_qty


@dataclass(frozen=True, slots=True)
class PositionRecord:
    """The one-way position of a symbol. `size` is signed (long > 0); `seq` is that of the
    execution that last changed it (0 before any)."""

    symbol: str
    size: Decimal
    avg_price: Decimal
    mark_price: Decimal
    leverage: Decimal
    position_im: Decimal
    position_mm: Decimal
    unrealised_pnl: Decimal
    cur_realised_pnl: Decimal
    cum_realised_pnl: Decimal
    seq: int
    created_ms: int
    updated_ms: int

    @property
    def side(self) -> str:
        """Bybit's position side: Buy (long), Sell (short) or "" when flat."""
        if self.size > ZERO:
            return "Buy"
        return "Sell" if self.size < ZERO else ""

    @property
    def position_value(self) -> Decimal:
        return abs(self.size) * self.avg_price


@dataclass(frozen=True, slots=True)
class CoinRecord:
    """One coin of the unified wallet."""

    coin: str
    wallet_balance: Decimal
    equity: Decimal
    unrealised_pnl: Decimal
    cum_realised_pnl: Decimal
    total_order_im: Decimal
    total_position_im: Decimal
    total_position_mm: Decimal
    available_to_withdraw: Decimal
    usd_value: Decimal


@dataclass(frozen=True, slots=True)
class WalletRecord:
    """The unified account: its coins and the account-wide figures in USD."""

    coins: tuple[CoinRecord, ...]
    total_equity: Decimal
    total_wallet_balance: Decimal
    total_margin_balance: Decimal
    total_available_balance: Decimal
    total_perp_upl: Decimal
    total_initial_margin: Decimal
    total_maintenance_margin: Decimal

    @property
    def account_im_rate(self) -> Decimal:
        return _rate(self.total_initial_margin, self.total_margin_balance)

    @property
    def account_mm_rate(self) -> Decimal:
        return _rate(self.total_maintenance_margin, self.total_margin_balance)


StreamItem = OrderRecord | ExecutionRecord | PositionRecord | WalletRecord


def _rate(part: Decimal, whole: Decimal) -> Decimal:
    return part / whole if whole > ZERO else ZERO
