"""Where everything the venue says about orders and executions comes in, once.

Websocket updates, REST polls and query answers all pass through `Intake`: translated
(`translate`), checked against what was said before (`tracker`), and the events that
are news put on the stream. Two follow-ups make up for messages that never came:

- an order whose reported cumulative fill runs ahead of the executions seen, after a
  grace period (the execution may simply be behind the order update), has its
  executions fetched by REST; duplicates are dropped by trade id;
- a submit, cancel or replace that the stream has not confirmed after a while is
  looked up by client order id.

A venue message the adapter cannot translate is logged and turned into a
`VenueReconnected`: something happened that ordergate could not follow, and that
event makes the engine mark the account dirty and reconcile.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

import structlog

from ordergate.domain.errors import JournalFenced, VenueError
from ordergate.engine.venue_reports import VenueEvent, VenueFill, VenueOrderReport, VenueReconnected
from ordergate.venues.ccxt.dialects import Dialect, OrderRef
from ordergate.venues.ccxt.errors import UnmappedVenueValue
from ordergate.venues.ccxt.gateway import Gateway
from ordergate.venues.ccxt.markets import MarketDirectory, MarketEntry
from ordergate.venues.ccxt.tracker import OrderTracker, TrackedOrder
from ordergate.venues.ccxt.translate import (
    CcxtOrder,
    CcxtTrade,
    Translator,
    client_order_id_of,
    external_client_order_id,
    text_of,
    venue_order_id_in,
)

log = structlog.get_logger("ordergate.venues.ccxt")

# Fetches of an order's executions before a missing fill is left to reconciliation.
MAX_FILL_FETCHES = 5


def order_ref(client_order_id: str, venue_order_id: str | None = None) -> OrderRef:
    """How to name an order to the venue: by client order id, unless it is an external
    order, which only has the venue's id."""
    external = venue_order_id_in(client_order_id)
    if external is not None:
        return OrderRef(None, external)
    return OrderRef(client_order_id, venue_order_id)


