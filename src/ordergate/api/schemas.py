"""API schemas, kept apart from domain types: the wire format can evolve on its own.

Prices and quantities are decimals; responses send them as strings so no float ever
touches them. Requests accept JSON numbers or strings. Times are ISO 8601 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from ordergate.domain.values import OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.views import BalanceView, FillView, OrderView

DecimalStr = Annotated[Decimal, PlainSerializer(lambda d: str(d), return_type=str)]
Positive = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso(ts_ns: int) -> datetime:
    """Nanoseconds since the epoch as a UTC datetime (to the microsecond)."""
    return _EPOCH + timedelta(microseconds=ts_ns // 1000)


def ns(moment: datetime) -> int:
    """A datetime (naive means UTC) as nanoseconds since the epoch."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return ((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds) * 1000


class ErrorOut(BaseModel):
    reason_code: str
    detail: str | list[dict[str, object]]


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(min_length=1, max_length=64)
    side: Side
    qty: Positive
    type: OrderType = OrderType.MARKET
    price: Positive | None = None
    stop_price: Positive | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    stop_loss: Positive | None = None
    take_profit: Positive | None = None
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=128)
    strategy: str | None = Field(default=None, min_length=1, max_length=64)
    account: str | None = Field(default=None, min_length=1, max_length=64)


class ReplaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    qty: Positive | None = None
    price: Positive | None = None
    stop_price: Positive | None = None


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=200)


class OrderOut(BaseModel):
    id: str
    client_order_id: str
    account: str
    status: OrderStatus
    symbol: str
    side: Side
    type: OrderType
    qty: DecimalStr
    filled_qty: DecimalStr
    avg_fill_price: DecimalStr | None
    price: DecimalStr | None
    stop_price: DecimalStr | None
    time_in_force: TimeInForce
    reduce_only: bool
    stop_loss: DecimalStr | None
    take_profit: DecimalStr | None
    reason_code: str | None
    reason: str | None
    strategy: str | None
    idempotency_key: str | None
    parent_order_id: str | None
    venue_order_id: str | None
    flags: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, v: OrderView) -> OrderOut:
        return cls(
            id=v.order_id,
            client_order_id=v.client_order_id,
            account=v.account,
            status=v.status,
            symbol=v.symbol,
            side=v.side,
            type=v.type,
            qty=v.qty,
            filled_qty=v.filled_qty,
            avg_fill_price=v.avg_fill_price,
            price=v.price,
            stop_price=v.stop_price,
            time_in_force=v.time_in_force,
            reduce_only=v.reduce_only,
            stop_loss=v.stop_loss,
            take_profit=v.take_profit,
            reason_code=v.reason_code,
            reason=v.reason,
            strategy=v.strategy,
            idempotency_key=v.idempotency_key,
            parent_order_id=v.parent_order_id,
            venue_order_id=v.venue_order_id,
            flags=list(v.flags),
            created_at=iso(v.created_ts),
            updated_at=iso(v.updated_ts),
        )


class OrderPage(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None


class FillOut(BaseModel):
    trade_id: str
    order_id: str
    account: str
    symbol: str
    side: Side
    qty: DecimalStr
    price: DecimalStr
    fee: DecimalStr
    fee_currency: str
    liquidity: str
    ts: datetime

    @classmethod
    def of(cls, f: FillView) -> FillOut:
        return cls(
            trade_id=f.trade_id,
            order_id=f.order_id,
            account=f.account,
            symbol=f.symbol,
            side=f.side,
            qty=f.qty,
            price=f.price,
            fee=f.fee,
            fee_currency=f.fee_currency,
            liquidity=f.liquidity.value,
            ts=iso(f.ts),
        )


class FillPage(BaseModel):
    items: list[FillOut]
    next_cursor: str | None


class PositionOut(BaseModel):
    account: str
    symbol: str
    side: str
    qty: DecimalStr
    avg_price: DecimalStr
    mark_price: DecimalStr | None
    unrealized_pnl: DecimalStr | None
    realized_pnl: DecimalStr
    fees: DecimalStr
    currency: str
    updated_at: datetime


class CurrencyOut(BaseModel):
    currency: str
    balance: DecimalStr
    unrealized_pnl: DecimalStr
    equity: DecimalStr
    used_margin: DecimalStr
    position_margin: DecimalStr
    order_margin: DecimalStr
    free_margin: DecimalStr


class AccountOut(BaseModel):
    account: str
    currencies: list[CurrencyOut]


class BalanceOut(BaseModel):
    currency: str
    balance: DecimalStr

    @classmethod
    def of(cls, b: BalanceView) -> BalanceOut:
        return cls(currency=b.currency, balance=b.balance)


class ClosePositionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: str | None = Field(default=None, min_length=1, max_length=64)
    qty: Positive | None = None
    strategy: str | None = Field(default=None, min_length=1, max_length=64)


class CloseAllIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: str | None = Field(default=None, min_length=1, max_length=64)
    reason: str | None = Field(default=None, max_length=200)


class CloseAllOut(BaseModel):
    canceled: list[OrderOut]
    closing: list[OrderOut]


class HealthOut(BaseModel):
    status: str
    engine_running: bool
    venue: str
    market_time: datetime | None
    journal_events: int
    orders: int
    open_orders: int
