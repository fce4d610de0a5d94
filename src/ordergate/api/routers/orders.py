"""/v1/orders: place, list, get, cancel, replace."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import Body, Query, Response, status

from ordergate.api.deps import ReadsDep, SettingsDep, TradingDep, VenueWaitDep
from ordergate.api.edge.guard import guarded_router
from ordergate.api.schemas import CancelIn, ErrorOut, OrderIn, OrderOut, OrderPage, ReplaceIn, ns
from ordergate.api.trace_ids import TraceIdDep
from ordergate.domain.errors import InvalidRequest, NotFound
from ordergate.domain.values import OrderStatus, Side
from ordergate.engine.commands import CancelOrder, ReplaceOrder
from ordergate.engine.queries import MAX_OFFSET, OrderFilter, OrderSort, PageRequest

router = guarded_router(prefix="/v1/orders", tags=["orders"])

ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorOut, "description": "no such order"},
    409: {"model": ErrorOut, "description": "not allowed in the order's state"},
    422: {"model": ErrorOut, "description": "malformed request"},
    503: {"model": ErrorOut, "description": "the engine is not running"},
}


class SortField(StrEnum):
    created_at = "created_at"
    updated_at = "updated_at"


class SortOrder(StrEnum):
    asc = "asc"
    desc = "desc"


def parse_statuses(values: list[str] | None) -> frozenset[OrderStatus] | None:
    """Accept `status=A&status=B` and `status=A,B`, case-insensitively."""
    if not values:
        return None
    names = [part.strip().upper() for value in values for part in value.split(",") if part.strip()]
    try:
        return frozenset(OrderStatus(name) for name in names)
    except ValueError as exc:
        raise InvalidRequest(f"unknown status in {names}", code="BAD_STATUS") from exc


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": OrderOut, "description": "idempotency key seen before"}, **ERRORS},
)
async def place_order(
    trading: TradingDep,
    settings: SettingsDep,
    wait_for_venue: VenueWaitDep,
    body: OrderIn,
    response: Response,
    trace_id: TraceIdDep,
    wait: Annotated[bool, Query(description="wait for the venue's answer")] = True,
) -> OrderOut:
    """Place an order. A risk denial is an order with status DENIED and a reason code.

    Its trace id is the request's (`X-Trace-Id`, or one made up for it).
    """
    result = await trading.place(body.command(settings.default_account, trace_id=trace_id))
    if not result.created:
        response.status_code = status.HTTP_200_OK
    order = result.order
    if wait:
        order = await wait_for_venue(order.order_id)
    return OrderOut.of(order)


@router.get("", responses=ERRORS)
async def list_orders(
    reads: ReadsDep,
    symbol: str | None = None,
    status_: Annotated[list[str] | None, Query(alias="status")] = None,
    strategy: str | None = None,
    side: Side | None = None,
    account: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    cursor: str | None = None,
    sort: SortField = SortField.created_at,
    order: SortOrder = SortOrder.desc,
) -> OrderPage:
    """List orders, newest first by default; page with `cursor` (or `offset`)."""
    page = await reads.orders(
        OrderFilter(
            account=account,
            symbol=symbol,
            statuses=parse_statuses(status_),
            strategy=strategy,
            side=side,
            since=None if since is None else ns(since),
            until=None if until is None else ns(until),
        ),
        PageRequest(limit=limit, offset=offset, cursor=cursor, descending=order is SortOrder.desc),
        OrderSort.CREATED_TS if sort is SortField.created_at else OrderSort.UPDATED_TS,
    )
    return OrderPage(items=[OrderOut.of(o) for o in page.items], next_cursor=page.next_cursor)


@router.get("/{order_id}", responses=ERRORS)
async def get_order(reads: ReadsDep, order_id: str) -> OrderOut:
    view = await reads.order(order_id)
    if view is None:
        raise NotFound(f"order {order_id} not found", code="ORDER_NOT_FOUND")
    return OrderOut.of(view)


@router.post("/{order_id}/cancel", responses=ERRORS)
async def cancel_order(
    trading: TradingDep,
    wait_for_venue: VenueWaitDep,
    order_id: str,
    body: Annotated[CancelIn | None, Body()] = None,
    wait: bool = True,
) -> OrderOut:
    """Ask the venue to cancel; 409 with ORDER_ALREADY_TERMINAL if it is already done."""
    view = await trading.cancel(CancelOrder(order_id, None if body is None else body.reason))
    if wait:
        view = await wait_for_venue(order_id)
    return OrderOut.of(view)


@router.post("/{order_id}/replace", responses=ERRORS)
async def replace_order(
    trading: TradingDep,
    wait_for_venue: VenueWaitDep,
    order_id: str,
    body: ReplaceIn,
    wait: bool = True,
) -> OrderOut:
    """Change quantity, price or stop price of a working order."""
    view = await trading.replace(
        ReplaceOrder(order_id, qty=body.qty, price=body.price, stop_price=body.stop_price)
    )
    if wait:
        view = await wait_for_venue(order_id)
    return OrderOut.of(view)
