"""API schemas, kept apart from domain types: the wire format can evolve on its own.

Prices and quantities are decimals; responses send them as strings so no float ever
touches them. Requests accept JSON numbers or strings. Times are ISO 8601 UTC.

Each rule a request must meet is written once, as a constraint that pydantic enforces and
the OpenAPI document states with the same pattern (`Positive`, `Name`, `Key`, `Text`): a
request the document calls valid is never refused as malformed. Names (accounts, symbols,
strategies, idempotency keys) are printable ASCII, no edge spaces; free text holds no
control character (the edge refuses them anywhere in a request). See
docs/decisions/0021-openapi-tells-the-truth.md.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from ordergate.api.reason_codes import REASON_CODES
from ordergate.domain.values import (
    MAX_DECIMALS,
    MAX_DIGITS_BEFORE_POINT,
    MAX_MAGNITUDE,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    is_reasonable,
)
from ordergate.engine.commands import (
    MAX_ID_LENGTH,
    MAX_NAME_LENGTH,
    PlaceOrder,
    price_field_problem,
)
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


def _positive_decimal_pattern() -> str:
    """A decimal above 0 and below 1e15 with at most 12 decimals, as plain digits."""
    whole = f"0*[1-9][0-9]{{0,{MAX_DIGITS_BEFORE_POINT - 1}}}(?:\\.[0-9]{{1,{MAX_DECIMALS}}})?"
    # below 1: the first non-zero digit at each of the 12 places, then what fits after it
    places = [f"{'0' * k}[1-9][0-9]{{0,{MAX_DECIMALS - 1 - k}}}" for k in range(MAX_DECIMALS)]
    return f"^(?:{whole}|0+\\.(?:{'|'.join(places)}))$"


POSITIVE_DECIMAL_PATTERN: Final = _positive_decimal_pattern()
_POSITIVE_DECIMAL = re.compile(POSITIVE_DECIMAL_PATTERN)
POSITIVE_DECIMAL_SCHEMA: Final[dict[str, Any]] = {
    "anyOf": [
        {
            "type": "number",
            "exclusiveMinimum": 0,
            "exclusiveMaximum": int(MAX_MAGNITUDE),
            "multipleOf": float(Decimal(1).scaleb(-MAX_DECIMALS)),
        },
        {"type": "string", "pattern": POSITIVE_DECIMAL_PATTERN},
    ],
    "description": f"above 0, below 1E{MAX_DIGITS_BEFORE_POINT}, at most {MAX_DECIMALS} "
    "decimals: a JSON number, or a string of plain digits (`0.25`, no exponent or sign)",
}


def _decimal_text(value: object) -> object:
    if isinstance(value, str) and not _POSITIVE_DECIMAL.fullmatch(value):
        raise ValueError(
            f"a decimal string is plain digits above 0 and below 1E{MAX_DIGITS_BEFORE_POINT}, "
            f"with at most {MAX_DECIMALS} decimals"
        )
    return value


DecimalStr = Annotated[Decimal, PlainSerializer(_plain, return_type=str)]
AmountStr = Annotated[Decimal, PlainSerializer(_amount, return_type=str)]
Positive = Annotated[
    Decimal,
    BeforeValidator(_decimal_text),
    Field(gt=0, allow_inf_nan=False),
    AfterValidator(_reasonable),
    WithJsonSchema(POSITIVE_DECIMAL_SCHEMA, mode="validation"),
]
"""A quantity or price in a request: the same rule for JSON numbers and strings."""

NAME_BODY: Final = "[!-~](?:[ -~]*[!-~])?"
NAME_PATTERN: Final = f"^{NAME_BODY}$"
"""Printable ASCII without edge spaces: what the engine's names are, stated as a pattern
(the engine also takes other printable Unicode, which no portable pattern can state)."""
TEXT_PATTERN: Final = "^[^\\x00-\\x1f\\x7f]*$"
"""No control character: what the edge lets through in any string of a request."""

Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH, pattern=NAME_PATTERN)]
"""An account, symbol or strategy."""
Key = Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH, pattern=NAME_PATTERN)]
"""An idempotency key."""


def text(max_length: int) -> Any:
    """Free text of at most `max_length` characters (`Field` options)."""
    return Field(max_length=max_length, pattern=TEXT_PATTERN)


def _naive_time_pattern() -> str:
    """A date and time without an offset, as ISO 8601 writes it, valid on the calendar
    (the 29th of February left out: a pattern cannot tell leap years)."""
    year = "(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
    day = "(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)"
    day += "|(?:0[13578]|1[02])-31)"
    clock = "(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:[.][0-9]{1,6})?"
    return f"^{year}-{day}[Tt]{clock}$"


NAIVE_TIME_PATTERN: Final = _naive_time_pattern()
_NAIVE_TIME: Final = re.compile(NAIVE_TIME_PATTERN)
_TIME_WITH_OFFSET: Final = re.compile(
    "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:[.][0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _time_text(value: object) -> object:
    if isinstance(value, str) and not (
        _TIME_WITH_OFFSET.fullmatch(value) or _NAIVE_TIME.fullmatch(value)
    ):
        raise ValueError("a time is an RFC 3339 date-time; without an offset, it is UTC")
    return value


TimeBound = Annotated[
    datetime,
    BeforeValidator(_time_text),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "string", "pattern": NAIVE_TIME_PATTERN},
            ],
            "description": "an RFC 3339 date-time; without an offset, UTC",
        }
    ),
]
"""A query's time bound: RFC 3339, or the same without an offset (UTC); not a number."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso(ts_ns: int) -> datetime:
    """Nanoseconds since the epoch as a UTC datetime (to the microsecond)."""
    return _EPOCH + timedelta(microseconds=ts_ns // 1000)


_LATEST = datetime(2262, 1, 1, tzinfo=UTC)  # nanoseconds fit in 64 bits until 2262-04


def ns(moment: datetime) -> int:
    """A query's time bound (naive means UTC) as nanoseconds since the epoch.

    A bound outside what the journal holds (1970-01-01 .. 2262-01-01) is moved to that
    edge, which selects the same rows: nothing was journaled before 1970 or after 2262.
    So every date-time the OpenAPI document allows is answered.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = min(max(moment, _EPOCH), _LATEST)
    delta = moment - _EPOCH
    return ((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds) * 1000


class ValidationProblem(BaseModel):
    """One problem FastAPI found validating a request (pydantic's error, as JSON)."""

    type: str
    loc: list[str | int]
    msg: str
    input: Any = None
    ctx: dict[str, Any] | None = None


class ErrorOut(BaseModel):
    """Every answer that is not a success: a reason code, and what went wrong (text, or
    the list of problems of a request that failed validation: `VALIDATION_ERROR`)."""

    reason_code: Annotated[str, Field(json_schema_extra={"enum": list(REASON_CODES)})]
    detail: str | list[ValidationProblem]


_NULL: Final[dict[str, Any]] = {"type": "null"}


def price_rules(
    types: Mapping[str, OrderType], *, default: str, offset: bool, stop_price: bool = True
) -> dict[str, Any]:
    """The JSON schema of the engine's price rule (`price_field_problem`): each order type
    (`types`: by the name the request gives it) with the prices it needs and no other,
    one of them; with `offset`, LIMIT may instead come without a price and
    `price_at_offset` true. `type` names the order type, `default` when absent."""
    variants: list[dict[str, Any]] = []
    for name, order_type in types.items():
        needs = {"price": order_type.needs_price}
        if stop_price:
            needs["stop_price"] = order_type.needs_stop_price
        properties: dict[str, Any] = {"type": {"const": name}}
        for field, need in needs.items():
            properties[field] = copy.deepcopy(POSITIVE_DECIMAL_SCHEMA if need else _NULL)
        required = [] if name == default else ["type"]
        required += [field for field, need in needs.items() if need]
        if offset:
            properties["price_at_offset"] = {"const": False}
        variants.append({"properties": properties, "required": required})
    if offset:
        variants.append(
            {
                "properties": {
                    "type": {"const": OrderType.LIMIT.value},
                    "price": _NULL,
                    "stop_price": _NULL,
                    "price_at_offset": {"const": True},
                },
                "required": ["type", "price_at_offset"],
            }
        )
    return {"oneOf": variants}


def _order_rules(schema: dict[str, Any]) -> None:
    reduce_only_rule = {
        "anyOf": [
            {"properties": {"reduce_only": {"const": False}}},
            {"properties": {"stop_loss": _NULL, "take_profit": _NULL}},
        ]
    }
    schema["allOf"] = [
        price_rules({t.value: t for t in OrderType}, default=OrderType.MARKET, offset=True),
        reduce_only_rule,
    ]


class OrderIn(BaseModel):
    """An order. The engine's rules between fields are stated in `allOf`: the prices each
    type needs (and no others), and no stop-loss or take-profit on a reduce-only order."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_order_rules)

    symbol: Name
    side: Side
    qty: Positive
    type: OrderType = OrderType.MARKET
    # Declared before `price`, whose check reads it.
    price_at_offset: bool = Field(
        strict=True,
        default=False,
        description="LIMIT without a price: priced at the configured offset from the touch",
    )
    price: Positive | None = Field(default=None, validate_default=True)
    stop_price: Positive | None = Field(default=None, validate_default=True)
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = Field(default=False, strict=True)
    stop_loss: Positive | None = None
    take_profit: Positive | None = None
    idempotency_key: Key | None = None
    strategy: Name | None = None
    account: Name | None = None

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


def _replace_rules(schema: dict[str, Any]) -> None:
    schema["anyOf"] = [
        {"properties": {name: copy.deepcopy(POSITIVE_DECIMAL_SCHEMA)}, "required": [name]}
        for name in ("qty", "price", "stop_price")
    ]


class ReplaceIn(BaseModel):
    """At least one of `qty`, `price`, `stop_price`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_replace_rules)

    qty: Positive | None = None
    price: Positive | None = None
    stop_price: Positive | None = None


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, text(200)] | None = None


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

    account: Name | None = None
    qty: Positive | None = None
    strategy: Name | None = None


class CloseAllIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: Name | None = None
    reason: Annotated[str, text(200)] | None = None


class CloseAllOut(BaseModel):
    canceled: list[OrderOut]
    closing: list[OrderOut]


class DependencyOut(BaseModel):
    name: str = Field(description="journal, broker or venue")
    state: Literal["up", "down"]
    latency_ms: float = Field(description="how long the probe took")
    reason: str | None = Field(None, description="why it is down")


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
    dependencies: list[DependencyOut] = Field(
        default_factory=list, description="each dependency probed now: state and latency"
    )
