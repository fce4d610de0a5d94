"""The composition root: settings → journal store, venue, engine, messaging, key store.
Nothing is built at import time.

- A SQLite file or `:memory:` journal: one process runs the one partition
  (`partition.start_partition`), with its own broker connection when `amqp_url` is set.
- A PostgreSQL journal: the process is a node of a cluster (`cluster.node.Node`), which
  starts the partitions whose lease it holds through the same `start_partition`, and
  answers queries over every partition's read models.

The API key store sits beside the journal (same SQLite file or PostgreSQL database, its
own tables and connection; in memory for `:memory:`). It is opened here unless the caller
passes one (`ordergate serve` opens it first, to create and print the first admin key).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable

import structlog
from aio_pika.abc import AbstractRobustConnection

from ordergate.app.application import Application
from ordergate.app.cluster.engines import ClusterEngines
from ordergate.app.cluster.node import Node
from ordergate.app.key_stores import open_key_store
from ordergate.app.observability import Observability, broker_probe
from ordergate.app.partition import SignalWiring, start_partition
from ordergate.app.venue_selection import preload_venue
from ordergate.auth.ports import KeyStore
from ordergate.bus.connection import connect
from ordergate.bus.topology import SignalTopology, declare_signal_queue
from ordergate.config.settings import Settings
from ordergate.store.memory import MemoryStore
from ordergate.store.postgres import PostgresStore
from ordergate.store.sqlite import SqliteStore

log = structlog.get_logger("ordergate.bootstrap")


async def build(settings: Settings, keys: KeyStore | None = None) -> Application:
    """Open the journal, replay it, connect the venue and start the engine.

    `keys`: the API key store to use (the application closes it); default: the one
    beside the journal. A PostgreSQL journal makes this process a node of a cluster.
    """
    if settings.on_postgres:
        return await build_node(settings, keys)
    return await build_single(settings, keys)


def open_store(settings: Settings) -> MemoryStore | SqliteStore:
    if settings.in_memory:
        return MemoryStore()
    return SqliteStore(settings.db, synchronous=settings.sqlite_synchronous)


async def build_single(settings: Settings, keys: KeyStore | None = None) -> Application:
    """One process, one partition: the journal in SQLite (or memory)."""
    limits = settings.limits_book()  # one book: the engine enforces what the API shows
    observability = Observability(settings, settings.node_name)
    store = open_store(settings)
    connection: AbstractRobustConnection | None = None
    signals: SignalWiring | None = None
    try:
        if settings.amqp_url is not None:
            connection, signals = await _open_signals(settings)
    except BaseException:
        await store.close()
        raise
    try:
        partition = await start_partition(
            settings,
            store,
            limits=limits,
            session=f"s{store.head_seq}",
            signals=signals,
            observability=observability,
        )
    except BaseException:
        if connection is not None:
            await _close_quietly(connection)
        await observability.aclose()
        raise
    observability.add_probe("journal", _store_probe(store))
    if connection is not None:
        observability.add_probe("broker", functools.partial(broker_probe, connection))
    observability.add_probe("venue", observability.venue_probe)
    observability.start()
    # The monitor first (a closing dependency is no outage); the alert sinks last, so an
    # alert raised while closing is still delivered.
    closers: list[Callable[[], Awaitable[None]]] = [observability.stop_monitor, partition.close]
    if connection is not None:
        closers.append(lambda: _close_quietly(connection))
    closers.append(observability.aclose)
    application = Application(
        settings=settings,
        trading=partition.engine,
        reads=store,
        keys=open_key_store(settings.db) if keys is None else keys,
        limits=limits,
        venue_name=partition.wiring.venue.name,
        partition=partition,
        closers=closers,
        observability=observability,
    )
    log.info("ordergate started", db=settings.db, venue=application.venue_name)
    return application


async def build_node(settings: Settings, keys: KeyStore | None = None) -> Application:
    """Join the cluster on the PostgreSQL journal, run this node's share of the partitions,
    and answer queries over every partition's read models."""
    limits = settings.limits_book()  # a bad risk file fails before the node joins
    preload_venue(settings)  # before any lease is held: an import blocks the heartbeats
    observability = Observability(settings, settings.node_name)
    node = Node(
        settings,
        dsn=settings.db,
        node_id=settings.node_name,
        cluster=settings.cluster_name,
        partitions=settings.partitions,
        observability=observability,
    )
    try:
        await node.start()
    except BaseException:
        await observability.aclose()
        raise
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
        await observability.aclose()
        raise
    engines = ClusterEngines(node, settings.partitions)
    observability.add_probe("journal", functools.partial(_pool_probe, node))
    if settings.amqp_url is not None:
        observability.add_probe("broker", lambda: broker_probe(node.amqp))
    observability.add_probe("venue", observability.venue_probe)
    observability.start()
    log.info(
        "ordergate node started",
        node=node.node_id,
        cluster=settings.cluster_name,
        partitions=sorted(node.partitions),
        of=settings.partitions,
    )
    return Application(
        settings=settings,
        trading=engines,
        reads=reads,
        keys=await asyncio.to_thread(open_key_store, settings.db) if keys is None else keys,
        limits=limits,
        venue_name=settings.venue,
        node=engines,
        closers=[observability.stop_monitor, node.stop, reads.close, observability.aclose],
        observability=observability,
    )


def _store_probe(store: MemoryStore | SqliteStore) -> Callable[[], Awaitable[str | None]]:
    """A read of the journal store's own row (the relay's cursor): cheap, and a real query
    on SQLite."""

    async def probe() -> str | None:
        await store.outbox_cursor()
        return None

    return probe


async def _pool_probe(node: Node) -> str | None:
    """`SELECT 1` on the node's read pool: a broken connection is replaced on acquire, so
    this answers once the server does again."""
    async with node.read_pool.acquire() as connection:
        await connection.fetchval("SELECT 1")
    return None


async def _open_signals(settings: Settings) -> tuple[AbstractRobustConnection, SignalWiring]:
    """Connect to the broker and declare the signal queue (with its dead letters)."""
    assert settings.amqp_url is not None
    topology = SignalTopology(
        signal_queue=settings.signals_queue,
        partitions=1,
        delivery_limit=settings.signal_delivery_limit,
    )
    connection = await connect(settings.amqp_url.get_secret_value(), name="ordergate")
    try:
        await declare_signal_queue(connection, topology)
    except BaseException:
        await _close_quietly(connection)
        raise
    return connection, SignalWiring(connection, topology.signal_queue, topology.dead_letter_queue)


async def _close_quietly(connection: AbstractRobustConnection) -> None:
    with contextlib.suppress(Exception):
        await connection.close()
