"""HTTP control of a simulator run as its own process: `/sim/...` (no auth: loopback).

    POST   /sim/quote        {"symbol", "bid", "ask", "last"?}    one manual market step
    GET    /sim/orders       ?symbol=                              every order, oldest first
    GET    /sim/executions   ?symbol=                              every execution
    GET    /sim/positions                                          open positions
    GET    /sim/wallet                                             the unified wallet
    GET    /sim/faults                                             rules in force, faults fired
    POST   /sim/faults       {"kind", "scope"?, "count"?, ...}     add a rule (see `faults`)
    DELETE /sim/faults                                             remove every rule
    POST   /sim/ws/drop                                            close private connections
    GET    /sim/ws/topics                                          topics subscribed
    GET    /sim/requests     ?path=                                REST requests seen, oldest
                                                                   first: ms, method, path,
                                                                   client (X-Ordergate-Node)

Records are answered in the same JSON as Bybit's REST lists; a refused request is
answered HTTP 400 with `{"error": ...}`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation

from aiohttp import web

from ordergate.domain.errors import InvalidRequest
from ordergate.simulators.bybit.account_payloads import position_rest, wallet_rest
from ordergate.simulators.bybit.exchange import BybitExchange
from ordergate.simulators.bybit.faults import DEFAULT_OVERSIZE, FaultKind, FaultPlan, FaultRule
from ordergate.simulators.bybit.formats import JsonObject
from ordergate.simulators.bybit.order_payloads import execution_rest, order_rest
from ordergate.simulators.bybit.rest import RequestSeen
from ordergate.simulators.bybit.websocket import PrivateStream

QuoteSetter = Callable[[str, Decimal, Decimal, Decimal | None], None]
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ControlApi:
    def __init__(
        self,
        exchange: BybitExchange,
        faults: FaultPlan,
        stream: PrivateStream,
        set_quote: QuoteSetter,
        requests: Callable[[], list[RequestSeen]],
    ) -> None:
        self._requests = requests
        self._exchange = exchange
        self._faults = faults
        self._stream = stream
        self._set_quote = set_quote

    def install(self, app: web.Application) -> None:
        routes: list[tuple[str, str, _Handler]] = [
            ("POST", "/sim/quote", self.quote),
            ("GET", "/sim/orders", self.orders),
            ("GET", "/sim/executions", self.executions),
            ("GET", "/sim/positions", self.positions),
            ("GET", "/sim/wallet", self.wallet),
            ("GET", "/sim/faults", self.fault_rules),
            ("POST", "/sim/faults", self.add_fault),
            ("DELETE", "/sim/faults", self.clear_faults),
            ("POST", "/sim/ws/drop", self.drop_connections),
            ("GET", "/sim/ws/topics", self.topics),
            ("GET", "/sim/requests", self.requests),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, path, _refusing_bad_requests(handler))

    async def quote(self, request: web.Request) -> web.Response:
        body = await _json_object(request)
        last = body.get("last")
        self._set_quote(
            _text(body, "symbol"),
            _decimal(body.get("bid"), "bid"),
            _decimal(body.get("ask"), "ask"),
            None if last is None else _decimal(last, "last"),
        )
        return web.json_response({"ok": True})

    async def orders(self, request: web.Request) -> web.Response:
        symbol = request.query.get("symbol")
        specs = self._exchange.specs
        listed = [
            order_rest(order, specs[order.symbol])
            for order in self._exchange.orders()
            if symbol in (None, order.symbol)
        ]
        return web.json_response({"orders": listed})

    async def executions(self, request: web.Request) -> web.Response:
        symbol = request.query.get("symbol")
        specs = self._exchange.specs
        listed = [
            execution_rest(execution, specs[execution.symbol])
            for execution in self._exchange.executions()
            if symbol in (None, execution.symbol)
        ]
        return web.json_response({"executions": listed})

    async def positions(self, request: web.Request) -> web.Response:
        specs = self._exchange.specs
        listed = [position_rest(p, specs[p.symbol]) for p in self._exchange.positions()]
        return web.json_response({"positions": listed})

    async def wallet(self, request: web.Request) -> web.Response:
        return web.json_response({"wallet": wallet_rest(self._exchange.wallet())})

    async def fault_rules(self, request: web.Request) -> web.Response:
        rules = [
            {**_rule_json(rule), "remaining": remaining} for rule, remaining in self._faults.rules()
        ]
        fired = [
            {"kind": fault.kind.value, "scope": fault.scope, "target": fault.target}
            for fault in self._faults.fired
        ]
        return web.json_response({"rules": rules, "fired": fired})

    async def add_fault(self, request: web.Request) -> web.Response:
        body = await _json_object(request)
        try:
            rule = FaultRule(
                kind=FaultKind(_text(body, "kind")),
                scope=str(body.get("scope", "*")),
                count=_optional_int(body.get("count"), "count"),
                probability=float(_number(body.get("probability", 1.0), "probability")),
                delay=float(_number(body.get("delay", 0.0), "delay")),
                status=int(_number(body.get("status", 503), "status")),
                drop_connection=bool(body.get("drop_connection", True)),
                size=int(_number(body.get("size", DEFAULT_OVERSIZE), "size")),
            )
        except ValueError as exc:
            raise InvalidRequest(f"invalid fault: {exc}") from exc
        self._faults.add(rule)
        return web.json_response({"rule": _rule_json(rule)})

    async def clear_faults(self, request: web.Request) -> web.Response:
        self._faults.clear()
        return web.json_response({"ok": True})

    async def drop_connections(self, request: web.Request) -> web.Response:
        self._stream.drop_all()
        return web.json_response({"ok": True})

    async def requests(self, request: web.Request) -> web.Response:
        path = request.query.get("path")
        seen = [
            {"ms": r.ms, "method": r.method, "path": r.path, "client": r.client}
            for r in self._requests()
            if path in (None, r.path)
        ]
        return web.json_response({"requests": seen})

    async def topics(self, request: web.Request) -> web.Response:
        return web.json_response({"topics": sorted(self._stream.topics())})


def _refusing_bad_requests(handler: _Handler) -> _Handler:
    async def refusing(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except InvalidRequest as exc:
            return web.json_response({"error": exc.message}, status=400)

    return refusing


def _rule_json(rule: FaultRule) -> JsonObject:
    return {
        "kind": rule.kind.value,
        "scope": rule.scope,
        "count": rule.count,
        "probability": rule.probability,
        "delay": rule.delay,
        "status": rule.status,
        "drop_connection": rule.drop_connection,
        "size": rule.size,
    }


async def _json_object(request: web.Request) -> dict[str, object]:
    try:
        body = json.loads(await request.text())
    except json.JSONDecodeError as exc:
        raise InvalidRequest("the body is not JSON") from exc
    if not isinstance(body, dict):
        raise InvalidRequest("the body is not a JSON object")
    return body


def _text(body: dict[str, object], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"{name} is required")
    return value


def _decimal(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidRequest(f"{name} must be a decimal string")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise InvalidRequest(f"{name} {value!r} is not a number") from exc


def _number(value: object, name: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequest(f"{name} must be a number")
    return value


def _optional_int(value: object, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"{name} must be an integer")
    return value
