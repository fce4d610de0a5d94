"""uvicorn's HTTP/1.1 protocol (h11) with the limits a process holding live orders needs.

uvicorn bounds the size of a request's head (`h11_max_incomplete_event_size`) and the
idle time between requests (`timeout_keep_alive`), and nothing else: a connection that
never finishes its head stays open forever, every connection is accepted, and a body the
app did not read is read off the socket to its end. This protocol adds, per connection:

- a **connection cap** per listener: past it a new connection is answered 503
  `SERVER_BUSY` at once and closed, so it holds a file descriptor for microseconds;
- a **header deadline**: a request's head must arrive whole within
  `api_header_timeout_seconds` of the connection opening, or of the first byte after the
  previous answer; otherwise 408 `HEADER_TIMEOUT` (or a silent close if nothing came).
  Between requests a connection is idle, and `api_keepalive_seconds` (uvicorn's) governs;
- **reading paused after every request head**: the body stays in the kernel until the
  app asks for it, which the route guard does only after the key is checked, so an
  unauthenticated body is never read;
- **a refused body is not read to its end**: when the answer goes out while the body is
  still arriving, the rest is read and discarded (so the client sees its answer rather
  than a reset, and a small body leaves the connection usable) but only up to
  `DRAIN_BYTES` and for at most `DRAIN_SECONDS`; past either, the connection closes;
- **one error shape below the app too**: a request h11 cannot parse (bad request line,
  NUL or bare CR in a header, a head over `api_max_header_bytes`) is answered in the API's
  `{"reason_code", "detail"}` with an `X-Trace-Id`, not uvicorn's plain text;
- websocket upgrades are not served (the API has none) and not logged per request.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, cast

import h11
import structlog
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from ordergate.api.edge.guard import BODY_RECEIVED, LISTENER_STATE_KEY
from ordergate.api.errors import error_body
from ordergate.api.trace_ids import new_trace_id

log = structlog.get_logger("ordergate.api.edge")

DRAIN_BYTES: Final = 1024 * 1024
DRAIN_SECONDS: Final = 1.0

_REASONS: Final = {
    400: "Bad Request",
    408: "Request Timeout",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}


def canned_response(status: int, reason_code: str, detail: str) -> bytes:
    """A whole HTTP/1.1 answer in the API's error shape, that closes the connection:
    for the moments before there is a request the app could answer."""
    body = json.dumps(error_body(reason_code, detail)).encode()
    head = (
        f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n"
        f"x-trace-id: {new_trace_id()}\r\n"
    )
    if status == 503:
        head += "retry-after: 1\r\n"
    return head.encode("ascii") + b"\r\n" + body


@dataclass(slots=True)
class Listener:
    """One listening socket's limits and the connections it holds now."""

    name: str
    max_connections: int
    header_timeout: float
    connections: set[GuardedH11Protocol] = field(default_factory=set)

    def full(self) -> bool:
        return len(self.connections) >= self.max_connections


class GuardedH11Protocol(H11Protocol):
    """See the module's docstring. `listener` is bound per listener (`for_listener`)."""

    listener: ClassVar[Listener]

    @classmethod
    def for_listener(cls, listener: Listener) -> type[GuardedH11Protocol]:
        return type(f"GuardedH11Protocol_{listener.name}", (cls,), {"listener": listener})

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        state = {**app_state, LISTENER_STATE_KEY: self.listener.name}
        super().__init__(config, server_state, state, _loop)
        self._refused = False
        self._head_deadline: asyncio.TimerHandle | None = None
        self._drain_deadline: asyncio.TimerHandle | None = None
        self._drained = 0

    # A connection over the cap: answered and closed before anything is parsed.
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast("asyncio.Transport", transport)  # uvloop's is not a subclass
        if self.listener.full():
            self._refused = True
            self.transport = transport
            transport.write(
                canned_response(503, "SERVER_BUSY", "too many connections; try again shortly")
            )
            transport.close()
            return
        self.listener.connections.add(self)
        super().connection_made(transport)
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self.listener.connections.discard(self)
        self._cancel_head_deadline()
        self._stop_draining()
        if self._refused:
            return
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._drain_deadline is not None:
            self._drained += len(data)
            if self._drained > DRAIN_BYTES:
                self.transport.close()
                return
        waiting = self._waiting_for_head()
        if waiting and self._head_deadline is None:
            self._await_head()
        super().data_received(data)
        if self._drain_deadline is not None and self.conn.their_state is not h11.SEND_BODY:
            self._stop_draining()  # the refused body has ended: the connection lives on
        if waiting and not self._waiting_for_head():
            self._cancel_head_deadline()
            if self.conn.their_state is h11.SEND_BODY:
                # The body stays in the kernel until the route guard has checked the key.
                self.flow.pause_reading()
            else:
                # The whole request came at once (its task has not run yet): the guard
                # need not arm a deadline to read its body.
                self.scope[BODY_RECEIVED] = True  # type: ignore[typeddict-unknown-key]

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing():
            return
        if self.conn.their_state is h11.SEND_BODY:  # answered before its body was read
            self._drained = 0
            self._drain_deadline = self.loop.call_later(DRAIN_SECONDS, self.transport.close)
        elif self._waiting_for_head() and self.conn.trailing_data[0]:
            self._await_head()  # the next head has begun already (pipelined)

    def send_400_response(self, msg: str) -> None:
        head, _ = self.conn.trailing_data
        limit = self.config.h11_max_incomplete_event_size
        if limit is not None and len(head) > limit:
            answer = canned_response(431, "HEADERS_TOO_LARGE", "the request's head is too large")
        else:
            answer = canned_response(400, "MALFORMED_HTTP", "the request is not valid HTTP/1.1")
        self.transport.write(answer)
        self.transport.close()

    def _unsupported_upgrade_warning(self) -> None:
        """An upgrade asked for is ignored; a log line per request would be a flood."""

    # The head deadline.
    def _waiting_for_head(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _await_head(self) -> None:
        self._cancel_head_deadline()
        self._head_deadline = self.loop.call_later(
            self.listener.header_timeout, self._head_timed_out
        )

    def _cancel_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_timed_out(self) -> None:
        self._head_deadline = None
        if not self._waiting_for_head() or self.transport.is_closing():
            return
        started, _ = self.conn.trailing_data
        if started:
            self.transport.write(
                canned_response(408, "HEADER_TIMEOUT", "the request's head did not arrive in time")
            )
        self.transport.close()

    def _stop_draining(self) -> None:
        if self._drain_deadline is not None:
            self._drain_deadline.cancel()
            self._drain_deadline = None
