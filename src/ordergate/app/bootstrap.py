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

The API key store sits beside the journal (same SQLite file or PostgreSQL database, its
own tables and connection; in memory for `:memory:`). It is opened here unless the caller passes one
(`ordergate serve` opens it first, to create and print the first admin key).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal

import structlog

from ordergate.app.cluster.engines import ClusterEngines
from ordergate.app.cluster.node import Node
from ordergate.app.key_stores import open_key_store
from ordergate.app.messaging import Messaging, open_messaging
from ordergate.app.venue_selection import open_accounts, open_venue
from ordergate.auth.ports import KeyStore
from ordergate.bus.connection import connect
from ordergate.bus.topology import SignalTopology, declare_signal_queue
from ordergate.config.settings import Settings
from ordergate.domain.accounts import CurrencyMargin, margin_by_currency
from ordergate.domain.errors import JournalCorrupted
from ordergate.domain.limits import LimitsBook
from ordergate.engine.engine import Engine
from ordergate.engine.ports import (
    Clock,
    MarketData,
)
from ordergate.engine.queries import ReadModels
from ordergate.engine.reconcile import Reconciler, ReconciliationReport, Scope
from ordergate.engine.replay import replay_records
from ordergate.engine.views import OrderView
from ordergate.store.memory import MemoryStore
from ordergate.store.postgres import PostgresStore
from ordergate.store.sqlite import SqliteStore

log = structlog.get_logger("ordergate.bootstrap")


@dataclass
class Application:
    """Everything the entrypoints need, wired once: embedded (one engine, SQLite or memory)
    or a node of a PostgreSQL cluster (the engines of the partitions it runs).

    `closers` run in order on `aclose`: signals stop first, so nothing new comes in.
    """

    settings: Settings
    engine: Engine | ClusterEngines
    reads: ReadModels
    market: MarketData
    clock: Clock
    venue_name: str
    keys: KeyStore
    limits: LimitsBook
    store: MemoryStore | SqliteStore | None = None
    reconciler: Reconciler | None = None
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

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

    async def reconcile(
        self, accounts: list[str] | None, scope: Scope
    ) -> list[ReconciliationReport]:
        """Reconcile `accounts` (None: every account) with the venue now."""
        if isinstance(self.engine, ClusterEngines):
            return await self.engine.reconcile_accounts(accounts, scope)
        assert self.reconciler is not None
        return await self.reconciler.run(accounts, scope)

    async def aclose(self) -> None:
        for close in self.closers:
            await close()
        self.closers = []
        await asyncio.to_thread(self.keys.close)  # PostgreSQL: waits for its connection


def _cancelling(tasks: list[asyncio.Task[None]]) -> Callable[[], Awaitable[None]]:
    async def cancel() -> None:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return cancel


def open_store(settings: Settings) -> MemoryStore | SqliteStore:
    if settings.in_memory:
        return MemoryStore()
    return SqliteStore(settings.db, synchronous=settings.sqlite_synchronous)


async def build(settings: Settings, keys: KeyStore | None = None) -> Application:
    """Open the journal, replay it, connect the venue and start the engine.

    `keys`: the API key store to use (the application closes it); default: the one
    beside the journal. A PostgreSQL journal makes this process a node of a cluster
    (`build_node`).
    """
    if settings.on_postgres:
        return await build_node(settings, keys)
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
    limits = settings.limits_book()
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
        reconcile_policy=settings.reconcile_policy(),
        signal_policy=settings.signal_policy,
    )
    try:
        await engine.start()
        await open_accounts(engine, wiring)
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
    tasks: list[asyncio.Task[None]] = []
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
        closers=[_cancelling(tasks), reconciler.stop, engine.stop],
    )
    if wiring.close is not None:
        application.closers.append(wiring.close)
    application.closers.append(store.close)
    try:
        await reconciler.run()  # on start: does the venue agree with the journal?
    except BaseException:
        await application.aclose()
        raise
    reconciler.start()
    tasks.extend(
        asyncio.create_task(feed(), name=f"{wiring.venue.name}-feed") for feed in wiring.feeds
    )
    if settings.amqp_url is not None:
        try:
            messaging = await _open_messaging(settings, engine, store)
        except BaseException:
            await application.aclose()
            raise
        application.closers.insert(0, messaging.aclose)  # no new signal first
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


async def build_node(settings: Settings, keys: KeyStore | None = None) -> Application:
    """Join the cluster on the PostgreSQL journal, run this node's share of the partitions,
    and answer queries over every partition's read models."""
    node = Node(
        settings,
        dsn=settings.db,
        node_id=settings.node_name,
        cluster=settings.cluster_name,
        partitions=settings.partitions,
    )
    await node.start()
    try:
        reads = await PostgresStore.open(
            settings.db,
            partition=0,
            owner=settings.node_name,
            take_over=False,
            read_pool=node.read_pool,
        )
    except BaseException:
        await node.stop()
        raise
    engines = ClusterEngines(node, settings.partitions)
    log.info(
        "ordergate node started",
        node=node.node_id,
        cluster=settings.cluster_name,
        partitions=sorted(node.partitions),
        of=settings.partitions,
    )
    return Application(
        settings=settings,
        engine=engines,
        reads=reads,
        market=engines,
        clock=engines,
        venue_name=settings.venue,
        keys=await asyncio.to_thread(open_key_store, settings.db) if keys is None else keys,
        limits=settings.limits_book(),
        closers=[node.stop, reads.close],
    )


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
