"""/v1/fills: executions, as journaled."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query

from ordergate.api.deps import ReadsDep
from ordergate.api.edge.guard import guarded_router
from ordergate.api.routers.orders import SortOrder
from ordergate.api.schemas import FillOut, FillPage, ns
from ordergate.engine.queries import MAX_OFFSET, FillFilter, PageRequest

router = guarded_router(prefix="/v1/fills", tags=["fills"])


@router.get("")
async def list_fills(
    reads: ReadsDep,
    account: str | None = None,
    symbol: str | None = None,
    order_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    cursor: str | None = None,
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
