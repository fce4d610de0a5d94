"""`follow.changes` over a listing that changes between polls, served by httpx's
`MockTransport` from a list of views the test edits (the server's paging and order)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
from tests.unit.client.test_client_wire import CREATED, an_order
from tests.waiting import TIMEOUT, eventually

from ordergate.api.schemas import FillOut, FillPage, OrderOut, OrderPage
from ordergate.client import AsyncClient, RetryPolicy
from ordergate.client.follow import PAGE, Change, changes, stamp
from ordergate.domain.errors import OrderGateError
from ordergate.domain.values import LiquiditySide, OrderStatus, Side
from ordergate.engine.views import FillView, OrderView

BAR = CREATED  # the paper clock stands still within a bar: many changes, one time


class Listings:
    """What the server holds now; answers the two listings newest first, in pages."""

    def __init__(self) -> None:
        self.orders: dict[str, OrderView] = {}
        self.fills: list[FillView] = []
        self.down = False
        self.polls = 0

    def put(self, order: OrderView) -> None:
        self.orders[order.order_id] = order

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("refused", request=request)
        params = request.url.params
        start = int(params.get("cursor", "0"))
        limit = int(params["limit"])
        if request.url.path == "/v1/orders":
            self.polls += 1
            rows = sorted(self.orders.values(), key=lambda o: o.updated_ts, reverse=True)
            chunk = rows[start : start + limit]
            more = str(start + limit) if start + limit < len(rows) else None
            body = OrderPage(items=[OrderOut.of(o) for o in chunk], next_cursor=more)
        else:
            rows_f = sorted(self.fills, key=lambda f: f.ts, reverse=True)
            chunk_f = rows_f[start : start + limit]
            more = str(start + limit) if start + limit < len(rows_f) else None
            body = FillPage(items=[FillOut.of(f) for f in chunk_f], next_cursor=more)
        return httpx.Response(200, json=json.loads(body.model_dump_json()))


def a_fill(order_id: str, trade_id: str, ts: int) -> FillView:
    return FillView(
        trade_id, order_id, "default", "BTCUSDT", Side.BUY, Decimal("0.01"), Decimal("30000"),
        Decimal("0.1"), "USDT", LiquiditySide.TAKER, ts,
    )  # fmt: skip


async def following(
    listings: Listings,
    backlog: int,
    lost: list[OrderGateError] | None = None,
    started: asyncio.Event | None = None,
) -> AsyncIterator[Change]:
    client = AsyncClient(
        "http://og",
        "k",
        retry=RetryPolicy(max_attempts=1),
        transport=httpx.MockTransport(listings),
    )
    follow = changes(
        client,
        interval=0,
        backlog=backlog,
        lost=None if lost is None else lost.append,
        started=None if started is None else started.set,
    )
    async for change in follow:
        yield change


async def take(stream: AsyncIterator[Change], count: int) -> list[Change]:
    """The next `count` changes; a change that never comes fails the test, not hangs it."""
    async with asyncio.timeout(TIMEOUT):
        return [await anext(stream) for _ in range(count)]


async def test_client_follow_backlog_then_every_change_including_same_time() -> None:
    listings = Listings()
    listings.put(an_order(order_id="0-1", updated_ts=BAR - 2000, status=OrderStatus.FILLED))
    listings.put(an_order(order_id="0-2", updated_ts=BAR - 1000, status=OrderStatus.ACCEPTED))
    listings.fills.append(a_fill("0-1", "t-1", BAR - 3000))
    stream = following(listings, backlog=1)
    (latest,) = await take(stream, 1)
    assert isinstance(latest, OrderView)
    assert latest.order_id == "0-2"

    # A new order, then the resting one canceled within the same bar as it rested.
    listings.put(an_order(order_id="0-3", updated_ts=BAR, status=OrderStatus.ACCEPTED))
    listings.put(an_order(order_id="0-2", updated_ts=BAR - 1000, status=OrderStatus.CANCELED))
    listings.fills.append(a_fill("0-3", "t-2", BAR))
    got = await take(stream, 3)
    assert [stamp(c) for c in got] == sorted(stamp(c) for c in got)  # oldest first
    orders = {(c.order_id, c.status) for c in got if isinstance(c, OrderView)}
    assert orders == {("0-3", OrderStatus.ACCEPTED), ("0-2", OrderStatus.CANCELED)}
    assert [c.trade_id for c in got if isinstance(c, FillView)] == ["t-2"]

    # Nothing changes for a few polls: nothing is yielded again; then one change is.
    polls = listings.polls
    listings.put(an_order(order_id="0-3", updated_ts=BAR, status=OrderStatus.FILLED))
    (filled,) = await take(stream, 1)
    assert isinstance(filled, OrderView)
    assert (filled.order_id, filled.status) == ("0-3", OrderStatus.FILLED)
    assert listings.polls > polls


async def test_client_follow_reads_every_page_of_what_changed() -> None:
    listings = Listings()
    listings.put(an_order(order_id="0-0", updated_ts=BAR))
    started = asyncio.Event()
    stream = following(listings, backlog=0, started=started)
    many = 2 * PAGE + 50
    taking = asyncio.ensure_future(take(stream, many))
    await started.wait()
    for n in range(1, many + 1):  # all between two polls: one poll reads three pages
        listings.put(an_order(order_id=f"0-{n}", updated_ts=BAR + n * 1000))
    got = await taking
    assert [c.order_id for c in got] == [f"0-{n}" for n in range(1, many + 1)]


async def test_client_follow_lost_server_is_reported_and_followed_again() -> None:
    listings = Listings()
    listings.put(an_order(order_id="0-1", updated_ts=BAR))
    lost: list[OrderGateError] = []
    stream = following(listings, backlog=1, lost=lost)
    (first,) = await take(stream, 1)
    assert first.order_id == "0-1"
    listings.down = True
    listings.put(an_order(order_id="0-2", updated_ts=BAR + 1000))
    waiting = asyncio.ensure_future(anext(stream))
    await eventually(lambda: len(lost) >= 2, message="polls refused, reported, tried again")
    assert lost[0].code == "SERVER_UNREACHABLE"
    assert not waiting.done()
    listings.down = False
    change = await waiting
    assert change.order_id == "0-2"