class Intake:
    """Venue facts in, each transition out once; follow-ups for what never came."""

    def __init__(
        self,
        gateway: Gateway,
        dialect: Dialect,
        markets: MarketDirectory,
        translator: Translator,
        tracker: OrderTracker,
        emit: Callable[[list[VenueEvent]], None],
        fill_grace: float,
    ) -> None:
        self._gateway = gateway
        self._dialect = dialect
        self._markets = markets
        self._translator = translator
        self.tracker = tracker
        self._emit = emit
        self._fill_grace = fill_grace
        self._tasks: set[asyncio.Task[None]] = set()
        self._fill_fetches: dict[str, int] = {}

    # --- what the venue said ------------------------------------------------------------

    def orders(self, orders: Iterable[CcxtOrder]) -> list[VenueOrderReport]:
        """Take order updates or snapshots; return them as reports (ordergate's markets)."""
        reports = []
        for order in orders:
            try:
                report = self._translator.order(order)
            except VenueError as exc:
                self._untranslatable("order", order, exc)
                continue
            if report is not None:
                reports.append(report)
                self._emit(self.tracker.on_report(report))
                self._watch_fills(report.client_order_id)
        return reports

    async def trades(self, trades: Iterable[CcxtTrade]) -> None:
        """Take executions; an execution's order is found by REST if nothing names it."""
        for trade in trades:
            found = await self._fill_of(trade)
            if found is not None:
                fill, venue_order_id = found
                self._emit(self.tracker.on_fill(fill, venue_order_id))

    async def fills(self, trades: Iterable[CcxtTrade]) -> list[VenueFill]:
        """Executions as fills, without taking them as news (a listing, not a stream)."""
        fills = []
        for trade in trades:
            found = await self._fill_of(trade)
            if found is not None:
                fills.append(found[0])
        return fills

    async def refresh(self, entry: MarketEntry, ref: OrderRef) -> VenueOrderReport | None:
        """Ask the venue for one order and take its answer as news."""
        found = await self._dialect.find_order(self._gateway, entry, ref)
        if found is None:
            return None
        reports = self.orders([found])
        return reports[0] if reports else None

    def _untranslatable(self, what: str, item: Any, exc: Exception) -> None:
        info = item.get("info") if hasattr(item, "get") else item
        log.error("venue message not understood", what=what, error=str(exc), message=info)
        detail = f"a venue {what} could not be followed ({exc}); state must be reconciled"
        self._emit([VenueReconnected(detail, time.time_ns())])

    # --- follow-ups -----------------------------------------------------------------------

    def confirm_later(self, client_order_id: str, symbol: str, delay: float) -> None:
        """Look the order up if the stream has not confirmed the request in `delay` s."""
        self._later(delay, lambda: self._confirm(client_order_id, symbol))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _confirm(self, client_order_id: str, symbol: str) -> None:
        order = self.tracker.get(client_order_id)
        if order is None or order.final:
            return
        awaited = (
            not order.acknowledged or order.cancel_requested or order.requested_terms is not None
        )
        if awaited and self._markets.has(symbol):
            ref = order_ref(client_order_id, order.venue_order_id)
            await self.refresh(self._markets.entry(symbol), ref)

    def _watch_fills(self, client_order_id: str) -> None:
        order = self.tracker.get(client_order_id)
        if order is None or not order.missing_fills or client_order_id in self._fill_fetches:
            return
        self._fill_fetches[client_order_id] = 0
        self._later(self._fill_grace, lambda: self._fetch_fills(client_order_id))

    async def _fetch_fills(self, client_order_id: str) -> None:
        order = self.tracker.get(client_order_id)
        if order is None or not order.missing_fills:
            self._fill_fetches.pop(client_order_id, None)
            return
        attempt = self._fill_fetches[client_order_id] = self._fill_fetches[client_order_id] + 1
        log.warning(
            "order reports fills the stream did not deliver; fetching them",
            client_order_id=client_order_id,
            reported=str(order.reported_filled),
            streamed=str(order.streamed_filled),
            attempt=attempt,
        )
        try:
            await self._fetch_order_trades(order)
        except VenueError as exc:
            log.warning("fetching an order's executions failed", error=str(exc))
        if order.streamed_filled >= order.reported_filled:
            self._fill_fetches.pop(client_order_id, None)
        elif attempt < MAX_FILL_FETCHES:
            self._later(self._fill_grace * 2**attempt, lambda: self._fetch_fills(client_order_id))
        else:
            self._fill_fetches.pop(client_order_id, None)
            self._emit(
                [
                    VenueReconnected(
                        f"order {client_order_id} reports {order.reported_filled} filled but "
                        f"only {order.streamed_filled} could be found in executions",
                        time.time_ns(),
                    )
                ]
            )

    async def _fetch_order_trades(self, order: TrackedOrder) -> None:
        if not self._markets.has(order.symbol):
            return
        entry = self._markets.entry(order.symbol)
        ref = order_ref(order.client_order_id, order.venue_order_id)
        venue_order_id = order.venue_order_id
        if venue_order_id is None:
            await self.refresh(entry, ref)
            venue_order_id = order.venue_order_id
        if venue_order_id is None:
            return
        trades = await self._dialect.order_trades(self._gateway, entry, ref, venue_order_id)
        await self.trades(trades)

    async def _fill_of(self, trade: CcxtTrade) -> tuple[VenueFill, str | None] | None:
        try:
            entry = self._translator.market_of(trade)
            if entry is None:
                return None
            venue_order_id = text_of(trade.get("order"))
            client_order_id = await self._client_order_id(trade, entry, venue_order_id)
            fill = self._translator.fill(trade, client_order_id)
        except VenueError as exc:
            self._untranslatable("execution", trade, exc)
            return None
        return None if fill is None else (fill, venue_order_id)

    async def _client_order_id(
        self, trade: CcxtTrade, entry: MarketEntry, venue_order_id: str | None
    ) -> str:
        named = self._dialect.trade_client_order_id(trade)
        if named is not None:
            return named
        if venue_order_id is None:
            raise UnmappedVenueValue(f"an execution that names no order: {trade.get('info')}")
        known = self.tracker.client_order_id_of(venue_order_id)
        if known is not None:
            return known
        # Only the name is wanted here: the order itself is not taken as news.
        ref = OrderRef(None, venue_order_id)
        found = await self._dialect.find_order(self._gateway, entry, ref)
        name = (
            external_client_order_id(venue_order_id) if found is None else client_order_id_of(found)
        )
        self.tracker.identified(name, entry.symbol, venue_order_id)
        return name

    def _later(self, delay: float, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        task = asyncio.get_running_loop().create_task(self._after(delay, work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _after(self, delay: float, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        await asyncio.sleep(delay)
        try:
            await work()
        except (VenueError, JournalFenced) as exc:  # fenced: this node may send no more
            log.warning("venue follow-up failed", error=str(exc))
        except Exception:
            log.exception("venue follow-up crashed")
