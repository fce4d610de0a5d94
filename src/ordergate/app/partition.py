"""One partition run by this node: its journal, venue, engine, reconciler and messaging.

Started only once the partition's lease is held, in the order a takeover needs
(notes/scale-out.md §5): take the journal over (its epoch rises, so the previous owner
can append nothing more), replay it and verify the chain, connect the venue, start the
engine (it asks the venue about every order a previous owner left in doubt before it
acts), reconcile with the venue, then start the event relay and consume the partition's
signal queue. Every append and venue request first asks the lease (`may_act`).

`stop` hands the partition over cleanly (signals first, so nothing new comes in); `halt`
is for a lease that lapsed: the engine has stopped itself already, so nothing more can
leave; the rest is closed as far as it still can be.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog
from aio_pika.abc import AbstractRobustConnection
from asyncpg import Pool, Record

from ordergate.app.messaging import Messaging, open_messaging
from ordergate.app.venue_selection import VenueWiring, open_accounts, open_partition_venue
from ordergate.bus.topology import SignalTopology
from ordergate.config.settings import Settings
from ordergate.domain.errors import JournalCorrupted, OrderGateError
from ordergate.engine.engine import Engine
from ordergate.engine.ids import partition_of
from ordergate.engine.reconcile import Reconciler
from ordergate.engine.replay import replay_records
from ordergate.store.postgres import PostgresStore
from ordergate.store.postgres.lease import PartitionLease

log = structlog.get_logger("ordergate.cluster")


@dataclass(frozen=True, slots=True)
class NodeContext:
    """What every partition of a node shares."""

    settings: Settings
    dsn: str
    node_id: str
    partitions: int
    amqp: AbstractRobustConnection | None
    topology: SignalTopology | None
    # Shared by every partition's store: a partition holds only its writer and its lease.
    read_pool: Pool[Record]


@dataclass
class PartitionRuntime:
    partition: int
    lease: PartitionLease
    store: PostgresStore
    engine: Engine
    wiring: VenueWiring
    reconciler: Reconciler
    messaging: Messaging | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def stop(self) -> None:
        """Hand the partition over: stop taking signals, finish, release the lease."""
        await self._close()
        await self.lease.release()
        log.info("partition released", partition=self.partition)

    async def halt(self) -> None:
        """The lease lapsed: the engine already sends and appends nothing; close the rest."""
        await self._close()
        await self.lease.release()
        log.warning("partition halted", partition=self.partition, reason=self.lease.lost)

    async def _close(self) -> None:
        closers: list[Callable[[], Awaitable[None]]] = []
        if self.messaging is not None:
            closers.append(self.messaging.aclose)
        closers += [self._cancel_tasks, self.reconciler.stop, self.engine.stop]
        if self.wiring.close is not None:
            closers.append(self.wiring.close)
        closers.append(self.store.close)
        for close in closers:
            try:
                await close()
            except Exception:  # keep closing the rest: each holds something
                log.exception("closing a partition failed", partition=self.partition)

    async def _cancel_tasks(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def start_partition(
    ctx: NodeContext, partition: int, lease: PartitionLease
) -> PartitionRuntime:
    """Take the partition over and start it; on failure release what was opened."""
    store = await PostgresStore.open(
        ctx.dsn, partition=partition, owner=ctx.node_id, read_pool=ctx.read_pool
    )
    try:
        return await _start(ctx, partition, lease, store)
    except BaseException:
        await store.close()
        raise


async def _start(
    ctx: NodeContext, partition: int, lease: PartitionLease, store: PostgresStore
) -> PartitionRuntime:
    settings = ctx.settings
    state, report = await replay_records(store.records_after(), partition)
    if not report.ok:
        raise JournalCorrupted(f"partition {partition}: {report.problems[0]}")
    state.take_changes()

    def holds(account: str) -> bool:
        return partition_of(account, ctx.partitions) == partition

    wiring = await open_partition_venue(
        settings, state, session=f"p{partition}e{store.epoch}", holds=holds
    )
    engine = Engine(
        state=state,
        instruments=wiring.instruments,
        journal=store,
        venue=wiring.venue,
        clock=wiring.clock,
        market_data=wiring.market,
        limits=settings.limits_book(),
        max_batch=settings.max_batch,
        venue_lanes=wiring.lanes,
        retry=settings.venue_retry,
        reconcile_policy=settings.reconcile_policy(),
        signal_policy=settings.signal_policy,
        may_act=lambda: lease.valid,
    )
    reconciler = Reconciler(
        wiring.venue,
        engine.reconcile,
        lambda: engine.accounts,
        settings.reconcile_interval_seconds,
        lambda: engine.first_event_ts,
    )
    runtime = PartitionRuntime(partition, lease, store, engine, wiring, reconciler)
    try:
        await engine.start()
        await open_accounts(engine, wiring)
        engine.on_reconcile_needed(reconciler.request)
        await reconciler.run()
        reconciler.start()
        runtime.tasks = [
            asyncio.create_task(feed(), name=f"p{partition}-feed") for feed in wiring.feeds
        ]
        if ctx.amqp is not None and ctx.topology is not None:
            runtime.messaging = await open_messaging(
                connection=ctx.amqp,
                partition=partition,
                engine=engine,
                journal=store,
                events_exchange=settings.events_exchange,
                queue=ctx.topology.partition_queue(partition),
                dead_letter_queue=ctx.topology.dead_letter_queue,
                default_account=settings.default_account,
                prefetch=settings.signal_prefetch,
                events_window=settings.events_window,
                name=f"ordergate:{ctx.node_id}:p{partition}",
                on_consumer_stopped=lambda exc: _consumer_stopped(partition, exc),
            )
    except BaseException:
        await runtime._close()
        raise
    log.info(
        "partition started",
        partition=partition,
        epoch=store.epoch,
        events=store.head_seq,
        orders=len(state.orders),
        open_orders=len(state.open_orders),
    )
    return runtime


def _consumer_stopped(partition: int, exc: OrderGateError) -> None:
    log.warning("partition stopped consuming signals", partition=partition, reason=exc.code)
