"""API schemas, kept apart from domain types: the wire format can evolve on its own.

Prices and quantities are decimals; responses send them as strings so no float ever
touches them. Requests accept JSON numbers or strings. Times are ISO 8601 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    field_validator,
)

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.values import (
    MAX_DECIMALS,
    MAX_MAGNITUDE,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    is_reasonable,
)
from ordergate.engine.commands import PlaceOrder, price_field_problem
from ordergate.engine.views import BalanceView, FillView, OrderView


def _plain(value: Decimal) -> str:
    """A given quantity or price as plain text, at the scale it was given ("1.09000")."""
    return format(value, "f")


def _amount(value: Decimal) -> str:
    """A computed amount without exponent or trailing zeros ("0E-7" -> "0")."""
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def _reasonable(value: Decimal) -> Decimal:
    if not is_reasonable(value):
        raise ValueError(f"must be below {MAX_MAGNITUDE:.0E} with at most {MAX_DECIMALS} decimals")
    return value


DecimalStr = Annotated[Decimal, PlainSerializer(_plain, return_type=str)]
AmountStr = Annotated[Decimal, PlainSerializer(_amount, return_type=str)]
Positive = Annotated[Decimal, Field(gt=0, allow_inf_nan=False), AfterValidator(_reasonable)]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso(ts_ns: int) -> datetime:
    """Nanoseconds since the epoch as a UTC datetime (to the microsecond)."""
    return _EPOCH + timedelta(microseconds=ts_ns // 1000)


_LATEST = datetime(2262, 1, 1, tzinfo=UTC)  # nanoseconds fit in 64 bits until 2262-04


def ns(moment: datetime) -> int:
    """A datetime (naive means UTC) as nanoseconds since the epoch."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not _EPOCH <= moment < _LATEST:
        raise InvalidRequest(
            f"{moment.isoformat()} is outside 1970-01-01 .. 2262-01-01", code="BAD_TIME"
        )
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
    # Declared before `price`, whose check reads it.
    price_at_offset: bool = Field(
        default=False,
        description="LIMIT without a price: priced at the configured offset from the touch",
    )
    price: Positive | None = Field(default=None, validate_default=True)
    stop_price: Positive | None = Field(default=None, validate_default=True)
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    stop_loss: Positive | None = None
    take_profit: Positive | None = None
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=128)
    strategy: str | None = Field(default=None, min_length=1, max_length=64)
    account: str | None = Field(default=None, min_length=1, max_length=64)

    @field_validator("price", "stop_price", mode="after")
    @classmethod
    def _price_fits_type(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        order_type = info.data.get("type")
        if order_type is None or info.field_name is None:
            return value  # the type itself is invalid; that error is reported already
        if info.field_name == "price" and info.data.get("price_at_offset"):
            if value is not None or order_type is not OrderType.LIMIT:
                raise ValueError("price_at_offset is for LIMIT orders sent without a price")
            return value
        problem = price_field_problem(order_type, info.field_name, value)
        if problem is not None:
            raise ValueError(problem)
        return value

    def command(
        self, default_account: str, *, trace_id: str | None = None, idempotent: bool = True
    ) -> PlaceOrder:
        """The engine's command for this order (`idempotent=False`: a preview, which
        places nothing and so takes no key)."""
        return PlaceOrder(
            account=self.account or default_account,
            symbol=self.symbol,
            side=self.side,
            qty=self.qty,
            type=self.type,
            price=self.price,
            stop_price=self.stop_price,
            time_in_force=self.time_in_force,
            reduce_only=self.reduce_only,
            stop_loss=self.stop_loss,
            take_profit=self.take_profit,
            idempotency_key=self.idempotency_key if idempotent else None,
            strategy=self.strategy,
            price_at_offset=self.price_at_offset,
            trace_id=trace_id,
        )


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
    avg_fill_price: AmountStr | None
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
    trace_id: str | None
    parent_order_id: str | None
    venue_order_id: str | None
    flags: list[str]
    created_at: datetime
    updated_at: datetime
    overfill_qty: DecimalStr = Field(
        description="filled beyond qty (the venue's overfill, flagged OVERFILL); 0 normally"
    )
    signal_id: str | None = Field(None, description="the trading signal that placed it, if any")

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
            trace_id=v.trace_id,
            parent_order_id=v.parent_order_id,
            venue_order_id=v.venue_order_id,
            flags=list(v.flags),
            created_at=iso(v.created_ts),
            updated_at=iso(v.updated_ts),
            overfill_qty=v.overfill_qty,
            signal_id=v.signal_id,
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
    fee: AmountStr
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
    avg_price: AmountStr
    mark_price: AmountStr | None
    unrealized_pnl: AmountStr | None
    realized_pnl: AmountStr
    fees: AmountStr
    currency: str
    updated_at: datetime


class CurrencyOut(BaseModel):
    currency: str
    balance: AmountStr
    unrealized_pnl: AmountStr
    equity: AmountStr
    used_margin: AmountStr
    position_margin: AmountStr
    order_margin: AmountStr
    free_margin: AmountStr


class AccountOut(BaseModel):
    account: str
    currencies: list[CurrencyOut]


class BalanceOut(BaseModel):
    currency: str
    balance: AmountStr

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
    orders: int = Field(
        description="orders held in memory: the open ones and the finished ones retention keeps"
    )
    open_orders: int
    retired_orders: int = Field(
        description="finished orders retired from memory; the journal and queries keep them"
    )
    events_since_checkpoint: int = Field(
        description="events a restart would replay after the newest checkpoint"
    )
    checkpoint_age_seconds: float | None = Field(
        description="age of the newest checkpoint this process wrote (null: none yet)"
    )
    node: str | None = Field(None, description="a cluster node: its id")
    partitions: list[int] | None = Field(
        None, description="a cluster node: the partitions it runs now (counts above are theirs)"
    )
