"""The trade websocket (`/v5/trade`): orders placed, amended and cancelled over a socket.

A connection authenticates with `op: auth` exactly as on the private stream (see
`signing`) and is answered in the trade stream's spelling (`retCode`, `retMsg`, `op`,
`connId`: the recorded `ws_auth_success`). It may `ping` (answered `pong`). Then each
`{"reqId", "header", "op", "args": [params]}` (the header is not read) with `op` one of
`order.create`, `order.amend`, `order.cancel` is worked by the same handlers, checks and
exchange as
the REST routes `/v5/order/create|amend|cancel`, counted against the same per-endpoint
rate limit (Bybit shares the quota between the two), and answered with the request's
`reqId`: `{"reqId", "retCode", "retMsg", "op", "data": {"orderId", "orderLinkId"},
"connId"}` as the recorded `ws_order_response` has it. An error is Bybit's return code
with empty `data`. The order's updates arrive on the private stream, as after a REST
request.

Not served: the batch operations (`order.create-batch` and the others are answered
`10001`), and the fault plan (faults apply to REST and the private stream only).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Final

import structlog
from aiohttp import WSCloseCode, WSMsgType, web

from ordergate.simulators.bybit.errors import BybitError, RetCode
from ordergate.simulators.bybit.formats import JsonObject
from ordergate.simulators.bybit.params import Params
from ordergate.simulators.bybit.ratelimit import RateLimiter
from ordergate.simulators.bybit.signing import check_ws_auth
from ordergate.simulators.ids import IdSource

log = structlog.get_logger("ordergate.simulators.bybit")

TRADE_PATH: Final = "/v5/trade"
NS_PER_MS: Final = 1_000_000
Operation = Callable[[Params], JsonObject]


class TradeStream:
    """Every trade connection; `operations` maps an `op` to (its REST path, its handler)."""

    def __init__(
        self,
        operations: dict[str, tuple[str, Operation]],
        limiter: RateLimiter,
        ids: IdSource,
        *,
        api_key: str,
        api_secret: str,
        clock: Callable[[], int],
    ) -> None:
        self._operations = operations
        self._limiter = limiter
        self._ids = ids
        self._api_key = api_key
        self._api_secret = api_secret
        self._clock = clock
        self._sockets: set[web.WebSocketResponse] = set()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """The aiohttp handler of `/v5/trade`."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        conn_id = self._ids.next("connection")
        authenticated = False
        self._sockets.add(ws)
        try:
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    continue
                answer, authenticated = self._answer(message.data, conn_id, authenticated)
                await ws.send_str(json.dumps(answer))
        finally:
            self._sockets.discard(ws)
        return ws

    async def close(self) -> None:
        """Close every connection (the server stops)."""
        await asyncio.gather(
            *(
                ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
                for ws in self._sockets
            ),
            return_exceptions=True,
        )

    def _answer(self, text: str, conn_id: str, authenticated: bool) -> tuple[JsonObject, bool]:
        """The answer to one request, and whether the connection is authenticated now."""
        try:
            request = json.loads(text)
        except json.JSONDecodeError:
            request = None
        if not isinstance(request, dict):
            return _reply(
                None, "", conn_id, RetCode.PARAMS_ERROR, "request is not a JSON object"
            ), authenticated
        op = str(request.get("op", ""))
        req_id = request.get("reqId")
        args = request.get("args")
        if op == "auth":
            return self._authenticate(args if isinstance(args, list) else [], conn_id)
        if op == "ping":
            return {"op": "pong", "args": [str(self._now_ms())], "connId": conn_id}, authenticated
        if op not in self._operations:
            return _reply(
                req_id, op, conn_id, RetCode.PARAMS_ERROR, f"op {op!r} is not supported"
            ), authenticated
        if not authenticated:
            return _reply(
                req_id, op, conn_id, RetCode.INVALID_API_KEY, "Request not authorized"
            ), False
        params = args[0] if isinstance(args, list) and args and isinstance(args[0], dict) else {}
        return self._execute(op, req_id, conn_id, params), True

    def _authenticate(self, args: list[object], conn_id: str) -> tuple[JsonObject, bool]:
        try:
            check_ws_auth(
                args, api_key=self._api_key, api_secret=self._api_secret, now_ms=self._now_ms()
            )
        except BybitError as error:
            return {
                "retCode": int(error.code),
                "retMsg": error.message,
                "op": "auth",
                "connId": conn_id,
            }, False
        return {"retCode": 0, "retMsg": "OK", "op": "auth", "connId": conn_id}, True

    def _execute(
        self, op: str, req_id: object, conn_id: str, params: dict[str, object]
    ) -> JsonObject:
        path, handler = self._operations[op]
        limit = self._limiter.admit(path)
        if limit is not None and not limit.allowed:
            message = "Too many visits. Exceeded the API Rate Limit."
            return _reply(req_id, op, conn_id, RetCode.RATE_LIMITED, message)
        try:
            data = handler(Params(params))
        except BybitError as error:
            return _reply(req_id, op, conn_id, error.code, error.message)
        except Exception:
            log.exception("simulator_trade_request_failed", op=op, conn_id=conn_id)
            return _reply(req_id, op, conn_id, RetCode.SERVER_ERROR, "Internal System Error.")
        return {**_reply(req_id, op, conn_id, RetCode.OK, "OK"), "data": data}

    def _now_ms(self) -> int:
        return self._clock() // NS_PER_MS


def _reply(req_id: object, op: str, conn_id: str, code: RetCode | int, message: str) -> JsonObject:
    """The recorded answer's keys; `data` is empty unless the request was carried out."""
    echoed: JsonObject = {} if req_id is None else {"reqId": req_id}
    return {
        "op": op,
        "retCode": int(code),
        "retMsg": message,
        "connId": conn_id,
        **echoed,
        "data": {},
    }
