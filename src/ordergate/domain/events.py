"""The event vocabulary: everything that ever happens to ordergate's state.

Events are facts, journaled before their effects leave the process; state is the fold of
them. Each is a frozen, slotted dataclass with a `VERSION`: a change to a payload's shape
gets a new version and an upcaster in the codec, never an edit of an old one. Times are
integer nanoseconds since the epoch, read from the `Clock` port by the engine.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar, get_args

import msgspec

from ordergate.domain.instruments import Instrument
from ordergate.domain.values import (
    DirtyCause,
    LiquiditySide,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TradingState,
)


class JournalOpened(msgspec.Struct, frozen=True, gc=False):
    """The journal's identity, drawn once when it is first used and kept for good.

    Order numbers restart in a new journal (a fresh file, `:memory:`, a lost one), so
    client order ids derived from them alone would repeat at a venue that still knows
    the old orders; the journal id keeps them apart.
    """

    VERSION: ClassVar[int] = 1
    journal_id: str
    ts: int
    # live, shadow or dry-run: a journal keeps the mode it was made in (journals written
    # before modes existed were live).
    mode: str = "live"


class InstrumentUpdated(msgspec.Struct, frozen=True, gc=False):
    """An instrument's specification as of `ts`.

    Journaled so that replay needs nothing but the journal: PnL and margin depend on the
    contract size and margin rate that were in force when each fill happened.
    """

    VERSION: ClassVar[int] = 1
    instrument: Instrument
    ts: int


class BalanceAdjusted(msgspec.Struct, frozen=True, gc=False):
    """Cash moved into or out of an account outside trading (deposit, withdrawal, funding)."""

    VERSION: ClassVar[int] = 1
    account: str
    currency: str
    amount: Decimal
    reason: str
    ts: int


class OrderInitialized(msgspec.Struct, frozen=True, gc=False):
    """An intent became an order (state NEW); pre-trade risk has not run yet."""

    VERSION: ClassVar[int] = 1
    order_id: str
    client_order_id: str
    account: str
    symbol: str
    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    time_in_force: TimeInForce
    reduce_only: bool
    stop_loss: Decimal | None
    take_profit: Decimal | None
    strategy: str | None
    idempotency_key: str | None
    request_hash: str | None
    parent_order_id: str | None
    trace_id: str | None
    ts: int
    # Adopted from the venue by reconciliation rather than placed through ordergate.
    external: bool = False
    # A LIMIT order whose price ordergate set from the configured offset (seed 003).
    priced_by_offset: bool = False
    # The trading signal the order was placed for (seed 002), if any.
    signal_id: str | None = None


class OrderDenied(msgspec.Struct, frozen=True, gc=False):
    VERSION: ClassVar[int] = 1
    order_id: str
    reason_code: str
    reason: str
    ts: int


class OrderApproved(msgspec.Struct, frozen=True, gc=False):
    """Pre-trade risk passed; the order is about to be sent (PENDING_SUBMIT).

    `reference_price` is the price risk sized the order at (its limit or stop price, or
    the market price then); open orders reserve margin at it.
    """

    VERSION: ClassVar[int] = 1
    order_id: str
    reference_price: Decimal
    ts: int


class OrderPlanned(msgspec.Struct, frozen=True, gc=False):
    """Dry run: pre-trade risk passed and the order would now be sent, but nothing is.

    The order ends PLANNED: `reference_price` is the price risk sized it at. A denied
    order in a dry run ends DENIED as it would live; either way the journal holds the
    decision and its verdict.
    """

    VERSION: ClassVar[int] = 1
    order_id: str
    reference_price: Decimal
    ts: int


class OrderSubmitted(msgspec.Struct, frozen=True, gc=False):
    """The venue took the request (its transport answered) but has not confirmed it working."""

    VERSION: ClassVar[int] = 1
    order_id: str
    venue_order_id: str | None
    ts: int


class OrderAccepted(msgspec.Struct, frozen=True, gc=False):
    VERSION: ClassVar[int] = 1
    order_id: str
    venue_order_id: str | None
    ts: int


class OrderRejected(msgspec.Struct, frozen=True, gc=False):
    VERSION: ClassVar[int] = 1
    order_id: str
    reason_code: str
    reason: str
    ts: int


class OrderFilled(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    """An execution. Account, symbol and side are repeated so a fill stands on its own.

    `settlement_date`: the day it settles (ISO 8601), where the venue says (a stock
    broker's T+1); None elsewhere, and then not written (`omit_defaults`), so a fill
    without one is encoded as before the field existed."""

    VERSION: ClassVar[int] = 1
    order_id: str
    account: str
    symbol: str
    side: Side
    trade_id: str
    qty: Decimal
    price: Decimal
    fee: Decimal
    fee_currency: str
    liquidity: LiquiditySide
    ts: int
    settlement_date: str | None = None


class OrderCancelRequested(msgspec.Struct, frozen=True, gc=False):
    VERSION: ClassVar[int] = 1
    order_id: str
    reason: str | None
    ts: int


class OrderCanceled(msgspec.Struct, frozen=True, gc=False):
    VERSION: ClassVar[int] = 1
    order_id: str
    reason_code: str | None
    reason: str | None
    ts: int
    # What the venue says had filled by then; more than ordergate has seen means fills
    # are still on their way, and their room stays held in the position limits.
    venue_filled_qty: Decimal | None = None


class OrderCancelRejected(msgspec.Struct, frozen=True, gc=False):
    VERSION: ClassVar[int] = 1
    order_id: str
    reason_code: str
    reason: str
    ts: int


class OrderReplaceRequested(msgspec.Struct, frozen=True, gc=False):
    VERSION: ClassVar[int] = 1
    order_id: str
    qty: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    ts: int


class OrderReplaced(msgspec.Struct, frozen=True, gc=False):
    VERSION: ClassVar[int] = 1
    order_id: str
    qty: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    ts: int


class OrderReplaceRejected(msgspec.Struct, frozen=True, gc=False):
    VERSION: ClassVar[int] = 1
    order_id: str
    reason_code: str
    reason: str
    ts: int


class OrderExpired(msgspec.Struct, frozen=True, gc=False):
    VERSION: ClassVar[int] = 1
    order_id: str
    reason_code: str | None
    ts: int
    venue_filled_qty: Decimal | None = None


class OrderStatusUnknown(msgspec.Struct, frozen=True, gc=False):
    """A request's outcome is ambiguous (timeout, lost connection, crash before the answer)."""

    VERSION: ClassVar[int] = 1
    order_id: str
    reason: str
    ts: int


class OrderSnapshot(msgspec.Struct, frozen=True, gc=False):
    """An order's whole state, as `Order` holds it: what a retired order is kept as, and
    what brings it back (`RetiredOrderRecalled`). `children` are the bracket orders it spawned."""

    order_id: str
    client_order_id: str
    account: str
    symbol: str
    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    time_in_force: TimeInForce
    reduce_only: bool
    stop_loss: Decimal | None
    take_profit: Decimal | None
    strategy: str | None
    idempotency_key: str | None
    request_hash: str | None
    parent_order_id: str | None
    trace_id: str | None
    external: bool
    priced_by_offset: bool
    signal_id: str | None
    status: OrderStatus
    filled_qty: Decimal
    overfill_qty: Decimal
    avg_fill_price: Decimal | None
    venue_order_id: str | None
    venue_acknowledged: bool
    cancel_requested: bool
    awaited_fill_qty: Decimal
    reason_code: str | None
    reason: str | None
    reference_price: Decimal | None
    pending_replace: OrderReplaceRequested | None
    flags: tuple[str, ...]
    trade_ids: tuple[str, ...]
    created_ts: int
    updated_ts: int
    children: tuple[str, ...] = ()


class FinishedOrdersRetired(msgspec.Struct, frozen=True, gc=False):
    """Finished orders leave the engine's hot state (retention: `engine.retention`).

    Nothing about them is forgotten: their events stay in the journal, their rows in the
    read models, and their final state in the retired-orders store, from which
    `RetiredOrderRecalled` brings one back when the venue or a client names it again. Journaled,
    so that replay retires exactly what the engine retired and the state stays the fold.
    """

    VERSION: ClassVar[int] = 1
    order_ids: tuple[str, ...]
    ts: int
    # Trading signals that leave with the last of their orders (or that placed none): a
    # redelivered one is answered from the retired-signals store, its id still known.
    signal_ids: tuple[str, ...] = ()


class RetiredOrderRecalled(msgspec.Struct, frozen=True, gc=False):
    """A retired order back in the hot state, as it was retired: a late fill, a duplicate
    execution or a cancel ack for it, an old idempotency key, or reconciliation named it.
    It carries the whole order, so replay needs nothing but the journal."""

    VERSION: ClassVar[int] = 1
    order: OrderSnapshot
    ts: int


class TradingStateChanged(msgspec.Struct, frozen=True, gc=False):
    """A trading state set for an account, an instrument, or both (None: every one)."""

    VERSION: ClassVar[int] = 1
    account: str | None
    symbol: str | None
    state: TradingState
    reason: str
    actor: str
    ts: int


class InstrumentMarkedDirty(msgspec.Struct, frozen=True, gc=False):
    """A position is in doubt: only cancels and reduce-only orders pass until it clears."""

    VERSION: ClassVar[int] = 1
    account: str | None
    symbol: str | None
    cause: DirtyCause
    detail: str
    ts: int


class InstrumentCleared(msgspec.Struct, frozen=True, gc=False):
    """Reconciliation agreed with the venue (or an operator cleared it)."""

    VERSION: ClassVar[int] = 1
    account: str | None
    symbol: str | None
    reason: str
    ts: int


class TradingArmed(msgspec.Struct, frozen=True, gc=False):
    """An operator confirmed live trading for an account on a venue."""

    VERSION: ClassVar[int] = 1
    account: str
    venue: str
    actor: str
    ts: int


class AlertRaised(msgspec.Struct, frozen=True, gc=False):
    """Something an operator should know: an unrealized-loss warning, a reconciliation diff."""

    VERSION: ClassVar[int] = 1
    kind: str
    account: str | None
    symbol: str | None
    detail: str
    ts: int


class PositionLine(msgspec.Struct, frozen=True, gc=False):
    """One position in a snapshot; `mark` and `unrealized_pnl` are None without a quote."""

    symbol: str
    qty: Decimal
    avg_price: Decimal
    realized_pnl: Decimal
    mark: Decimal | None
    unrealized_pnl: Decimal | None


class PositionsSnapshotted(msgspec.Struct, frozen=True, gc=False):
    """Every open position of an account at one moment, taken every
    `position_snapshot_interval` (seed 002's periodic position snapshots): a record of
    what was held and at what mark, for history and consumers; it changes no state."""

    VERSION: ClassVar[int] = 1
    account: str
    positions: tuple[PositionLine, ...]
    ts: int


class OperatorActed(msgspec.Struct, frozen=True, gc=False):
    """An operator's action that is not a state of its own (close-all): who, what, why."""

    VERSION: ClassVar[int] = 1
    account: str | None
    action: str
    actor: str
    detail: str
    ts: int


class PlannedOrder(msgspec.Struct, frozen=True, gc=False):
    """An order a dry-run signal would have placed, and every reason risk would deny it."""

    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None
    price_at_offset: bool
    idempotency_key: str
    denials: tuple[str, ...]


class SignalReceived(msgspec.Struct, frozen=True, gc=False):
    """A trading signal (seed 002) and what ordergate decided for it, journaled in the
    batch that places its orders: its id is the idempotency key, so a redelivered signal
    is answered from this record and places nothing.

    `reason_code` says why a valid signal made no orders; `order_type`, `pricing`,
    `reference_price`, `spread_pct` and `parts` are the inputs of the decision. A dry-run
    signal's orders are `planned`, never placed.
    """

    VERSION: ClassVar[int] = 1
    signal_id: str
    fingerprint: str
    account: str
    symbol: str
    strategy: str
    side: Side
    confidence: Decimal
    qty: Decimal | None
    notional: Decimal | None
    price_hint: Decimal | None
    trace_id: str | None
    signal_ts: int
    dry_run: bool
    reason_code: str | None
    detail: str
    order_type: OrderType | None
    pricing: str | None
    reference_price: Decimal | None
    spread_pct: Decimal | None
    parts: int
    canceled_order_ids: tuple[str, ...]
    planned: tuple[PlannedOrder, ...]
    ts: int


class TargetStep(msgspec.Struct, frozen=True, gc=False):
    """What a target set decided for one symbol, from the figures it saw.

    `working_buy` and `working_sell` are the remainders of every open order of the
    account in the symbol (any strategy) before the step: with the position, the worst
    case the step is sized against. `order_id` names the order placed toward the target
    (None: none was needed or allowed); `reason_code` and `detail` say why none was
    placed, or why it was denied. `canceled` and `reduced` (order id, new quantity) are
    the strategy's own orders that no longer fitted. `remainder` is the part of the gap
    below the instrument's step or minimum quantity, left unordered.
    """

    symbol: str
    target: Decimal
    position: Decimal
    working_buy: Decimal
    working_sell: Decimal
    order_id: str | None
    side: Side | None
    qty: Decimal
    remainder: Decimal
    canceled: tuple[str, ...]
    reduced: tuple[tuple[str, Decimal], ...]
    reason_code: str | None
    detail: str


class TargetsSet(msgspec.Struct, frozen=True, gc=False):
    """A strategy's target positions for an account, and the steps taken toward them.

    Journaled after the orders its steps placed, in the same batch. `set_id` is the
    idempotency key (or one ordergate made up): the same set sent again is answered from
    this record and places nothing.
    """

    VERSION: ClassVar[int] = 1
    set_id: str
    fingerprint: str
    account: str
    strategy: str
    order_type: OrderType
    steps: tuple[TargetStep, ...]
    trace_id: str | None
    ts: int


class ReconciliationRecorded(msgspec.Struct, frozen=True, gc=False):
    """What one reconciliation of an account found, as plain lines (empty: it agreed)."""

    VERSION: ClassVar[int] = 1
    account: str
    scope: str
    diffs: tuple[str, ...]
    ts: int


OrderEvent = (
    OrderInitialized
    | OrderDenied
    | OrderApproved
    | OrderPlanned
    | OrderSubmitted
    | OrderAccepted
    | OrderRejected
    | OrderFilled
    | OrderCancelRequested
    | OrderCanceled
    | OrderCancelRejected
    | OrderReplaceRequested
    | OrderReplaced
    | OrderReplaceRejected
    | OrderExpired
    | OrderStatusUnknown
)
ControlEvent = (
    TradingStateChanged
    | InstrumentMarkedDirty
    | InstrumentCleared
    | TradingArmed
    | AlertRaised
    | OperatorActed
    | ReconciliationRecorded
    | PositionsSnapshotted
)
# Retention: orders leaving the hot state and coming back (not about one order's life).
RetentionEvent = FinishedOrdersRetired | RetiredOrderRecalled
Event = (
    JournalOpened
    | InstrumentUpdated
    | BalanceAdjusted
    | SignalReceived
    | TargetsSet
    | RetentionEvent
    | ControlEvent
    | OrderEvent
)

# Every event about one order's life (its creation included), and every control event:
# for a set lookup by type where `isinstance` over the union would try each member in
# turn (about 0.5 µs for a miss over the eight control types: on the hot path, per event).
ORDER_EVENT_TYPES: frozenset[type] = frozenset(get_args(OrderEvent))
CONTROL_EVENT_TYPES: frozenset[type] = frozenset(get_args(ControlEvent))

EVENT_TYPES: tuple[type[Event], ...] = (
    JournalOpened,
    InstrumentUpdated,
    BalanceAdjusted,
    SignalReceived,
    OrderInitialized,
    OrderDenied,
    OrderApproved,
    OrderPlanned,
    OrderSubmitted,
    OrderAccepted,
    OrderRejected,
    OrderFilled,
    OrderCancelRequested,
    OrderCanceled,
    OrderCancelRejected,
    OrderReplaceRequested,
    OrderReplaced,
    OrderReplaceRejected,
    OrderExpired,
    OrderStatusUnknown,
    TradingStateChanged,
    InstrumentMarkedDirty,
    InstrumentCleared,
    TradingArmed,
    AlertRaised,
    OperatorActed,
    ReconciliationRecorded,
    PositionsSnapshotted,
    FinishedOrdersRetired,
    RetiredOrderRecalled,
    TargetsSet,
)


def stream_of(event: Event) -> str:
    """Name the stream an event belongs to (one per order, one per account)."""
    if type(event) in ORDER_EVENT_TYPES:  # nearly every event: one set lookup
        return f"order:{event.order_id}"  # type: ignore[union-attr]
    if isinstance(event, JournalOpened):
        return "journal"
    if isinstance(event, InstrumentUpdated):
        return f"instrument:{event.instrument.symbol}"
    if isinstance(event, BalanceAdjusted | SignalReceived | TargetsSet):
        return f"account:{event.account}"
    if isinstance(event, ControlEvent):
        return f"control:{event.account or '*'}"
    if isinstance(event, FinishedOrdersRetired):
        return "retention"
    if isinstance(event, RetiredOrderRecalled):
        return f"order:{event.order.order_id}"
    return f"order:{event.order_id}"
