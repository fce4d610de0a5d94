"""The private websocket streams, a REST poll while they are down, and reconnection.

ccxt.pro's `watch_orders` and `watch_my_trades` are the primary source. Each runs in a
loop that only hands batches on to one processing task: a watch call must be re-issued
at once, or ccxt keeps what arrives meanwhile until the next message wakes it.

When a watch fails (the connection dropped, a ping went unanswered), the stream is
down: open orders and recent executions are polled by REST every `poll_interval`, and
orders that left the open list are looked up one by one. The watch loops keep retrying
with backoff; ccxt reconnects and subscribes again on the next call. The stream counts
as back once every watch has been issued again and ccxt's connection has been up for two
consecutive polls, so the last poll ran after the new subscriptions: nothing falls
between poll and stream. Then a `VenueReconnected` goes out, and the engine reconciles
whatever happened meanwhile. The loops never end on an error: an exception ccxt raises
while handling a message counts as a drop.

A message refused unread (too large, not JSON, or one ccxt's handler chokes on: see
`payloads`) may have been any update, of any order: `unreadable` says so at once with a
`VenueReconnected`, which marks the account in doubt and has it reconciled. The stream
itself keeps running.

Sequence numbers: Bybit's execution `seq` is a cross sequence per symbol, not a
counter of the account's messages, and ccxt's unified structures carry no other; so
events carry `venue_seq=None` and missed messages are found by content instead (an
order's cumulative fill ahead of its executions; see `intake`).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import ccxt  # type: ignore[import-untyped]
import structlog

from ordergate.domain.errors import VenueError
from ordergate.engine.retry import RetryPolicy
from ordergate.engine.venue_reports import VenueEvent, VenueReconnected
from ordergate.venues.ccxt.dialects import Dialect
from ordergate.venues.ccxt.gateway import Gateway
from ordergate.venues.ccxt.intake import Intake, order_ref
from ordergate.venues.ccxt.markets import MarketDirectory

log = structlog.get_logger("ordergate.venues.ccxt")

# Milliseconds of executions polled from before the stream went down: those in flight.
POLL_OVERLAP_MS = 60_000

Batch = tuple[str, list[Any]]


class StreamSupervisor:
    """Runs the watch loops, the one task that processes their batches, and the poller."""

    def __init__(
        self,
        stream_exchange: Any,
        gateway: Gateway,
        dialect: Dialect,
        markets: MarketDirectory,
        intake: Intake,
        emit: Callable[[list[VenueEvent]], None],
        poll_interval: float,
        backoff: RetryPolicy,
    ) -> None:
        self._ws = stream_exchange
        self._gateway = gateway
        self._dialect = dialect
        self._markets = markets
        self._intake = intake
        self._emit = emit
        self._poll_interval = poll_interval
        self._backoff = backoff
        self._rng = random.Random()
        self._batches: asyncio.Queue[Batch] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._poller: asyncio.Task[None] | None = None
        self._down_since_ms: int | None = None
        # Streams whose watch failed and has not been issued again since.
        self._lapsed: set[str] = set()

    @property
    def down(self) -> bool:
        return self._down_since_ms is not None

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._watch("orders", self._ws.watch_orders), name="ccxt-orders"),
            asyncio.create_task(
                self._watch("trades", self._ws.watch_my_trades), name="ccxt-trades"
            ),
            asyncio.create_task(self._process(), name="ccxt-intake"),
        ]

    async def stop(self) -> None:
        tasks = [*self._tasks, *([self._poller] if self._poller else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks, self._poller = [], None

    # --- websocket ------------------------------------------------------------------------

    async def _watch(self, kind: str, watch: Callable[[], Awaitable[list[Any]]]) -> None:
        failures = 0
        while True:
            try:
                self._lapsed.discard(kind)  # this call subscribes again if it has to
                batch = await watch()
            except ccxt.ExchangeClosedByUser:
                return
            except Exception as exc:
                if not isinstance(exc, ccxt.BaseError | aiohttp.ClientError | OSError):
                    # a message ccxt failed to handle: logged, and the stream kept going
                    log.exception("venue stream failed unexpectedly", stream=kind)
                failures += 1
                self._went_down(kind, exc)
            else:
                failures = 0
                self._batches.put_nowait((kind, batch))
                continue
            await asyncio.sleep(self._backoff.delay(failures, self._rng))

    async def _process(self) -> None:
        while True:
            kind, batch = await self._batches.get()
            try:
                if kind == "orders":
                    self._intake.orders(batch)
                else:
                    await self._intake.trades(batch)
            except Exception as exc:
                log.exception("venue stream batch not processed", stream=kind)
                detail = f"a batch of {kind} updates could not be processed ({exc!r})"
                self._emit([VenueReconnected(detail, time.time_ns())])

    def unreadable(self, error: VenueError) -> None:
        """A message was lost to the stream unread: which order it concerned, and so which
        instrument, is unknown, so the whole account is in doubt until reconciled."""
        log.warning("venue stream message unreadable", reason=error.code, detail=error.message)
        detail = f"{error.message}; state must be reconciled"
        self._emit([VenueReconnected(detail, time.time_ns())])

    def _went_down(self, kind: str, exc: BaseException) -> None:
        self._lapsed.add(kind)
        if self.down:
            return
        log.warning("venue stream down; polling", stream=kind, error=str(exc))
        self._down_since_ms = int(time.time() * 1000)
        self._poller = asyncio.create_task(self._poll_until_back(), name="ccxt-poller")

    def _connected(self) -> bool:
        """Whether ccxt holds an open websocket connection (it only opens private ones)."""
        for client in (getattr(self._ws, "clients", None) or {}).values():
            ready = client.connected
            opened = ready.done() and not ready.cancelled() and ready.exception() is None
            if opened and not client.closed():
                return True
        return False

    # --- REST while the stream is down ----------------------------------------------------

    async def _poll_until_back(self) -> None:
        up_polls = 0
        while True:
            try:
                await self._poll()
            except Exception as exc:
                log.warning("venue poll failed", error=repr(exc))
                up_polls = 0
            else:
                back = not self._lapsed and self._connected()
                up_polls = up_polls + 1 if back else 0
            if up_polls >= 2:
                break
            await asyncio.sleep(self._poll_interval)
        down_for = int(time.time() * 1000) - (self._down_since_ms or 0)
        self._down_since_ms = None
        self._poller = None
        log.info("venue stream back", down_ms=down_for)
        detail = f"private stream reconnected after {down_for} ms"
        self._emit([VenueReconnected(detail, time.time_ns())])

    async def _poll(self) -> None:
        """Catch up by REST: open orders, recent executions, and what left the open list."""
        since = None if self._down_since_ms is None else self._down_since_ms - POLL_OVERLAP_MS
        still_open: set[str] = set()
        for entry in self._markets.entries:
            orders = await self._dialect.open_orders(self._gateway, entry)
            still_open |= {r.client_order_id for r in self._intake.orders(orders)}
            trades = await self._dialect.my_trades(self._gateway, entry, since)
            await self._intake.trades(trades)
        for order in self._intake.tracker.working():
            if order.client_order_id not in still_open and self._markets.has(order.symbol):
                entry = self._markets.entry(order.symbol)
                ref = order_ref(order.client_order_id, order.venue_order_id)
                await self._intake.refresh(entry, ref)
