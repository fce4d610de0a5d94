"""A partition run by this node under its lease.

Started only once the partition's lease is held (`Node.rebalance`): the journal is taken
over first (its epoch rises, so the previous owner can append nothing more), then the
partition starts as any partition does (`app.partition.start_partition`: replay and
verify, venue, engine, which first asks the venue about every order a previous owner left
in doubt, reconciliation, relay, signals), with every append and venue request asking the
lease first (`may_act`).

`stop` hands the partition over cleanly; `halt` is for a lease that lapsed: the engine has
stopped itself already, so nothing more can leave; the rest is closed as far as it still
can be. Either way the lease is released last.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from aio_pika.abc import AbstractRobustConnection
from asyncpg import Pool, Record

from ordergate.app.observability import Observability
from ordergate.app.partition import Partition, SignalWiring, start_partition
from ordergate.bus.topology import SignalTopology
from ordergate.config.settings import Settings
from ordergate.domain.errors import OrderGateError
from ordergate.engine.engine import Engine
from ordergate.engine.ids import partition_of
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
    observability: Observability | None = None


@dataclass
class LeasedPartition:
    partition: Partition
    lease: PartitionLease

    @property
    def engine(self) -> Engine:
        return self.partition.engine

    async def stop(self) -> None:
        """Hand the partition over: stop taking signals, finish, release the lease."""
        await self.partition.close()
        await self.lease.release()
        log.info("partition released", partition=self.partition.number)

    async def halt(self) -> None:
        """The lease lapsed: the engine already sends and appends nothing; close the rest."""
        await self.partition.close()
        await self.lease.release()
        log.warning("partition halted", partition=self.partition.number, reason=self.lease.lost)


async def start_leased(ctx: NodeContext, number: int, lease: PartitionLease) -> LeasedPartition:
    """Take the partition over and start it; on failure close what was opened (the caller
    releases the lease)."""
    store = await PostgresStore.open(
        ctx.dsn, partition=number, owner=ctx.node_id, read_pool=ctx.read_pool
    )
    signals = None
    if ctx.amqp is not None and ctx.topology is not None:
        signals = SignalWiring(
            ctx.amqp,
            ctx.topology.partition_queue(number),
            ctx.topology.dead_letter_queue,
            on_consumer_stopped=lambda exc: _consumer_stopped(number, exc),
        )
    partition = await start_partition(
        ctx.settings,
        store,
        limits=ctx.settings.limits_book(),
        session=f"p{number}e{store.epoch}",
        holds=lambda account: partition_of(account, ctx.partitions) == number,
        may_act=lambda: lease.valid,
        signals=signals,
        observability=ctx.observability,
    )
    log.info("partition taken over", partition=number, epoch=store.epoch, node=ctx.node_id)
    return LeasedPartition(partition, lease)


def _consumer_stopped(partition: int, exc: OrderGateError) -> None:
    log.warning("partition stopped consuming signals", partition=partition, reason=exc.code)
