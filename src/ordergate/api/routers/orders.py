"""/v1/orders: place, list, get, cancel, replace."""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Final

from fastapi import Body, Query, Response, status
from pydantic import WithJsonSchema

from ordergate.api.deps import ReadsDep, SettingsDep, TradingDep, VenueWaitDep
from ordergate.api.edge.guard import guarded_router
from ordergate.api.openapi import (
    ENGINE_DOWN,
    KEY_REUSED,
    ORDER_NOT_FOUND,
    ORDER_STATE,
    QUERY_REFUSED,
    declares,
)
from ordergate.api.schemas import (
    TEXT_PATTERN,
    CancelIn,
    OrderIn,
    OrderOut,
    OrderPage,
    ReplaceIn,
    TimeBound,
    ns,
)
from ordergate.api.trace_ids import TraceIdDep
from ordergate.domain.errors import InvalidRequest, NotFound
from ordergate.domain.values import OrderStatus, Side
from ordergate.engine.commands import CancelOrder, ReplaceOrder
from ordergate.engine.queries import (
    CURSOR_PATTERN,
    MAX_OFFSET,
    OrderFilter,
    OrderSort,
    PageRequest,
)

router = guarded_router(prefix="/v1/orders", tags=["orders"])

Filter = Annotated[str | None, Query(pattern=TEXT_PATTERN)]
"""A free-text filter: any text the edge lets through (no control character)."""
PathSegment = Annotated[
    str, WithJsonSchema({"type": "string", "pattern": "^[^/\\x00-\\x1f\\x7f]+$"})
]
"""An id or name in a path: one segment, no control character (the edge refuses those)."""
Cursor = Annotated[
    str,
    WithJsonSchema({"type": "string", "pattern": CURSOR_PATTERN, "description": "a `next_cursor`"}),
]
"""A page's `next_cursor`; `Cursor.decode` enforces the same pattern (`BAD_CURSOR`)."""


def any_case_list_pattern(names: Iterable[str]) -> str:
    """A comma-separated list of `names` in any case; spaces around the commas and blank
    items are allowed (and ignored)."""
    words = "|".join(
        "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in name)
        for name in sorted(names, key=len, reverse=True)
    )
    return f"^ *(?:{words})? *(?:, *(?:{words})? *)*$"


STATUS_LIST_PATTERN: Final = any_case_list_pattern(s.value for s in OrderStatus)
_STATUS_LIST: Final = re.compile(STATUS_LIST_PATTERN)
StatusList = Annotated[str, WithJsonSchema({"type": "string", "pattern": STATUS_LIST_PATTERN})]


class SortField(StrEnum):
    created_at = "created_at"
    updated_at = "updated_at"


class SortOrder(StrEnum):
    asc = "asc"
    desc = "desc"


def parse_statuses(values: list[str] | None) -> frozenset[OrderStatus] | None:
    """Accept `status=A&status=B` and `status=A,B`, case-insensitively
    (`STATUS_LIST_PATTERN`, which the OpenAPI document states)."""
    if not values:
        return None
    for value in values:
        if not _STATUS_LIST.fullmatch(value):
            raise InvalidRequest(f"unknown status in {value!r}", code="BAD_STATUS")
    return frozenset(
        OrderStatus(part.strip().upper())
        for value in values
        for part in value.split(",")
        if part.strip()
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": OrderOut, "description": "idempotency key seen before"},
        **declares(KEY_REUSED, ENGINE_DOWN),
    },
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


@router.get("", responses=declares(QUERY_REFUSED))
async def list_orders(
    reads: ReadsDep,
    symbol: Filter = None,
    status_: Annotated[list[StatusList] | None, Query(alias="status")] = None,
    strategy: Filter = None,
    side: Side | None = None,
    account: Filter = None,
    since: TimeBound | None = None,
    until: TimeBound | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    cursor: Cursor | None = None,
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


@router.get("/{order_id}", responses=declares(ORDER_NOT_FOUND))
async def get_order(reads: ReadsDep, order_id: PathSegment) -> OrderOut:
    view = await reads.order(order_id)
    if view is None:
        raise NotFound(f"order {order_id} not found", code="ORDER_NOT_FOUND")
    return OrderOut.of(view)


@router.post("/{order_id}/cancel", responses=declares(ORDER_NOT_FOUND, ORDER_STATE, ENGINE_DOWN))
async def cancel_order(
    trading: TradingDep,
    wait_for_venue: VenueWaitDep,
    order_id: PathSegment,
    body: Annotated[CancelIn | None, Body()] = None,
    wait: bool = True,
) -> OrderOut:
    """Ask the venue to cancel; 409 with ORDER_ALREADY_TERMINAL if it is already done."""
    view = await trading.cancel(CancelOrder(order_id, None if body is None else body.reason))
    if wait:
        view = await wait_for_venue(order_id)
    return OrderOut.of(view)


@router.post("/{order_id}/replace", responses=declares(ORDER_NOT_FOUND, ORDER_STATE, ENGINE_DOWN))
async def replace_order(
    trading: TradingDep,
    wait_for_venue: VenueWaitDep,
    order_id: PathSegment,
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
