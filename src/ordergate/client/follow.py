"""Follow a server's orders and fills as they change, over the REST API's listings.

`changes` polls the two listings that carry every change:
orders by their last update (`GET /v1/orders?sort=updated_at&order=desc`) and fills
(`GET /v1/fills`, newest first). Each poll reads from the newest row back to a little
before the newest one it had already seen, and yields what it had not seen, oldest first.
The overlap (`OVERLAP_NS`) catches a change committed late with an earlier time (another
partition's writer). A row is new unless the same row, field for field, was yielded: the
time alone cannot tell, because the paper venue's clock is market time, which stands
still within a bar, so an order accepted and canceled within one bar keeps its time.
Memory holds only the rows within the overlap.

Polling, not the blotter's stream of journaled events (`GET /v1/stream`), because the
listings answer on every node of a cluster and the stream is served by a single-process
server only (404 `STREAM_NOT_SERVED` on a node); when nodes serve it, `changes` is the
one function to switch, and its callers keep what it yields.
An order that changes twice between two polls is yielded once, as it is after both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Final, Generic, TypeVar

from ordergate.client import calls
from ordergate.client.asynchronous import AsyncClient
from ordergate.domain.errors import OrderGateError, ServerUnreachable
from ordergate.engine.queries import Page
from ordergate.engine.views import FillView, OrderView

Change = OrderView | FillView
R = TypeVar("R", OrderView, FillView)

OVERLAP_NS: Final = 5_000_000_000  # read 5 s behind the newest change seen
PAGE: Final = 200


def stamp(change: Change) -> int:
    """When `change` happened: an order's last update, a fill's time (ns)."""
    return change.updated_ts if isinstance(change, OrderView) else change.ts


def key(change: Change) -> str:
    return change.order_id if isinstance(change, OrderView) else change.trade_id


class _Listing(Generic[R]):
    """One listing, newest first, and which of its rows were already yielded."""

    def __init__(self, fetch: Callable[[str | None], Awaitable[Page[R]]]) -> None:
        self._fetch: Callable[[str | None], Awaitable[Page[R]]] = fetch
        self._seen: dict[str, R] = {}  # key -> the row as last yielded, within the overlap
        self._newest: int | None = None

    async def poll(self) -> list[R]:
        """The rows not yielded before, oldest first."""
        floor = None if self._newest is None else self._newest - OVERLAP_NS
        fresh: list[R] = []
        cursor: str | None = None
        while True:
            page = await self._fetch(cursor)
            for row in page.items:
                at = stamp(row)
                if floor is None:
                    floor = at - OVERLAP_NS  # the first poll: everything within the overlap
                if at < floor:
                    return self._took(fresh)
                before = self._seen.get(key(row))
                if before is None or (at >= stamp(before) and row != before):
                    fresh.append(row)
            if page.next_cursor is None:
                return self._took(fresh)
            cursor = page.next_cursor

    def _took(self, fresh: list[R]) -> list[R]:
        for row in fresh:
            self._seen[key(row)] = row
        if fresh:
            self._newest = max(self._newest or 0, *(stamp(row) for row in fresh))
        if self._newest is not None:
            floor = self._newest - OVERLAP_NS
            self._seen = {k: row for k, row in self._seen.items() if stamp(row) >= floor}
        fresh.reverse()
        return fresh


async def changes(
    client: AsyncClient,
    *,
    interval: float = 0.5,
    backlog: int = 0,
    lost: Callable[[OrderGateError], None] | None = None,
    started: Callable[[], None] | None = None,
) -> AsyncIterator[Change]:
    """Every order change and fill from now on, oldest first, preceded by the `backlog`
    most recent ones. `started` is called once the first poll has answered: whatever
    changes after that call is yielded. A poll that gets no answer (`ServerUnreachable`)
    is reported to `lost` and tried again after `interval`; any other error ends it."""
    orders: _Listing[OrderView] = _Listing(
        lambda cursor: client.send(calls.orders_by_update(PAGE, cursor))
    )
    fills: _Listing[FillView] = _Listing(
        lambda cursor: client.send(calls.fills(limit=PAGE, cursor=cursor))
    )
    pending: list[Change] = []
    first = True
    while True:
        try:
            pending += await orders.poll()
            pending += await fills.poll()
        except ServerUnreachable as exc:
            if lost is not None:
                lost(exc)
        else:
            pending.sort(key=stamp)
            if first:  # what happened before: only the most recent `backlog` of it
                pending = pending[len(pending) - backlog :] if backlog else []
                first = False
                if started is not None:
                    started()
            for change in pending:
                yield change
            pending = []
        await asyncio.sleep(interval)
