"""/paper: the seed paper OMS's API, with its request shape and status names.

It runs over the same engine as /v1: an order placed here is an ordinary ordergate order
in the default account. The seed's four statuses are a view of ordergate's thirteen:
FILLED; REJECTED (denied by a pre-trade check or rejected by the venue); CANCELED
(canceled or expired); NEW (everything still working or in flight).

As the seed's OMS validates it, /paper is market-only: a limit request is journaled and
answered REJECTED with `UNSUPPORTED_ORDER_TYPE`, and never reaches the venue (/v1 takes
every type). Times are the bar's close, not its open: see decision 0024.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Final

from fastapi import Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from ordergate.api.deps import ReadsDep, SettingsDep, TradingDep, VenueWaitDep
from ordergate.api.edge.guard import guarded_router
from ordergate.api.openapi import ENGINE_DOWN, KEY_REUSED, ORDER_NOT_FOUND, ORDER_STATE, declares
from ordergate.api.routers.orders import Filter, PathSegment
from ordergate.api.schemas import (
    AmountStr,
    DecimalStr,
    Key,
    Name,
    Positive,
    iso,
    price_rules,
)
from ordergate.api.trace_ids import TraceIdDep
from ordergate.domain.errors import NotFound
from ordergate.domain.values import OrderStatus, OrderType, Side
from ordergate.engine.commands import CancelOrder, PlaceOrder
from ordergate.engine.queries import MAX_OFFSET, OrderFilter, PageRequest
from ordergate.engine.views import OrderView

router = guarded_router(prefix="/paper", tags=["paper (seed API)"])

MARKET_ONLY: Final = frozenset({OrderType.MARKET})


class PaperStatus(StrEnum):
    NEW = "NEW"
    FILLED = "FILLED"
    REJECTED = "REJECTED"
    CANCELED = "CANCELED"

    @classmethod
    def _missing_(cls, value: object) -> PaperStatus | None:
        return cls.__members__.get(value.upper()) if isinstance(value, str) else None


PAPER_STATUS_OF: Final[dict[OrderStatus, PaperStatus]] = dict.fromkeys(
    OrderStatus, PaperStatus.NEW
) | {
    OrderStatus.FILLED: PaperStatus.FILLED,
    OrderStatus.DENIED: PaperStatus.REJECTED,
    OrderStatus.REJECTED: PaperStatus.REJECTED,
    OrderStatus.CANCELED: PaperStatus.CANCELED,
    OrderStatus.EXPIRED: PaperStatus.CANCELED,
    OrderStatus.PLANNED: PaperStatus.CANCELED,  # a dry run's: approved, never sent
}
STATUSES_OF: Final[dict[PaperStatus, frozenset[OrderStatus]]] = {
    p: frozenset(s for s, q in PAPER_STATUS_OF.items() if q is p) for p in PaperStatus
}


class PaperOrderType(StrEnum):
    market = "market"
    limit = "limit"

    @classmethod
    def _missing_(cls, value: object) -> PaperOrderType | None:
        return cls.__members__.get(value.lower()) if isinstance(value, str) else None


ORDER_TYPE_OF: Final[dict[PaperOrderType, OrderType]] = {
    PaperOrderType.market: OrderType.MARKET,
    PaperOrderType.limit: OrderType.LIMIT,
}


def _paper_price_rule(schema: dict[str, Any]) -> None:
    types = {name.value: ORDER_TYPE_OF[name] for name in PaperOrderType}
    schema["allOf"] = [
        price_rules(types, default=PaperOrderType.market.value, offset=False, stop_price=False)
    ]


class PaperOrderIn(BaseModel):
    """A market order, or a limit order with its price (`allOf` says so)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_paper_price_rule)

    symbol: Name
    side: Side
    qty: Positive
    type: PaperOrderType = PaperOrderType.market
    price: Positive | None = Field(
        default=None, description="limit price: a limit order is REJECTED here (market-only)"
    )
    stop_loss: Positive | None = None
    take_profit: Positive | None = None
    idempotency_key: Key | None = None


class PaperOrderOut(BaseModel):
    id: str
    symbol: str
    side: Side
    qty: DecimalStr
    type: str
    price: DecimalStr | None
    status: PaperStatus
    filled_qty: DecimalStr
    fill_price: AmountStr | None
    stop_loss: DecimalStr | None
    take_profit: DecimalStr | None
    idempotency_key: str | None
    reason_code: str | None
    reject_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, v: OrderView) -> PaperOrderOut:
        return cls(
            id=v.order_id,
            symbol=v.symbol,
            side=v.side,
            qty=v.qty,
            type=v.type.value.lower(),
            price=v.price,
            status=PAPER_STATUS_OF[v.status],
            filled_qty=v.filled_qty,
            fill_price=v.avg_fill_price,
            stop_loss=v.stop_loss,
            take_profit=v.take_profit,
            idempotency_key=v.idempotency_key,
            reason_code=v.reason_code,
            reject_reason=v.reason,
            created_at=iso(v.created_ts),
            updated_at=iso(v.updated_ts),
        )


@router.post(
    "/order",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": PaperOrderOut, "description": "idempotency key seen before"},
        **declares(KEY_REUSED, ENGINE_DOWN),
    },
)
async def place_paper_order(
    trading: TradingDep,
    settings: SettingsDep,
    wait_for_venue: VenueWaitDep,
    body: PaperOrderIn,
    response: Response,
    trace_id: TraceIdDep,
) -> PaperOrderOut:
    """Place a market order; it is FILLED, or REJECTED with a reason (a limit order is
    REJECTED with `UNSUPPORTED_ORDER_TYPE`: the seed's OMS is market-only)."""
    result = await trading.place(
        PlaceOrder(
            account=settings.default_account,
            symbol=body.symbol,
            side=body.side,
            qty=body.qty,
            type=ORDER_TYPE_OF[body.type],
            price=body.price,
            stop_loss=body.stop_loss,
            take_profit=body.take_profit,
            idempotency_key=body.idempotency_key,
            trace_id=trace_id,
            allowed_types=MARKET_ONLY,
        )
    )
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return PaperOrderOut.of(await wait_for_venue(result.order.order_id))


@router.get("/orders")
async def list_paper_orders(
    reads: ReadsDep,
    settings: SettingsDep,
    symbol: Filter = None,
    status_: Annotated[PaperStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[PaperOrderOut]:
    page = await reads.orders(
        OrderFilter(
            account=settings.default_account,
            symbol=symbol,
            statuses=None if status_ is None else STATUSES_OF[status_],
        ),
        PageRequest(limit=limit, offset=offset),
    )
    return [PaperOrderOut.of(v) for v in page.items]


@router.get("/orders/{order_id}", responses=declares(ORDER_NOT_FOUND))
async def get_paper_order(reads: ReadsDep, order_id: PathSegment) -> PaperOrderOut:
    view = await reads.order(order_id)
    if view is None:
        raise NotFound(f"order {order_id} not found", code="ORDER_NOT_FOUND")
    return PaperOrderOut.of(view)


@router.post(
    "/orders/{order_id}/cancel", responses=declares(ORDER_NOT_FOUND, ORDER_STATE, ENGINE_DOWN)
)
async def cancel_paper_order(
    trading: TradingDep, wait_for_venue: VenueWaitDep, order_id: PathSegment
) -> PaperOrderOut:
    """Cancel an order that is still NEW; 409 once it is FILLED, REJECTED or CANCELED."""
    await trading.cancel(CancelOrder(order_id, "canceled via /paper"))
    return PaperOrderOut.of(await wait_for_venue(order_id))
