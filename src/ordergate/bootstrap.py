"""The composition root: settings → store, venue, engine. Nothing is built at import time.

Start-up order matters and is the same every time:
1. open the journal and fold it into state (replay);
2. open the venue (`venue_wiring`): for the paper venue, move its market clock past the
   journal's last event and re-seed it with the journal's open orders, positions and
   cash (a simulated venue has no other memory); a ccxt venue connects and loads its
   markets, which become the instruments;
3. start the engine: it journals changed instruments and settles orders a crash left in
   doubt (asking the venue by client order id, never resubmitting blindly);
4. give accounts the journal has never seen their opening cash (configured for paper,
   reported by the venue otherwise);
5. reconcile with the venue, then start the market data (paper pace, ticker polls).

The API key store sits beside the journal (same SQLite file, its own tables and
connection; in memory for `:memory:`). It is opened here unless the caller passes one
(`ordergate serve` opens it first, to create and print the first admin key).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import structlog

from ordergate.auth.ports import KeyStore
from ordergate.auth.provision import open_key_store
from ordergate.bus.connection import connect
from ordergate.bus.topology import SignalTopology, declare_signal_queue
from ordergate.domain.accounts import CurrencyMargin, margin_by_currency
from ordergate.domain.errors import InvalidRequest, JournalCorrupted
from ordergate.domain.limits import LimitsBook
from ordergate.domain.values import OrderType
from ordergate.engine.commands import AdjustBalance
from ordergate.engine.engine import Engine
from ordergate.engine.ports import (
    Clock,
    MarketData,
)
from ordergate.engine.queries import ReadModels
from ordergate.engine.reconcile import ReconcilePolicy, Reconciler, Remedy
from ordergate.engine.views import OrderView
from ordergate.messaging import Messaging, open_messaging
from ordergate.risk_config import load_limits
from ordergate.settings import Settings
from ordergate.store.memory import MemoryStore
from ordergate.store.sqlite import SqliteStore
from ordergate.store.verify import replay_records
from ordergate.venue_wiring import VenueWiring, open_venue

log = structlog.get_logger("ordergate.bootstrap")


@dataclass
class Application:
    """Everything the entrypoints need, wired once."""

    settings: Settings
    engine: Engine
    reads: ReadModels
    market: MarketData
    clock: Clock
    venue_name: str
    store: MemoryStore | SqliteStore
    keys: KeyStore
    limits: LimitsBook
    reconciler: Reconciler
    venue_close: Callable[[], Awaitable[None]] | None = None
    messaging: Messaging | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def mark(self, symbol: str) -> Decimal | None:
        quote = self.market.quote(symbol)
        return None if quote is None else quote.last

    async def account_margin(self, account: str) -> dict[str, CurrencyMargin]:
        """Balance, equity, used and free margin per currency: journaled rows, current marks."""
        positions = await self.reads.positions(account)
        marks = {p.symbol: m for p in positions if (m := self.mark(p.symbol)) is not None}
        balances = await self.reads.balances(account)
        return margin_by_currency(
            {b.currency: b.balance for b in balances},
            positions,
            self.engine.order_margin(account),
            self.engine.instruments,
            marks,
        )

    async def wait_for_venue(self, order_id: str) -> OrderView:
        return await self.engine.wait_for_venue(order_id, self.settings.api_wait_ms / 1000)

    async def aclose(self) -> None:
        if self.messaging is not None:
            await self.messaging.aclose()  # no new signal first
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.reconciler.stop()
        await self.engine.stop()
        if self.venue_close is not None:
            await self.venue_close()
        await self.store.close()
        self.keys.close()


def open_store(settings: Settings) -> MemoryStore | SqliteStore:
    if settings.in_memory:
        return MemoryStore()
    return SqliteStore(settings.db, synchronous=settings.sqlite_synchronous)


def reconcile_policy(settings: Settings) -> ReconcilePolicy:
    try:
        remedies = {
            kind.lower(): Remedy(value.upper()) for kind, value in settings.reconcile.items()
        }
        return ReconcilePolicy(**remedies)
    except (ValueError, TypeError) as exc:
        raise InvalidRequest(f"bad reconciliation policy {settings.reconcile}: {exc}") from exc


def limits_book(settings: Settings) -> LimitsBook:
    """The risk file, then global limits from the environment (the seed's names included)."""
    overrides: dict[str, Any] = dict(settings.limits)
    if settings.min_qty is not None:
        overrides["min_qty"] = settings.min_qty
    if settings.allowed_symbols is not None:
        overrides["allowed_symbols"] = settings.allowed_symbols
    if set(settings.allowed_order_types) != set(OrderType):
        overrides["allowed_order_types"] = [str(t) for t in settings.allowed_order_types]
    return load_limits(settings.risk_file, overrides)


async def build(settings: Settings, keys: KeyStore | None = None) -> Application:
    """Open the journal, replay it, connect the venue and start the engine.

    `keys`: the API key store to use (the application closes it); default: the one
    beside the journal.
    """
    store = open_store(settings)
    try:
        return await _build(settings, store, keys)
    except BaseException:
        await store.close()
        raise


async def _build(
    settings: Settings, store: MemoryStore | SqliteStore, keys: KeyStore | None
) -> Application:
    state, report = await replay_records(store.records_after(), store.partition)
    if not report.ok:
        raise JournalCorrupted(f"{settings.db}: {report.problems[0]}")
    state.take_changes()
    wiring = await open_venue(settings, state, session=f"s{store.head_seq}")
    limits = limits_book(settings)
    engine = Engine(
        state=state,
        instruments=wiring.instruments,
        journal=store,
        venue=wiring.venue,
        clock=wiring.clock,
        market_data=wiring.market,
        limits=limits,
        max_batch=settings.max_batch,
        venue_lanes=wiring.lanes,
        retry=settings.venue_retry,
        reconcile_policy=reconcile_policy(settings),
        signal_policy=settings.signal_policy,
    )
    try:
        await engine.start()
        await _open_accounts(engine, wiring)
    except BaseException:
        await engine.stop()
        if wiring.close is not None:
            await wiring.close()
        raise
    reconciler = Reconciler(
        wiring.venue,
        engine.reconcile,
        lambda: engine.accounts,
        settings.reconcile_interval_seconds,
        lambda: engine.first_event_ts,
    )
    engine.on_reconcile_needed(reconciler.request)
    application = Application(
        settings=settings,
        engine=engine,
        reads=store,
        market=wiring.market,
        clock=wiring.clock,
        venue_name=wiring.venue.name,
        store=store,
        keys=open_key_store(settings.db) if keys is None else keys,
        limits=limits,
        reconciler=reconciler,
        venue_close=wiring.close,
    )
    try:
        await reconciler.run()  # on start: does the venue agree with the journal?
    except BaseException:
        await application.aclose()
        raise
    reconciler.start()
    for feed in wiring.feeds:
        application.tasks.append(asyncio.create_task(feed(), name=f"{wiring.venue.name}-feed"))
    if settings.amqp_url is not None:
        try:
            application.messaging = await _open_messaging(settings, engine, store)
        except BaseException:
            await application.aclose()
            raise
    log.info(
        "ordergate started",
        db=settings.db,
        venue=wiring.venue.name,
        events=store.head_seq,
        orders=len(state.orders),
        open_orders=len(state.open_orders),
        instruments=sorted(state.instruments),
    )
    return application


async def _open_messaging(
    settings: Settings, engine: Engine, store: MemoryStore | SqliteStore
) -> Messaging:
    """Declare the signal queue (with its dead letters), then start relay and consumer."""
    assert settings.amqp_url is not None
    url = settings.amqp_url.get_secret_value()
    topology = SignalTopology(
        signal_queue=settings.signals_queue,
        partitions=1,
        delivery_limit=settings.signal_delivery_limit,
    )
    connection = await connect(url, name="ordergate")
    try:
        await declare_signal_queue(connection, topology)
        messaging = await open_messaging(
            connection=connection,
            partition=store.partition,
            engine=engine,
            journal=store,
            events_exchange=settings.events_exchange,
            queue=topology.signal_queue,
            dead_letter_queue=topology.dead_letter_queue,
            default_account=settings.default_account,
            prefetch=settings.signal_prefetch,
            events_window=settings.events_window,
            name="ordergate",
        )
    except BaseException:
        await connection.close()
        raise
    messaging.owns_connection = True
    return messaging


async def _open_accounts(engine: Engine, wiring: VenueWiring) -> None:
    """Give each account the journal has never seen its opening cash."""
    for account in wiring.accounts:
        if account in engine.accounts:
            continue
        balances = await wiring.opening_balances(account)
        for currency, amount in sorted(balances.items()):
            await engine.adjust_balance(
                AdjustBalance(account, currency, amount, wiring.opening_reason)
            )
