"""GET /v1/stream: committed events as server-sent events, for the blotter.

The stream follows the engine's subscription to committed events (never the read-model
tables), with a tick of prices between them; the messages and the bound on a slow
reader are described in `ordergate.api.live`.

The key travels in the `X-API-Key` header like everywhere else, so the route guard
checks it (scope `read`) before the stream opens. A browser's `EventSource` cannot send a
header, so the blotter reads the stream with `fetch()` (docs/decisions/0023): no key in
a URL, nothing new to issue, revoke or log.

Each stream takes one of `api_max_streams` slots (503 `SERVER_BUSY` past them) as well
as the connection it holds on the API listener. It is left out of the OpenAPI document:
a response that never ends is not one a client generator or the fuzz run can use.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from ordergate.api.deps import LimitsDep, SettingsDep, TradingDep
from ordergate.api.edge.guard import Edge, guarded_router
from ordergate.api.live import (
    STREAMS_CLOSING_STATE_KEY,
    TAIL_EVENTS,
    TICK_SECONDS,
    EventQueue,
    StreamSlots,
    event_message,
    instruments_message,
    sse,
)
from ordergate.api.schemas import iso
from ordergate.app.application import Application
from ordergate.app.live_events import EventFeed, event_feed
from ordergate.domain.errors import NotFound
from ordergate.domain.limits import LimitsBook
from ordergate.engine.trading import Trading

router = guarded_router(tags=["stream"])


async def get_feed(request: Request) -> EventFeed:
    application: Application = request.app.state.application
    feed = event_feed(application)
    if feed is None:
        raise NotFound(
            "a cluster node does not serve the live event stream yet",
            code="STREAM_NOT_SERVED",
        )
    return feed


async def get_stream_slots(request: Request) -> StreamSlots:
    edge: Edge = request.app.state.edge
    return edge.streams


FeedDep = Annotated[EventFeed, Depends(get_feed)]
StreamSlotsDep = Annotated[StreamSlots, Depends(get_stream_slots)]


@router.get("/v1/stream", include_in_schema=False)
async def stream(
    request: Request,
    trading: TradingDep,
    limits: LimitsDep,
    settings: SettingsDep,
    feed: FeedDep,
    slots: StreamSlotsDep,
) -> StreamingResponse:
    """Committed events from now on, after the journal's last few; see the module."""
    slots.enter()
    queue = EventQueue(settings.api_stream_queue)
    unsubscribe = feed.subscribe(queue.put)  # before the tail: nothing falls between them

    def release() -> None:
        unsubscribe()
        slots.leave()

    response = EventStreamResponse(release)
    try:
        tail = await feed.tail(TAIL_EVENTS)
    except BaseException:
        response.close()
        raise
    closing: asyncio.Event = request.scope.get("state", {}).get(
        STREAMS_CLOSING_STATE_KEY, asyncio.Event()
    )
    loop = asyncio.get_running_loop()

    async def messages() -> AsyncIterator[bytes]:
        last_seq = tail[-1].seq if tail else 0
        yield sse(
            "hello",
            {
                "seq": last_seq,
                "venue": trading.venue_name,
                "instruments": instruments_message(trading.instruments),
                "tail": [event_message(e, trading.order) for e in tail],
            },
        )
        yield _tick(trading, limits)
        next_tick = loop.time() + TICK_SECONDS
        while not closing.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(queue.ready.wait(), max(0.0, next_tick - loop.time()))
            items, overflowed = queue.take()
            if overflowed:
                yield sse("resync", {"next_seq": items[0].seq if items else None})
            for item in items:
                if item.seq <= last_seq:
                    continue  # in the tail already
                last_seq = item.seq
                yield sse("journal", event_message(item, trading.order), item.seq)
            if loop.time() >= next_tick:
                yield _tick(trading, limits)
                next_tick = loop.time() + TICK_SECONDS

    response.body_iterator = messages()
    return response


class EventStreamResponse(StreamingResponse):
    """`text/event-stream`, and `close` once it ends however it ends: a reader gone, the
    server shutting down, or a response never sent (whose generator never starts, so a
    `finally` inside it would not run)."""

    def __init__(self, on_close: Callable[[], object]) -> None:
        super().__init__(
            iter(()),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
        self._on_close: Callable[[], object] | None = on_close

    def close(self) -> None:
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.close()


def _tick(trading: Trading, limits: LimitsBook) -> bytes:
    """The engines' time and each instrument's last price, its age and staleness (the
    same test as `GET /v1/health/trading`)."""
    now = trading.now_ns()
    quotes = []
    for symbol in sorted(trading.instruments):
        quote = trading.quote(symbol)
        stale_after = limits.resolve(None, symbol, None).feed_stale_after_ms
        age = None if quote is None else max(0, (now - quote.ts) // 1_000_000)
        quotes.append(
            {
                "symbol": symbol,
                "last": None if quote is None else quote.last,
                "bid": None if quote is None else quote.bid,
                "ask": None if quote is None else quote.ask,
                "age_ms": age,
                "stale": stale_after is not None and (age is None or age > stale_after),
            }
        )
    return sse("tick", {"now": iso(now).isoformat(), "quotes": quotes})
