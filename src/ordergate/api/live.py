"""The live event stream's parts: a bounded queue per reader, the cap on streams, and
the server-sent events it writes (`GET /v1/stream`, `ordergate.api.routers.stream`).

A reader is a browser on the other end of a TCP connection, and a slow or stalled one
must not grow the server's memory. The engine hands each committed event to every
reader's `EventQueue` on its own task, without waiting; a queue that holds `limit`
events and is handed one more drops them all and remembers that it overflowed. The
stream then sends a `resync` message instead of the lost events: the reader fetches its
snapshot again (orders, positions, account, gates) and carries on from the events that
follow. Memory per reader is bounded by `limit` events, whatever the reader does.

Messages (`text/event-stream`, each `event:` name with one JSON `data:` line):

- `hello`: once, first: the journal's last seq, the instruments, and the tail of the
  journal (the audit tail) as `journal` messages would carry them;
- `journal`: a committed event: `seq`, `event_type`, its fields (`ts` as ISO 8601),
  and, when it concerns an order, the order as last journaled (`order`, the shape of
  `GET /v1/orders/{id}`);
- `tick`: every `TICK_SECONDS`: the engines' time and each instrument's last price, its
  age and whether its feed is stale: prices are not journaled, and positions are marked
  to them. A tick is also what finds a reader that has gone away;
- `resync`: events were dropped for this reader; fetch the snapshot again.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

import msgspec

from ordergate.api.schemas import OrderOut, iso
from ordergate.domain.errors import ServerBusy
from ordergate.domain.instruments import Instrument
from ordergate.engine.subscriptions import JournaledEvent
from ordergate.engine.views import OrderView

STREAMS_CLOSING_STATE_KEY: Final = "streams_closing"
"""In a request's ASGI state: an `asyncio.Event` the server sets as it shuts down, so open
streams end (uvicorn waits for every response to finish). Absent under a test client."""
TICK_SECONDS: Final = 1.0
TAIL_EVENTS: Final = 50
"""Events of the journal a stream opens with: the blotter's audit tail."""


class EventQueue:
    """Committed events waiting for one reader, at most `limit` of them (see the module)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: deque[JournaledEvent] = deque()
        self._overflowed = False
        self.ready = asyncio.Event()

    def put(self, item: JournaledEvent) -> None:
        """Called by the engine after each commit: never blocks, never grows past `limit`."""
        if self._overflowed:
            return
        if len(self._items) >= self.limit:
            self._items.clear()
            self._overflowed = True
        else:
            self._items.append(item)
        self.ready.set()

    def take(self) -> tuple[list[JournaledEvent], bool]:
        """The events queued, oldest first, and whether some were dropped before them
        (then the reader must resync; the events returned follow the drop)."""
        items, overflowed = list(self._items), self._overflowed
        self._items.clear()
        self._overflowed = False
        self.ready.clear()
        return items, overflowed

    def __len__(self) -> int:
        return len(self._items)


class StreamSlots:
    """Streams open now on the API listener, up to `cap`; a stream holds its slot (and a
    connection of the listener's `api_max_connections`) for as long as it is open. Not
    a place among the requests in flight: a stream is open for hours, and would take the
    place of the short requests that place and cancel orders."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.count = 0

    def enter(self) -> None:
        if self.count >= self.cap:
            raise ServerBusy(f"{self.cap} event streams are open; try again shortly")
        self.count += 1

    def leave(self) -> None:
        self.count -= 1


def sse(event: str, data: Any, event_id: int | None = None) -> bytes:
    """One server-sent event: its name, its id (the journal seq) and its JSON data."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\n".encode() + b"data: " + _json(data) + b"\n\n"


def _json(data: Any) -> bytes:
    return msgspec.json.encode(data)  # a Decimal goes out as a string, as the API's do


def event_message(item: JournaledEvent, order_of: Callable[[str], OrderView | None]) -> Any:
    """A `journal` message's data: the event's fields, times as ISO 8601 (a nanosecond
    count is beyond a JavaScript number), and the order it concerns as last journaled."""
    fields: dict[str, Any] = msgspec.to_builtins(item.event, builtin_types=(Decimal,))
    for name, value in fields.items():
        if (name == "ts" or name.endswith("_ts")) and isinstance(value, int):
            fields[name] = iso(value).isoformat()
    # `event_type`, not `type`: an order's events have a `type` field of their own.
    message: dict[str, Any] = {**fields, "seq": item.seq, "event_type": type(item.event).__name__}
    order_id = fields.get("order_id")
    if isinstance(order_id, str):
        view = order_of(order_id)
        if view is not None:
            message["order"] = OrderOut.of(view).model_dump(mode="json")
    return message


def instruments_message(instruments: dict[str, Instrument]) -> list[dict[str, Any]]:
    """What the ticket and the marks need of each instrument."""
    return [
        {
            "symbol": i.symbol,
            "quote_currency": i.quote_currency,
            "contract_size": format(i.contract_size, "f"),
            "tick_size": format(i.tick_size, "f"),
            "lot_step": format(i.lot_step, "f"),
            "min_qty": format(i.min_qty, "f"),
        }
        for i in sorted(instruments.values(), key=lambda i: i.symbol)
    ]
