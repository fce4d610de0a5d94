"""What tests of venues share: a recorder of everything a venue streams, and the ccxt
adapter connected to a Bybit simulator on a free loopback port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, TypeVar

from ordergate.domain.limits import Rate
from ordergate.engine.ports import Venue
from ordergate.engine.retry import RetryPolicy
from ordergate.engine.venue_reports import VenueEvent, VenueFill
from ordergate.matching import ExecutionRules
from ordergate.simulators.bybit import BybitSimulator, SimulatorConfig, ccxt_settings
from ordergate.venues.ccxt import CcxtVenue, CcxtVenueConfig
from tests.waiting import TIMEOUT

E = TypeVar("E")
WAIT_SECONDS = TIMEOUT


@dataclass
class EventLog:
    """Everything a venue streamed, read by one background task."""

    events: list[VenueEvent] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def record(self, stream: AsyncIterator[VenueEvent]) -> None:
        async for event in stream:
            async with self._changed:
                self.events.append(event)
                self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[], bool], what: str) -> None:
        """Wait until `predicate()` holds; fail the test naming `what` if it never does."""

        async def satisfied() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        try:
            await asyncio.wait_for(satisfied(), WAIT_SECONDS)
        except TimeoutError:
            kinds = [type(e).__name__ for e in self.events]
            raise AssertionError(f"timed out waiting for {what}; streamed: {kinds}") from None

    def of(self, client_order_id: str) -> list[VenueEvent]:
        return [e for e in self.events if getattr(e, "client_order_id", None) == client_order_id]

    def fills(self, client_order_id: str | None = None) -> list[VenueFill]:
        return [
            e
            for e in self.events
            if isinstance(e, VenueFill) and client_order_id in (None, e.client_order_id)
        ]

    def filled(self, client_order_id: str) -> Decimal:
        return sum((f.qty for f in self.fills(client_order_id)), Decimal(0))

    def of_kind(self, kind: type[E], client_order_id: str) -> list[E]:
        return [e for e in self.of(client_order_id) if isinstance(e, kind)]

    def count(self, kind: type, client_order_id: str) -> int:
        return len(self.of_kind(kind, client_order_id))


@contextmanager
def loop_errors() -> Iterator[list[dict[str, Any]]]:
    """What reaches the event loop's exception handler meanwhile: a callback or a task
    that died with an exception nobody awaited (ccxt's websocket receive loop, for one)."""
    loop = asyncio.get_running_loop()
    seen: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: seen.append(context))
    try:
        yield seen
    finally:
        loop.set_exception_handler(previous)


@asynccontextmanager
async def recording(venue: Venue) -> AsyncIterator[EventLog]:
    """Record `venue.events()` for the duration of the block."""
    log = EventLog()
    reader = asyncio.create_task(log.record(venue.events()))
    try:
        yield log
    finally:
        reader.cancel()
        with suppress(asyncio.CancelledError):
            await reader


@asynccontextmanager
async def bybit_sim_venue(
    account: str,
    symbol: str,
    cash: Decimal,
    passive_cap: Decimal,
    *,
    timeout_ms: int = 2_000,
    **config: Any,
) -> AsyncIterator[tuple[BybitSimulator, CcxtVenue]]:
    """A manual-market Bybit simulator and a connected `CcxtVenue` trading `symbol` on it.

    Resting orders fill at most `passive_cap` per market step. Polls and follow-ups are
    fast, so faults resolve in fractions of a second; `config` overrides any field of the
    venue's `CcxtVenueConfig`.
    """
    sim = BybitSimulator(
        SimulatorConfig(
            balances={"USDT": cash},
            market="manual",
            execution_rules={symbol: ExecutionRules(max_passive_qty_per_step=passive_cap)},
            withhold_seconds=timeout_ms / 1000 + 1,
        )
    )
    await sim.start(host="127.0.0.1", port=0)
    api_key, api_secret = sim.api_credentials
    venue_config = replace(
        CcxtVenueConfig(
            exchange_id="bybit",
            account=account,
            symbols=(symbol,),
            market_type="swap",
            api_key=api_key,
            api_secret=api_secret,
            live=False,
            overrides=ccxt_settings(sim, timeout_ms=timeout_ms),
            request_rate=Rate(Decimal(200), 50),
            retry=RetryPolicy(max_attempts=4, base_delay=0.02, max_delay=0.2),
            poll_interval=0.1,
            confirm_after=0.3,
            fill_grace=0.1,
        ),
        **config,
    )
    venue = CcxtVenue(venue_config)
    try:
        await venue.connect()
        yield sim, venue
    finally:
        await venue.disconnect()
        await sim.stop()
