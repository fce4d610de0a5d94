"""/v1/fills: executions, as journaled."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from ordergate.api.deps import ReadsDep
from ordergate.api.edge.guard import guarded_router
from ordergate.api.openapi import QUERY_REFUSED, declares
from ordergate.api.routers.orders import Cursor, Filter, SortOrder
from ordergate.api.schemas import FillOut, FillPage, TimeBound, ns
from ordergate.engine.queries import MAX_OFFSET, FillFilter, PageRequest

router = guarded_router(prefix="/v1/fills", tags=["fills"])


@router.get("", responses=declares(QUERY_REFUSED))
async def list_fills(
    reads: ReadsDep,
    account: Filter = None,
    symbol: Filter = None,
    order_id: Filter = None,
    since: TimeBound | None = None,
    until: TimeBound | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    cursor: Cursor | None = None,
    order: SortOrder = SortOrder.desc,
) -> FillPage:
    """Executions by time, newest first by default; page with `cursor` (or `offset`)."""
    page = await reads.fills(
        FillFilter(
            account=account,
            symbol=symbol,
            order_id=order_id,
            since=None if since is None else ns(since),
            until=None if until is None else ns(until),
        ),
        PageRequest(limit=limit, offset=offset, cursor=cursor, descending=order is SortOrder.desc),
    )
    return FillPage(items=[FillOut.of(f) for f in page.items], next_cursor=page.next_cursor)
