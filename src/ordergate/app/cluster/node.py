"""A node of a cluster: it runs the partitions it should own, and takes over the dead's.

Every `rebalance_interval` the node lists the live nodes (`Presence`), works out which
partitions it should own (`balance.partitions_of`, the same answer on every node), hands
over the ones it should not (a node joined), and tries to take the ones it should: the
partition's lock is free once its previous owner released it or died (kill -9 frees it at
once; a frozen or cut-off owner's session is ended by the server within 6-7 s, after its
own lease has made it stop). A partition whose lease lapses is halted at once.

With RabbitMQ, every node also runs the signal router: it consumes the seed's signal queue
with a single active consumer and republishes each signal to its partition's queue, which
only that partition's owner consumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from typing import Final

import structlog
from aio_pika.abc import AbstractRobustConnection
from asyncpg import Pool, Record

from ordergate.app.cluster.balance import owner_of, partitions_of
from ordergate.app.cluster.leased import LeasedPartition, NodeContext, start_leased
from ordergate.app.observability import Observability
from ordergate.bus.connection import connect
from ordergate.bus.router import SignalRouter
from ordergate.bus.topology import SignalTopology, declare_partitions, declare_signal_queue
from ordergate.config.settings import Settings
from ordergate.domain.errors import EngineStopped, OrderGateError
from ordergate.store.postgres.connection import DRIVER_ERRORS, SessionSettings, create_read_pool
from ordergate.store.postgres.lease import LeaseTiming, PartitionLease
from ordergate.store.postgres.presence import Presence
from ordergate.store.postgres.reads import translated

log = structlog.get_logger("ordergate.cluster")

# The node's read connections, shared by every partition it runs (the relay paging through
# the journal, replay on takeover) and by the API's queries. A partition has two more of
# its own: its writer and its lease.
READ_POOL_SIZE: Final = 4
READ_POOL_TIMEOUT: Final = 10.0


class Node:
    def __init__(
        self,
        settings: Settings,
        *,
        dsn: str,
        node_id: str,
        cluster: str,
        partitions: int,
        rebalance_interval: float = 1.0,
        timing: LeaseTiming | None = None,
        observability: Observability | None = None,
    ) -> None:
        """`observability`: given to every partition the node starts; told when a
        partition's lease is lost."""
        self.settings = settings
        self._observability = observability
        self.node_id = node_id
        self._dsn = dsn
        self._cluster = cluster
        self._partitions = partitions
        self._rebalance_interval = rebalance_interval
        self._timing = timing or LeaseTiming()
        self._presence: Presence | None = None
        self._amqp: AbstractRobustConnection | None = None
        self._router: SignalRouter | None = None
        self._context: NodeContext | None = None
        self._running: dict[int, LeasedPartition] = {}
        self._live: list[str] = []  # the live nodes as of the last rebalance
        self._halting: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._read_pool: Pool[Record] | None = None

    @property
    def partitions(self) -> dict[int, LeasedPartition]:
        """The partitions this node runs now, by number."""
        return dict(self._running)

    @property
    def read_pool(self) -> Pool[Record]:
        """The node's read connections, shared by its partitions and its query side."""
        if self._read_pool is None:
            raise EngineStopped("the node is not started")
        return self._read_pool

    async def start(self) -> None:
        """Join, open the broker side, take this node's partitions, keep balancing."""
        self._presence = await Presence.join(
            self._dsn, self._cluster, self.node_id, timing=self._timing
        )
        topology: SignalTopology | None = None
        try:
            async with translated("opening the node's read connections"):
                self._read_pool = await create_read_pool(
                    self._dsn,
                    SessionSettings(),
                    f"ordergate {self.node_id} reads",
                    READ_POOL_SIZE,
                    READ_POOL_TIMEOUT,
                )
            if self.settings.amqp_url is not None:
                topology = SignalTopology(
                    signal_queue=self.settings.signals_queue,
                    partition_exchange=self.settings.partition_exchange,
                    partitions=self._partitions,
                    delivery_limit=self.settings.signal_delivery_limit,
                )
                self._amqp = await connect(
                    self.settings.amqp_url.get_secret_value(), name=f"ordergate:{self.node_id}"
                )
                await declare_signal_queue(self._amqp, topology)
                await declare_partitions(self._amqp, topology)
                self._router = SignalRouter(
                    self._amqp,
                    topology,
                    default_account=self.settings.default_account,
                    prefetch=self.settings.signal_prefetch,
                    max_body_bytes=self.settings.signal_max_bytes,
                )
                await self._router.start()
            self._context = NodeContext(
                self.settings,
                self._dsn,
                self.node_id,
                self._partitions,
                self._amqp,
                topology,
                self._read_pool,
                self._observability,
            )
            await self.rebalance()
        except BaseException:
            await self.stop()
            raise
        self._loop_task = asyncio.create_task(self._balance(), name="cluster-rebalance")
        log.info("node started", node=self.node_id, partitions=sorted(self._running))

    async def stop(self) -> None:
        """Hand every partition over, leave the cluster."""
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        if self._router is not None:
            await self._router.stop()
            self._router = None
        for partition in sorted(self._running):
            await self._running.pop(partition).stop()
        if self._halting:
            await asyncio.gather(*self._halting, return_exceptions=True)
        if self._amqp is not None:
            with contextlib.suppress(Exception):
                await self._amqp.close()
            self._amqp = None
        if self._read_pool is not None:
            pool, self._read_pool = self._read_pool, None
            try:
                await asyncio.wait_for(pool.close(), READ_POOL_TIMEOUT)
            except (TimeoutError, *DRIVER_ERRORS):
                pool.terminate()
        if self._presence is not None:
            await self._presence.leave()
            self._presence = None
        log.info("node stopped", node=self.node_id)

    async def rebalance(self) -> None:
        """Hand over what this node should not own, take what it should and can."""
        if self._presence is None or self._context is None:
            raise EngineStopped("the node is not started")
        live = await self._presence.live_nodes()
        self._live = live
        wanted = partitions_of(self.node_id, live, self._partitions)
        for partition in sorted(set(self._running) - wanted):
            log.info("handing partition over", partition=partition, live=live)
            await self._running.pop(partition).stop()
        for partition in sorted(wanted - set(self._running)):
            lease = await PartitionLease.try_acquire(
                self._dsn, self._cluster, partition, self.node_id, timing=self._timing
            )
            if lease is None:
                continue  # its owner has not let go yet: next round
            try:
                leased = await start_leased(self._context, partition, lease)
            except BaseException:
                await lease.release()
                raise
            self._running[partition] = leased
            lease.on_lost(functools.partial(self._halt, partition))

    def expected_owner(self, partition: int) -> str | None:
        """The node that should run `partition` by the last rebalance's view of the live
        nodes (None before the first): where to send a request this node cannot serve."""
        return owner_of(partition, self._live, self._partitions) if self._live else None

    @property
    def amqp(self) -> AbstractRobustConnection | None:
        """The node's broker connection (None: no broker configured, or not started)."""
        return self._amqp

    def _halt(self, partition: int, reason: str) -> None:
        leased = self._running.pop(partition, None)
        if leased is None:
            return
        if self._observability is not None:
            self._observability.alerts.lease_lost(partition, reason)
        task = asyncio.create_task(leased.halt(), name=f"halt-p{partition}")
        self._halting.add(task)
        task.add_done_callback(self._halting.discard)

    async def _balance(self) -> None:
        while True:
            await asyncio.sleep(self._rebalance_interval)
            try:
                await self.rebalance()
            except OrderGateError as exc:
                log.warning("rebalance failed; trying again", error=exc.message, code=exc.code)
