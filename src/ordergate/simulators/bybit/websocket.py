"""The private websocket (`/v5/private`): auth, ping, subscriptions, and account topics.

A connection authenticates with `op: auth` (see `signing`), may `ping` (answered
`pong`) and subscribes to `order`, `execution`, `position` and `wallet`. The exchange's
batches become one message per record, in batch order, with Bybit's envelope (`id`,
`topic`, `creationTime`, `data`), sent to every authenticated connection subscribed to
the topic. Like Bybit, a subscription gets no snapshot: only changes after it.

Each connection sends from its own queue, so a slow client never blocks the exchange;
websocket faults apply per delivery (see `faults`): a dropped connection loses what
was queued after the drop, as a real disconnect would; a corrupted message (see
`corrupt`) is sent in place of the message, which is lost with it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from typing import Final

import structlog
from aiohttp import WSCloseCode, WSMsgType, web

from ordergate.simulators.bybit.account_payloads import position_ws, wallet_ws
from ordergate.simulators.bybit.corrupt import corrupted
from ordergate.simulators.bybit.errors import BybitError
from ordergate.simulators.bybit.exchange import BybitExchange
from ordergate.simulators.bybit.faults import FaultKind, FaultPlan, FaultRule
from ordergate.simulators.bybit.formats import JsonObject
from ordergate.simulators.bybit.order_payloads import execution_ws, order_ws
from ordergate.simulators.bybit.records import (
    ExecutionRecord,
    OrderRecord,
    PositionRecord,
    StreamItem,
)
from ordergate.simulators.bybit.signing import check_ws_auth
from ordergate.simulators.ids import IdSource

log = structlog.get_logger("ordergate.simulators.bybit")

TOPICS: Final = frozenset(("order", "execution", "position", "wallet"))
NS_PER_MS: Final = 1_000_000


class _Session:
    """One private connection: its state and its outgoing queue (None closes it)."""

    def __init__(self, ws: web.WebSocketResponse, conn_id: str) -> None:
        self.ws = ws
        self.conn_id = conn_id
        self.authenticated = False
        self.topics: set[str] = set()
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.held: str | None = None

    def send(self, message: JsonObject) -> None:
        self.queue.put_nowait(json.dumps(message))

    def deliver(self, text: str, rule: FaultRule | None) -> None:
        """Queue one topic message, as the fault in force (if any) says."""
        fault = None if rule is None else rule.kind
        if rule is not None and rule.kind.corrupts:
            text, fault = corrupted(text, rule), None
        if fault is FaultKind.WS_WITHHOLD:
            return
        if fault is FaultKind.WS_DROP:
            self.drop()
            return
        pending, self.held = self.held, None
        if fault is FaultKind.WS_REORDER:
            self.held = text
        else:
            self.queue.put_nowait(text)
            if fault is FaultKind.WS_DUPLICATE:
                self.queue.put_nowait(text)
        if pending is not None:
            self.queue.put_nowait(pending)

    def drop(self) -> None:
        self.queue.put_nowait(None)

    async def write(self) -> None:
        while True:
            text = await self.queue.get()
            if text is None:
                await self.ws.close(code=WSCloseCode.GOING_AWAY, message=b"simulated drop")
                return
            await self.ws.send_str(text)


class PrivateStream:
    """Every private connection, fed by the exchange's batches."""

    def __init__(
        self,
        exchange: BybitExchange,
        faults: FaultPlan,
        ids: IdSource,
        *,
        api_key: str,
        api_secret: str,
        clock: Callable[[], int],
    ) -> None:
        self._exchange = exchange
        self._faults = faults
        self._ids = ids
        self._api_key = api_key
        self._api_secret = api_secret
        self._clock = clock
        self._sessions: list[_Session] = []
        exchange.subscribe(self.publish)

    def topics(self) -> frozenset[str]:
        """Topics some authenticated connection is subscribed to."""
        return frozenset(
            topic for session in self._sessions if session.authenticated for topic in session.topics
        )

    def drop_all(self) -> None:
        """Close every private connection, as a network drop would."""
        for session in self._sessions:
            session.drop()

    def publish(self, batch: Sequence[StreamItem]) -> None:
        now = self._now_ms()
        for item in batch:
            topic, data = self._format(item)
            message = {"id": self._ids.next("message"), "topic": topic, "creationTime": now}
            text = json.dumps({**message, "data": [data]})
            for session in self._sessions:
                if session.authenticated and topic in session.topics:
                    session.deliver(text, self._faults.websocket(topic))

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """The aiohttp handler of `/v5/private`."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        session = _Session(ws, self._ids.next("connection"))
        self._sessions.append(session)
        writer = asyncio.create_task(session.write())
        try:
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    self._answer(session, message.data)
        finally:
            self._sessions.remove(session)
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
        return ws

    async def close(self) -> None:
        """Close every connection (the server stops)."""
        for session in list(self._sessions):
            await session.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")

    def _answer(self, session: _Session, text: str) -> None:
        """Answer one request; a bug answers a failure instead of closing the connection."""
        try:
            self._receive(session, text)
        except Exception:
            log.exception("simulator_stream_request_failed", conn_id=session.conn_id)
            session.send(_failure(session, "", "Internal System Error.", None))

    def _receive(self, session: _Session, text: str) -> None:
        try:
            request = json.loads(text)
        except json.JSONDecodeError:
            request = None
        if not isinstance(request, dict):
            session.send(_failure(session, "", "error:request is not a JSON object", None))
            return
        op = request.get("op")
        req_id = request.get("req_id")
        args = request.get("args")
        if op == "auth":
            self._authenticate(session, args if isinstance(args, list) else [])
        elif op == "ping":
            pong: JsonObject = {"op": "pong", "args": [str(self._now_ms())]}
            session.send({**_req_id(req_id), **pong, "conn_id": session.conn_id})
        elif op in ("subscribe", "unsubscribe"):
            self._subscribe(session, op, args if isinstance(args, list) else [], req_id)
        else:
            session.send(_failure(session, str(op), f"error:op {op!r} is not supported", req_id))

    def _authenticate(self, session: _Session, args: list[object]) -> None:
        try:
            check_ws_auth(
                args, api_key=self._api_key, api_secret=self._api_secret, now_ms=self._now_ms()
            )
        except BybitError as error:
            session.authenticated = False
            session.send(_auth_reply(session, False, int(error.code), error.message))
            return
        session.authenticated = True
        session.send(_auth_reply(session, True, 0, ""))

    def _subscribe(self, session: _Session, op: str, args: list[object], req_id: object) -> None:
        if not session.authenticated:
            session.send(_failure(session, op, "Request not authorized", req_id))
            return
        invalid = [
            str(topic) for topic in args if not isinstance(topic, str) or topic not in TOPICS
        ]
        if invalid or not args:
            reason = f"Invalid topic: {invalid[0]}" if invalid else "args are empty"
            session.send(_failure(session, op, reason, req_id))
            return
        topics = {str(topic) for topic in args}
        if op == "subscribe":
            session.topics |= topics
        else:
            session.topics -= topics
        session.send(
            {
                "success": True,
                "ret_msg": "",
                "conn_id": session.conn_id,
                **_req_id(req_id),
                "op": op,
            }
        )

    def _format(self, item: StreamItem) -> tuple[str, JsonObject]:
        if isinstance(item, OrderRecord):
            return "order", order_ws(item, self._exchange.specs[item.symbol])
        if isinstance(item, ExecutionRecord):
            return "execution", execution_ws(item, self._exchange.specs[item.symbol])
        if isinstance(item, PositionRecord):
            return "position", position_ws(item, self._exchange.specs[item.symbol])
        return "wallet", wallet_ws(item)

    def _now_ms(self) -> int:
        return self._clock() // NS_PER_MS


def _auth_reply(session: _Session, success: bool, code: int, message: str) -> JsonObject:
    """The answer to `op: auth`, in both of Bybit's spellings: the recorded one
    (`retCode`, `retMsg`, `connId`, as the trade stream answers) and the one Bybit
    documents for the private stream (`ret_msg`, `conn_id`), which NautilusTrader reads."""
    return {
        "op": "auth",
        "success": success,
        "retCode": code,
        "retMsg": message,
        "connId": session.conn_id,
        "ret_msg": message,
        "conn_id": session.conn_id,
    }


def _req_id(req_id: object) -> JsonObject:
    """Bybit echoes a request's `req_id` when the request had one."""
    return {} if req_id is None else {"req_id": req_id}


def _failure(session: _Session, op: str, reason: str, req_id: object) -> JsonObject:
    return {
        "success": False,
        "ret_msg": reason,
        "conn_id": session.conn_id,
        **_req_id(req_id),
        "op": op,
    }
