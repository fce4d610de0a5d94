"""The Python API: ordergate embedded in a strategy's own process.

    async with Oms(Settings(db="bot.db")) as oms:
        order = await oms.place("BTCUSDT", Side.BUY, Decimal("0.01"), idempotency_key="k1")

`BlockingOms` offers the same calls to synchronous code, running the engine on an event
loop in a background thread. Both answer with the same immutable views the REST API
serves, taken after the journal commit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from decimal import Decimal
from types import TracebackType
from typing import Any, TypeVar

from ordergate.app.application import Application
from ordergate.app.bootstrap import build
from ordergate.config.settings import Settings
from ordergate.domain.accounts import CurrencyMargin
from ordergate.domain.errors import EngineStopped, InvalidRequest
from ordergate.domain.values import OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.commands import (
    CancelOrder,
    CloseAll,
    ClosePosition,
    PlaceOrder,
    ReplaceOrder,
    SetTargets,
)
from ordergate.engine.engine import Engine
from ordergate.engine.placement import Preview
from ordergate.engine.queries import PENDING, FillFilter, OrderFilter, Page, PageRequest
from ordergate.engine.reconcile import ReconciliationReport, Scope
from ordergate.engine.results import CloseAllResult, TargetsResult
from ordergate.engine.subscriptions import JournaledEvent
from ordergate.engine.target_views import TargetView, target_views
from ordergate.engine.trading import account_margin
from ordergate.engine.views import FillView, OrderView, PositionView

T = TypeVar("T")


class Oms:
    """An embedded ordergate: journal, venue and engine in this process."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self._app: Application | None = None

    async def __aenter__(self) -> Oms:
        self._app = await build(self.settings)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._app is not None:
            app, self._app = self._app, None
            await app.aclose()

    @property
    def app(self) -> Application:
        if self._app is None:
            raise EngineStopped("use `async with Oms(...)` before calling it")
        return self._app

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
        """Place an order; with `wait`, return once the venue has answered (or timed out).

        `price_at_offset`: a LIMIT sent without a price, priced at the offset from the
        touch that the risk limits configure (globally, or per strategy: seed 003's
        `limit_offset_bps` / `limit_offset_abs`), within `max_slippage_bps`."""
        app = self.app
        result = await app.trading.place(
            PlaceOrder(
                account=account or app.settings.default_account,
                symbol=symbol,
                side=side,
                qty=qty,
                type=type,
                price=price,
                stop_price=stop_price,
                time_in_force=time_in_force,
                reduce_only=reduce_only,
                stop_loss=stop_loss,
                take_profit=take_profit,
                idempotency_key=idempotency_key,
                strategy=strategy,
                trace_id=trace_id,
                price_at_offset=price_at_offset,
            )
        )
        return await self._settled(result.order, wait)

    async def cancel(
        self, order_id: str, reason: str | None = None, wait: bool = True
    ) -> OrderView:
        return await self._settled(
            await self.app.trading.cancel(CancelOrder(order_id, reason)), wait
        )

    async def replace(
        self,
        order_id: str,
        *,
        qty: Decimal | None = None,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
        wait: bool = True,
    ) -> OrderView:
        command = ReplaceOrder(order_id, qty=qty, price=price, stop_price=stop_price)
        return await self._settled(await self.app.trading.replace(command), wait)

    async def close_position(
        self, symbol: str, qty: Decimal | None = None, account: str | None = None
    ) -> OrderView:
        app = self.app
        command = ClosePosition(account or app.settings.default_account, symbol, qty)
        return await self._settled(await app.trading.close_position(command), True)

    async def close_all(self, account: str | None = None) -> CloseAllResult:
        return await self.app.trading.close_all(CloseAll(account=account))

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
        """Take each position to its target ({symbol: signed qty}) with `strategy`'s orders.

        Journaled, then worked once against the worst case (open and in-flight orders
        count as filled), so no position passes its target; the same `idempotency_key`
        sent again places nothing. Each symbol's step says what was placed, or why not.
        """
        app = self.app
        command = SetTargets(
            account=account or app.settings.default_account,
            strategy=strategy,
            targets=tuple(targets.items()),
            order_type=order_type,
            idempotency_key=idempotency_key,
            trace_id=trace_id,
        )
        return await app.trading.set_targets(command)

    async def targets(
        self, account: str | None = None, strategy: str | None = None
    ) -> list[TargetView]:
        """Each target held, beside the position, what works toward it, and the gap."""
        app = self.app
        return await target_views(app.trading, app.reads, account, strategy)

    async def order(self, order_id: str) -> OrderView | None:
        return await self.app.reads.order(order_id)

    def subscribe(self, callback: Callable[[JournaledEvent], None]) -> Callable[[], None]:
        """Call `callback` with every event once journaled (fills, cancels, rejects, ...),
        in journal order; returns a function that unsubscribes. It runs on the engine's
        event loop: keep it short, hand longer work elsewhere."""
        return self._embedded_engine().subscribe(callback)

    def events(self) -> AsyncIterator[JournaledEvent]:
        """Every event once journaled, from now on: `async for item in oms.events(): ...`."""
        return self._embedded_engine().stream()

    def _embedded_engine(self) -> Engine:
        partition = self.app.partition
        if partition is None:
            raise InvalidRequest(
                "a cluster node's partitions come and go: read its events from RabbitMQ "
                "(the event relay) instead of subscribing in process"
            )
        return partition.engine

    async def preview(self, symbol: str, side: Side, qty: Decimal, **terms: Any) -> Preview:
        """What placing the order would do now: estimates and every denial. Nothing is sent."""
        app = self.app
        account = terms.pop("account", None) or app.settings.default_account
        return await app.trading.preview(PlaceOrder(account, symbol, side, qty, **terms))

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
        where = OrderFilter(account=account, symbol=symbol, statuses=statuses, strategy=strategy)
        return await self.app.reads.orders(where, PageRequest(limit=limit, cursor=cursor))

    async def pending_orders(
        self,
        *,
        symbol: str | None = None,
        strategy: str | None = None,
        account: str | None = None,
    ) -> list[OrderView]:
        """Every order not yet final (sent, working, or in doubt), oldest first: what a bot
        keeps as its pending orders, from ordergate's own record."""
        where = OrderFilter(account=account, symbol=symbol, statuses=PENDING, strategy=strategy)
        pending: list[OrderView] = []
        cursor: str | None = None
        while True:
            page = await self.app.reads.orders(where, PageRequest(limit=500, cursor=cursor))
            pending += page.items
            cursor = page.next_cursor
            if cursor is None:
                return sorted(pending, key=lambda o: o.created_ts)

    async def reconcile(self, account: str | None = None) -> list[ReconciliationReport]:
        """Compare ordergate with the venue now (open orders, fills, positions) and apply
        the reconciliation policy: a bot's "sync with the broker"."""
        accounts = None if account is None else [account]
        return await self.app.trading.reconcile_accounts(accounts, Scope.ALL)

    async def fills(
        self, *, order_id: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> Page[FillView]:
        return await self.app.reads.fills(
            FillFilter(order_id=order_id), PageRequest(limit=limit, cursor=cursor)
        )

    async def positions(self, account: str | None = None) -> list[PositionView]:
        return [p for p in await self.app.reads.positions(account) if p.qty]

    async def account(self, account: str | None = None) -> dict[str, CurrencyMargin]:
        """Balance, equity, used and free margin per currency, at current marks."""
        app = self.app
        return await account_margin(app.trading, app.reads, account or app.settings.default_account)

    async def _settled(self, view: OrderView, wait: bool) -> OrderView:
        if not wait:
            return view
        app = self.app
        return await app.trading.wait_for_venue(view.order_id, app.settings.api_wait_ms / 1000)
