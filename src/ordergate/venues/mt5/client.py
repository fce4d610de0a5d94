"""`BridgeClient`: one connection to the EA, as docs/mt5-bridge.md says a client behaves.

Commands go over a REQ socket with "Lazy Pirate": when no reply comes within `timeout`,
the socket is closed, a new one opened and the same frame sent again (same `req_id`),
up to `attempts` times. That is safe because every state-changing command is idempotent
by its client order id. A command still unanswered after the last attempt is
`AmbiguousVenueError` if it could have changed anything (ask for the order before
deciding), else `RetryableVenueError`.

Events come over SUB through an `EventSequencer`: each once and in order, the gaps
filled with `events_since`; a new EA session is announced as `Restarted`, after which
the caller takes a snapshot and calls `resume`.

Replies' errors become ordergate's venue errors (`error_of`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Final

import structlog
import zmq
import zmq.asyncio

from ordergate.domain.errors import (
    AmbiguousVenueError,
    RejectedByVenue,
    RetryableVenueError,
    VenueError,
)
from ordergate.domain.reasons import ReasonCode
from ordergate.protocols.mt5 import VERSION
from ordergate.venues.mt5.sequencer import EventSequencer

Frame = dict[str, Any]
log = structlog.get_logger("ordergate.venues.mt5")

# Commands that may change the account: unanswered, they may have happened.
CHANGES: Final = frozenset(
    {"submit_order", "cancel_order", "modify_order", "close_position", "close_all"}
)
_NO_MONEY: Final = 10019
_HEARTBEAT_MS: Final = 1000


@dataclass(frozen=True, slots=True)
class Restarted:
    """The EA started again: `session` is its new one. Events of the old session that
    were not delivered are lost; take a snapshot, reconcile, then `resume`."""

    session: str


def _readable(payload: bytes) -> Frame | None:
    """An event frame with what the sequencer reads (session, seq, type); None if not."""
    try:
        frame = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(frame, dict):
        return None
    session, seq, kind = frame.get("session"), frame.get("seq"), frame.get("type")
    if not isinstance(session, str) or not isinstance(kind, str):
        return None
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        return None
    return frame


def _reply_of(payload: bytes) -> Frame | None:
    """A reply frame with its envelope (ok, session, last_seq, result or error); None if not."""
    try:
        reply = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(reply, dict) or not isinstance(reply.get("session"), str):
        return None
    if not isinstance(reply.get("last_seq"), int) or not isinstance(reply.get("ok"), bool):
        return None
    body = reply.get("result") if reply["ok"] else reply.get("error")
    return reply if isinstance(body, dict) else None


def error_of(cmd: str, error: Frame) -> VenueError:
    """The venue error a reply's `error` means."""
    code = error["code"]
    retcode = error.get("retcode")
    name = error.get("retcode_name")
    detail = f"{cmd}: {error.get('message', '')}" + (f" ({name} {retcode})" if name else "")
    if code == "REJECTED" and retcode == _NO_MONEY:
        return RejectedByVenue(detail, code=ReasonCode.VENUE_INSUFFICIENT_MARGIN)
    if code == "REJECTED":
        return RejectedByVenue(detail, code=ReasonCode.VENUE_REJECTED)
    if code == "NOT_FOUND":
        return RejectedByVenue(detail, code=ReasonCode.VENUE_ORDER_NOT_FOUND)
    if code == "CLOSED":
        return RejectedByVenue(detail, code=ReasonCode.ORDER_ALREADY_TERMINAL)
    if code == "UNKNOWN_OUTCOME":
        return AmbiguousVenueError(detail)
    if code in ("BUSY", "INTERNAL"):
        return RetryableVenueError(detail)
    # BAD_REQUEST, UNKNOWN_COMMAND, UNSUPPORTED_VERSION: this client's fault; never resent.
    return RejectedByVenue(detail, code=ReasonCode.VENUE_REJECTED)


