"""API schemas of target positions (`/v1/targets`): signed quantities, one per symbol.

A target may be zero or negative (flat, short), so its quantity is not `Positive`; the
rule is written once, as the pattern pydantic checks and the OpenAPI document states.
Symbols are the object's keys: JSON cannot repeat one (the edge refuses a repeated key).
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
)

from ordergate.api.schemas import (
    NAME_PATTERN,
    POSITIVE_DECIMAL_PATTERN,
    AmountStr,
    DecimalStr,
    Name,
    OrderOut,
    iso,
)
from ordergate.domain.values import (
    MAX_DECIMALS,
    MAX_DIGITS_BEFORE_POINT,
    MAX_MAGNITUDE,
    OrderStatus,
    OrderType,
    Side,
    is_reasonable,
)
from ordergate.engine.commands import MAX_NAME_LENGTH, MAX_TARGET_KEY_LENGTH, SetTargets
from ordergate.engine.results import TargetsResult
from ordergate.engine.target_views import TargetView

MAX_TARGETS: Final = 100

# Zero (any number of zeros, decimals too), or a positive decimal, with an optional sign.
SIGNED_DECIMAL_PATTERN: Final = (
    f"^-?(?:0+(?:\\.0{{1,{MAX_DECIMALS}}})?|{POSITIVE_DECIMAL_PATTERN[4:-2]})$"
)
_SIGNED_DECIMAL = re.compile(SIGNED_DECIMAL_PATTERN)
SIGNED_DECIMAL_SCHEMA: Final[dict[str, Any]] = {
    "anyOf": [
        {
            "type": "number",
            "exclusiveMinimum": -int(MAX_MAGNITUDE),
            "exclusiveMaximum": int(MAX_MAGNITUDE),
            "multipleOf": float(Decimal(1).scaleb(-MAX_DECIMALS)),
        },
        {"type": "string", "pattern": SIGNED_DECIMAL_PATTERN},
    ],
    "description": f"a signed quantity: above -1E{MAX_DIGITS_BEFORE_POINT} and below "
    f"1E{MAX_DIGITS_BEFORE_POINT}, at most {MAX_DECIMALS} decimals; a JSON number or a "
    "string of plain digits with an optional minus (`-0.25`)",
}


def _signed_text(value: object) -> object:
    if isinstance(value, str) and not _SIGNED_DECIMAL.fullmatch(value):
        raise ValueError(
            "a signed decimal string is plain digits with an optional minus, below "
            f"1E{MAX_DIGITS_BEFORE_POINT} in size, with at most {MAX_DECIMALS} decimals"
        )
    return value


def _reasonable(value: Decimal) -> Decimal:
    if not is_reasonable(abs(value)):
        raise ValueError(f"must be below {MAX_MAGNITUDE:.0E} with at most {MAX_DECIMALS} decimals")
    return value


Signed = Annotated[
    Decimal,
    BeforeValidator(_signed_text),
    Field(allow_inf_nan=False),
    AfterValidator(_reasonable),
    WithJsonSchema(SIGNED_DECIMAL_SCHEMA, mode="validation"),
]
TARGETS_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "minProperties": 1,
    "maxProperties": MAX_TARGETS,
    "propertyNames": {"minLength": 1, "maxLength": MAX_NAME_LENGTH, "pattern": NAME_PATTERN},
    "additionalProperties": SIGNED_DECIMAL_SCHEMA,
    "description": "symbol -> target position (negative: short; 0: flat)",
}
SetKey = Annotated[str, Field(min_length=1, max_length=MAX_TARGET_KEY_LENGTH, pattern=NAME_PATTERN)]


class TargetsIn(BaseModel):
    """Target positions for one strategy of an account."""

    model_config = ConfigDict(extra="forbid")

    targets: Annotated[
        dict[Name, Signed],
        Field(min_length=1, max_length=MAX_TARGETS),
        WithJsonSchema(TARGETS_SCHEMA, mode="validation"),
    ]
    strategy: Name
    account: Name | None = None
    idempotency_key: SetKey | None = Field(
        default=None, description="the same key sent again places nothing"
    )
    order_type: Literal["MARKET", "LIMIT"] = Field(
        default="MARKET", description="LIMIT orders are priced at the configured offset"
    )

    def command(self, default_account: str, trace_id: str | None) -> SetTargets:
        return SetTargets(
            account=self.account or default_account,
            strategy=self.strategy,
            targets=tuple(self.targets.items()),
            order_type=OrderType(self.order_type),
            idempotency_key=self.idempotency_key,
            trace_id=trace_id,
        )


class TargetStepOut(BaseModel):
    symbol: str
    target: DecimalStr
    position: AmountStr
    working_buy: AmountStr = Field(description="open buy orders' remainder, any strategy")
    working_sell: AmountStr = Field(description="open sell orders' remainder, any strategy")
    order_id: str | None = Field(description="the order placed toward the target, if any")
    side: Side | None
    qty: AmountStr
    remainder: AmountStr = Field(description="below the step or minimum size: left")
    canceled: list[str] = Field(description="own orders cancelled: they no longer fitted")
    reduced: list[tuple[str, DecimalStr]] = Field(description="own orders replaced down")
    reason_code: str | None = Field(description="why nothing was placed, or the denial")
    detail: str


class TargetsOut(BaseModel):
    set_id: str
    fingerprint: str = Field(description="what the set asked, hashed: a reused key is told apart")
    trace_id: str | None
    account: str
    strategy: str
    order_type: OrderType
    duplicate: bool = Field(description="the key was seen before: nothing was placed now")
    created_at: datetime
    steps: list[TargetStepOut]
    orders: list[OrderOut]

    @classmethod
    def of(cls, result: TargetsResult) -> TargetsOut:
        record = result.targets
        return cls(
            set_id=record.set_id,
            fingerprint=record.fingerprint,
            trace_id=record.trace_id,
            account=record.account,
            strategy=record.strategy,
            order_type=record.order_type,
            duplicate=result.duplicate,
            created_at=iso(record.ts),
            steps=[
                TargetStepOut(
                    symbol=s.symbol,
                    target=s.target,
                    position=s.position,
                    working_buy=s.working_buy,
                    working_sell=s.working_sell,
                    order_id=s.order_id,
                    side=s.side,
                    qty=s.qty,
                    remainder=s.remainder,
                    canceled=list(s.canceled),
                    reduced=[(order_id, qty) for order_id, qty in s.reduced],
                    reason_code=s.reason_code,
                    detail=s.detail,
                )
                for s in record.steps
            ],
            orders=[OrderOut.of(view) for view in result.orders],
        )


class TargetOut(BaseModel):
    account: str
    strategy: str
    symbol: str
    target: DecimalStr
    position: AmountStr
    working: AmountStr = Field(description="the strategy's open orders' remainder, signed")
    working_orders: list[str]
    gap: AmountStr = Field(description="target - position - working: nothing works on it")
    set_id: str
    set_at: datetime
    order_id: str | None
    order_status: OrderStatus | None = Field(description="None once the order is retired")
    reason_code: str | None
    detail: str
    remainder: AmountStr

    @classmethod
    def of(cls, v: TargetView) -> TargetOut:
        return cls(
            account=v.account,
            strategy=v.strategy,
            symbol=v.symbol,
            target=v.target,
            position=v.position,
            working=v.working,
            working_orders=v.working_orders,
            gap=v.gap,
            set_id=v.set_id,
            set_at=iso(v.set_ts),
            order_id=v.order_id,
            order_status=v.order_status,
            reason_code=v.reason_code,
            detail=v.detail,
            remainder=v.remainder,
        )
