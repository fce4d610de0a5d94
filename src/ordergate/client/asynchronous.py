"""`AsyncClient`: the Python API of a running ordergate server, over its REST API."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from decimal import Decimal
from types import TracebackType
from typing import Any, TypeVar

import httpx

from ordergate.client import calls
from ordergate.client.calls import Call
from ordergate.client.retry import (
    DEFAULT_TIMEOUT,
    Attempts,
    RetryPolicy,
    outcome,
    request_for,
)
from ordergate.domain.accounts import CurrencyMargin
from ordergate.domain.values import OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.placement import Preview
from ordergate.engine.queries import PENDING, Page
from ordergate.engine.reconcile import ReconciliationReport
from ordergate.engine.results import CloseAllResult, TargetsResult
from ordergate.engine.target_views import TargetView
from ordergate.engine.views import FillView, OrderView, PositionView

T = TypeVar("T")


class AsyncClient:
    """The calls of `Oms`, made to a server: the same names, arguments and answers.

        async with AsyncClient("http://127.0.0.1:8000", api_key=KEY) as oms:
            order = await oms.place("BTCUSDT", Side.BUY, Decimal("0.01"))

    Errors are the classes `Oms` raises, decoded from the answer's `reason_code`, with
    the request's `trace_id`; a call that got no answer raises `ServerUnreachable`.
    `retry` says how 429/503 with `Retry-After` and lost connections are retried.

    Not here: `Oms.subscribe` and `Oms.events` (the journal's events in process), since
    the API's one stream, `GET /v1/stream`, is the blotter's, outside the OpenAPI
    contract and not served by a cluster node; `ordergate.client.follow` polls the orders
    and fills instead. `close_all` needs a key with the `admin` scope.
    """

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self.retry = retry or RetryPolicy()
        self._http = httpx.AsyncClient(
            base_url=url, headers={"X-API-Key": api_key}, timeout=timeout, transport=transport
        )

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, call: Call[T]) -> T:
        """Send `call`, retried as `retry` allows, and read its answer."""
        attempts = Attempts(self.retry, call)
        request = request_for(self._http, call)
        while True:
            try:
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                await asyncio.sleep(attempts.after_failure(exc))
                continue
            wait = attempts.after_answer(response)
            if wait is None:
                return outcome(call, response)
            await asyncio.sleep(wait)

    async def place(
        self,
        symbol: str,
        side: Side,
        qty: Decimal,
        type: OrderType = OrderType.MARKET,
        *,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        reduce_only: bool = False,
        stop_loss: Decimal | None = None,
        take_profit: Decimal | None = None,
        idempotency_key: str | None = None,
        strategy: str | None = None,
        account: str | None = None,
        trace_id: str | None = None,
        wait: bool = True,
        price_at_offset: bool = False,
    ) -> OrderView:
        """Place an order (`POST /v1/orders`); with `wait`, answer once the venue has.

        Without `idempotency_key` one is made for the call, so its retries never place
        a second order."""
        return await self.send(
            calls.place(
                symbol,
                side,
                qty,
                type,
                price=price,
                stop_price=stop_price,
                time_in_force=time_in_force,
                reduce_only=reduce_only,
                stop_loss=stop_loss,
                take_profit=take_profit,
                idempotency_key=idempotency_key,
                strategy=strategy,
                account=account,
                trace_id=trace_id,
                wait=wait,
                price_at_offset=price_at_offset,
            )
        )

    async def cancel(
        self, order_id: str, reason: str | None = None, wait: bool = True
    ) -> OrderView:
        return await self.send(calls.cancel(order_id, reason, wait))

    async def replace(
        self,
        order_id: str,
        *,
        qty: Decimal | None = None,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
        wait: bool = True,
    ) -> OrderView:
        return await self.send(
            calls.replace(order_id, qty=qty, price=price, stop_price=stop_price, wait=wait)
        )

    async def close_position(
        self, symbol: str, qty: Decimal | None = None, account: str | None = None
    ) -> OrderView:
        return await self.send(calls.close_position(symbol, qty, account))

    async def set_targets(
        self,
        targets: Mapping[str, Decimal],
        *,
        strategy: str,
        account: str | None = None,
        idempotency_key: str | None = None,
        order_type: OrderType = OrderType.MARKET,
        trace_id: str | None = None,
    ) -> TargetsResult:
        """Set target positions (`POST /v1/targets`); a key is made for the call if none
        is given, so a retry never works the targets twice."""
        return await self.send(
            calls.set_targets(
                targets,
                strategy=strategy,
                account=account,
                idempotency_key=idempotency_key,
                order_type=order_type,
                trace_id=trace_id,
            )
        )

    async def targets(
        self, account: str | None = None, strategy: str | None = None
    ) -> list[TargetView]:
        """Each target beside the position, what works toward it, and the gap."""
        return await self.send(calls.targets(account, strategy))

    async def close_all(self, account: str | None = None) -> CloseAllResult:
        return await self.send(calls.close_all(account))

    async def order(self, order_id: str) -> OrderView | None:
        return await self.send(calls.order(order_id))

    async def preview(self, symbol: str, side: Side, qty: Decimal, **terms: Any) -> Preview:
        """What placing the order would do now: estimates and every denial. Nothing is sent."""
        return await self.send(calls.preview(symbol, side, qty, **terms))

    async def orders(
        self,
        *,
        symbol: str | None = None,
        statuses: frozenset[OrderStatus] | None = None,
        strategy: str | None = None,
        account: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[OrderView]:
        return await self.send(
            calls.orders(
                symbol=symbol,
                statuses=statuses,
                strategy=strategy,
                account=account,
                limit=limit,
                cursor=cursor,
            )
        )

    async def fills(
        self, *, order_id: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> Page[FillView]:
        return await self.send(calls.fills(order_id=order_id, limit=limit, cursor=cursor))

    async def pending_orders(
        self,
        *,
        symbol: str | None = None,
        strategy: str | None = None,
        account: str | None = None,
    ) -> list[OrderView]:
        """Every order not yet final, oldest first (`GET /v1/orders`, page by page)."""
        pending: list[OrderView] = []
        cursor: str | None = None
        while True:
            page = await self.send(
                calls.orders(
                    symbol=symbol,
                    statuses=PENDING,
                    strategy=strategy,
                    account=account,
                    limit=500,
                    cursor=cursor,
                )
            )
            pending += page.items
            cursor = page.next_cursor
            if cursor is None:
                return sorted(pending, key=lambda o: o.created_ts)

    async def reconcile(self, account: str | None = None) -> list[ReconciliationReport]:
        """Compare ordergate with the venue now and apply the policy (`POST /v1/reconcile`)."""
        return await self.send(calls.reconcile(account))

    async def positions(self, account: str | None = None) -> list[PositionView]:
        return await self.send(calls.positions(account))

    async def account(self, account: str | None = None) -> dict[str, CurrencyMargin]:
        """Balance, equity, used and free margin per currency, at current marks."""
        return await self.send(calls.account(account))