class BridgeClient:
    """Commands and events to and from one EA (see the module)."""

    def __init__(
        self,
        rep_url: str,
        pub_url: str,
        *,
        timeout: float = 2.0,
        attempts: int = 3,
        client_name: str = "ordergate",
    ) -> None:
        self._rep_url, self._pub_url = rep_url, pub_url
        self._timeout = timeout
        self._attempts = attempts
        self._name = client_name
        self._context = zmq.asyncio.Context()
        self._req: zmq.asyncio.Socket | None = None
        self._sub: zmq.asyncio.Socket | None = None
        self._ids = itertools.count(1)
        self._prefix = f"{client_name}-{id(self):x}"
        self.sequencer = EventSequencer()
        self.resends = 0
        self.session: str | None = None  # the EA session of the last reply
        self.last_heard: float | None = None  # monotonic time of the last event frame
        # One REQ socket: a request and its reply before the next (ZeroMQ's REQ enforces
        # it), whoever asks (the engine's lanes, the event pump's recovery).
        self._turn = asyncio.Lock()

    async def connect(self) -> Frame:
        """Open both sockets and say hello; the `hello` result (session, account, ring)."""
        self._sub = self._context.socket(zmq.SUB)
        self._sub.setsockopt(zmq.LINGER, 0)
        # ZeroMQ's own heartbeats find a half-open connection and reconnect it (the EA's
        # heartbeat events tell the client the same, one layer up).
        self._sub.setsockopt(zmq.HEARTBEAT_IVL, _HEARTBEAT_MS)
        self._sub.setsockopt(zmq.HEARTBEAT_TIMEOUT, 3 * _HEARTBEAT_MS)
        self._sub.setsockopt(zmq.SUBSCRIBE, b"evt.")
        self._sub.connect(self._pub_url)
        self._req = self._open_req()
        hello = await self.call("hello", client=self._name, versions=[VERSION])
        self.sequencer.reset(hello["session"], hello["last_seq"])
        return hello

    def close(self) -> None:
        for sock in (self._req, self._sub):
            if sock is not None:
                sock.close(linger=0)
        self._req = self._sub = None
        self._context.term()

    async def call(self, cmd: str, **args: Any) -> Frame:
        """Send a command (resending after each timeout); its result, or raise."""
        async with self._turn:
            return await self._call(cmd, args)

    async def _call(self, cmd: str, args: dict[str, Any]) -> Frame:
        req_id = f"{self._prefix}-{next(self._ids)}"
        frame = {"v": VERSION, "req_id": req_id, "cmd": cmd, "args": args}
        payload = json.dumps(frame, separators=(",", ":")).encode()
        for attempt in range(self._attempts):
            if attempt:
                self.resends += 1
                self._reopen()
            req = self._req
            assert req is not None, "connect first"
            await req.send(payload)
            try:
                async with asyncio.timeout(self._timeout):
                    answer = await req.recv()
            except TimeoutError:
                continue  # the receive was cancelled; the socket is reopened above
            reply = _reply_of(answer)
            if reply is None:
                # Unreadable: as if lost. The command may have run; resending is safe.
                log.warning("unreadable reply from the EA; resending", cmd=cmd, size=len(answer))
                continue
            return self._answer(cmd, req_id, reply)
        self._reopen()  # a REQ socket that sent and heard nothing cannot send again
        what = f"{cmd}: no reply from the EA after {self._attempts} attempts"
        if cmd in CHANGES:
            raise AmbiguousVenueError(what)
        raise RetryableVenueError(what)

    async def events(self) -> AsyncIterator[Frame | Restarted]:
        """The EA's events, each once and in order; `Restarted` when its session changes."""
        sub = self._sub
        assert sub is not None, "connect first"
        while True:
            topic, payload = await sub.recv_multipart()
            del topic
            self.last_heard = time.monotonic()
            frame = _readable(payload)
            if frame is None:
                # Skipped: its seq is missing now, so the next frame or heartbeat opens a
                # gap and `events_since` fetches it again, whole.
                log.warning("unreadable event frame from the EA; skipped", size=len(payload))
                continue
            for delivered in self.sequencer.accept(frame):
                yield delivered
            async for recovered in self._recover():
                yield recovered

    async def resume(self) -> Frame:
        """After a restart's snapshot: continue with the EA's new session."""
        hello = await self.call("hello", client=self._name, versions=[VERSION])
        self.sequencer.reset(hello["session"], hello["last_seq"])
        return hello

    async def _recover(self) -> AsyncIterator[Frame | Restarted]:
        sequencer = self.sequencer
        while True:
            if sequencer.restarted:
                await self.call("ping")  # its reply names the EA's session now
                yield Restarted(self.session or "")
                return
            since = sequencer.needs
            if since is None:
                return
            back = await self.call("events_since", seq=since)
            if not back["complete"]:
                sequencer.restarted = True  # the ring forgot: as good as a restart
                continue
            for frame in sequencer.recover(back["events"]):
                yield frame

    def _answer(self, cmd: str, req_id: str, reply: Frame) -> Frame:
        if reply.get("req_id") != req_id:
            what = f"{cmd}: a reply to another request ({reply.get('req_id')})"
            if cmd in CHANGES:
                raise AmbiguousVenueError(what)  # ours may have run, its answer elsewhere
            raise RetryableVenueError(what)
        self.session = reply["session"]
        self.sequencer.observe(self.session, reply["last_seq"])
        if reply["ok"]:
            result: Frame = reply["result"]
            return result
        raise error_of(cmd, reply["error"])

    def _open_req(self) -> zmq.asyncio.Socket:
        sock = self._context.socket(zmq.REQ)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self._rep_url)
        return sock

    def _reopen(self) -> None:
        if self._req is not None:
            self._req.close(linger=0)
        self._req = self._open_req()
