"""Immutable snapshots of state, taken at commit: what readers and read models see.

The engine mutates domain objects inside a batch; nobody outside it sees them until the
batch is journaled. At commit it snapshots what the batch touched into these views, which
go to the read models (same transaction) and to callers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import msgspec

from ordergate.domain.accounts import Account
from ordergate.domain.events import OrderFilled, OrderSnapshot, SignalReceived
from ordergate.domain.orders import Order
from ordergate.domain.positions import Position
from ordergate.domain.values import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce


class OrderView(msgspec.Struct, frozen=True, gc=False):
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
    parent_order_id: str | None
    trace_id: str | None
    status: OrderStatus
    filled_qty: Decimal
    overfill_qty: Decimal
    avg_fill_price: Decimal | None
    venue_order_id: str | None
    reason_code: str | None
    reason: str | None
    flags: tuple[str, ...]
    created_ts: int
    updated_ts: int
    signal_id: str | None = None

    @classmethod
    def of(cls, order: Order) -> OrderView:
        return cls(
            order.order_id,
            order.client_order_id,
            order.account,
            order.symbol,
            order.side,
            order.type,
            order.qty,
            order.price,
            order.stop_price,
            order.time_in_force,
            order.reduce_only,
            order.stop_loss,
            order.take_profit,
            order.strategy,
            order.idempotency_key,
            order.parent_order_id,
            order.trace_id,
            order.status,
            order.filled_qty,
            order.overfill_qty,
            order.avg_fill_price,
            order.venue_order_id,
            order.reason_code,
            order.reason,
            tuple(sorted(order.flags)),
            order.created_ts,
            order.updated_ts,
            order.signal_id,
        )


class FillView(msgspec.Struct, frozen=True, gc=False):
    trade_id: str
    order_id: str
    account: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    fee: Decimal
    fee_currency: str
    liquidity: LiquiditySide
    ts: int

    @classmethod
    def of(cls, fill: OrderFilled) -> FillView:
        return cls(
            fill.trade_id,
            fill.order_id,
            fill.account,
            fill.symbol,
            fill.side,
            fill.qty,
            fill.price,
            fill.fee,
            fill.fee_currency,
            fill.liquidity,
            fill.ts,
        )


class PositionView(msgspec.Struct, frozen=True, gc=False):
    account: str
    symbol: str
    qty: Decimal
    avg_price: Decimal
    realized_pnl: Decimal
    fees: Decimal
    updated_ts: int

    @classmethod
    def of(cls, position: Position) -> PositionView:
        return cls(
            position.account,
            position.symbol,
            position.qty,
            position.avg_price,
            position.realized_pnl,
            position.fees,
            position.updated_ts,
        )


class BalanceView(msgspec.Struct, frozen=True, gc=False):
    account: str
    currency: str
    balance: Decimal
    updated_ts: int

    @classmethod
    def all_of(cls, account: Account) -> list[BalanceView]:
        return [
            cls(account.account_id, ccy, amount, account.updated_ts)
            for ccy, amount in sorted(account.balances.items())
        ]


@dataclass(slots=True)
class ReadModelChanges:
    """Rows a batch changes; written by the journal in the same transaction as its events."""

    orders: list[OrderView] = field(default_factory=list)
    fills: list[FillView] = field(default_factory=list)
    positions: list[PositionView] = field(default_factory=list)
    balances: list[BalanceView] = field(default_factory=list)
    # Orders retired from the engine's hot state, as they were: kept for recall.
    retired: list[OrderSnapshot] = field(default_factory=list)
    # Trading signals retired with their last order: kept to answer a redelivered one.
    retired_signals: list[SignalReceived] = field(default_factory=list)
