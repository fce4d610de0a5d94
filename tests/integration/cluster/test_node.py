"""Nodes sharing partitions through PostgreSQL leases, in one process (paper venue).

The kill -9 and SIGSTOP tests run nodes as processes (test_cluster_failover.py); these
check the orchestration itself: the split, a clean handover, a lapsed lease.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import asyncpg
import pytest
from tests.integration.cluster.support import node_settings
from tests.pg_support import terminate_sessions
from tests.waiting import eventually

from ordergate.app.cluster.balance import partitions_of
from ordergate.app.cluster.node import READ_POOL_SIZE, Node
from ordergate.domain.errors import EngineStopped
from ordergate.domain.values import Side
from ordergate.engine.commands import PlaceOrder
from ordergate.engine.ids import partition_of
from ordergate.engine.replay import verify_partitions
from ordergate.store.postgres import PostgresStore
from ordergate.store.postgres.lease import LeaseTiming, PartitionLease

PARTITIONS = 4
# Advisory locks are database-wide, not per schema: runs at the same time need their own.
CLUSTER = f"c1-{uuid.uuid4().hex[:8]}"
ACCOUNTS = [f"acct-{i}" for i in range(8)]


def node(dsn: str, node_id: str, cluster: str = CLUSTER) -> Node:
    return Node(
        node_settings(ACCOUNTS),
        dsn=dsn,
        node_id=node_id,
        cluster=cluster,
        partitions=PARTITIONS,
        rebalance_interval=0.2,
    )


async def place(node: Node, account: str) -> str:
    engine = node.partitions[partition_of(account, PARTITIONS)].engine
    placed = await engine.place(PlaceOrder(account, "BTCUSDT", Side.BUY, Decimal("0.010")))
    return placed.order.order_id


async def test_two_nodes_share_the_partitions_and_one_takes_all_when_the_other_leaves(dsn):
    a, b = node(dsn, "a"), node(dsn, "b")
    await a.start()
    await b.start()
    try:
        expected = (
            partitions_of("a", ["a", "b"], PARTITIONS),
            partitions_of("b", ["a", "b"], PARTITIONS),
        )
        await eventually(
            lambda: (set(a.partitions), set(b.partitions)) == expected,
            message="the partitions to split between a and b as rendezvous hashing says",
        )
        owner = a if partition_of("acct-0", PARTITIONS) in a.partitions else b
        first = await place(owner, "acct-0")

        await a.stop()
        await eventually(
            lambda: len(b.partitions) == PARTITIONS, message="b to own every partition"
        )
        second = await place(b, "acct-0")
    finally:
        await a.stop()
        await b.stop()

    assert all(expected)  # both had some
    assert first != second
    stores = [
        await PostgresStore.open(dsn, partition=p, take_over=False) for p in range(PARTITIONS)
    ]
    try:
        reports = await verify_partitions(stores, await stores[0].snapshot())
    finally:
        for store in stores:
            await store.close()
    assert {p: r.problems for p, r in reports.items()} == {p: [] for p in range(PARTITIONS)}
    assert sum(r.events for r in reports.values()) > 0


async def test_a_partition_whose_lock_is_held_elsewhere_is_not_started(dsn):
    held = await PartitionLease.try_acquire(dsn, CLUSTER, 0, "intruder")
    assert held is not None
    a = node(dsn, "a")
    try:
        await a.start()
        await eventually(lambda: len(a.partitions) == PARTITIONS - 1, message="a to start the rest")
        assert 0 not in a.partitions

        await held.release()
        await eventually(lambda: 0 in a.partitions, message="a to take partition 0 once it is free")
    finally:
        await a.stop()
        await held.release()


async def test_a_node_whose_lease_lapses_halts_the_partition_and_sends_nothing(dsn):
    # Heartbeats often, but with the default time to answer and to fence: on a busy machine
    # a 0.2 s heartbeat timeout lapses by itself, before the test breaks anything.
    timing = LeaseTiming(heartbeat_interval=0.1, heartbeat_timeout=1.0, fence_after=2.0)
    a = Node(
        node_settings(ACCOUNTS),
        dsn=dsn,
        node_id="a",
        cluster=CLUSTER,
        partitions=PARTITIONS,
        rebalance_interval=30,  # no rebalance during the test
        timing=timing,
    )
    await a.start()
    try:
        partition = partition_of("acct-0", PARTITIONS)
        runtime = a.partitions[partition]
        await place(a, "acct-0")
        # The server ends the lease's session, from another connection: the lock is gone.
        # (Never a statement on the lease's own connection: its heartbeat uses it.)
        ended = await terminate_sessions(dsn, f"ordergate-lease:{CLUSTER}:a:p{partition}")
        assert ended == 1, "the lease's session was not found"
        # The node drops the partition at once and halts it in the background: wait for both.
        await eventually(
            lambda: partition not in a.partitions and not runtime.engine.running,
            message="the partition to halt",
        )

        assert runtime.lease.lost is not None
        assert not runtime.engine.running
        with pytest.raises(EngineStopped):
            await runtime.engine.place(PlaceOrder("acct-0", "BTCUSDT", Side.BUY, Decimal("0.010")))
    finally:
        await a.stop()


async def test_a_node_holds_two_connections_per_partition_and_one_shared_read_pool(dsn):
    node_id = f"n{uuid.uuid4().hex[:8]}"
    a = node(dsn, node_id)
    await a.start()
    try:
        await eventually(
            lambda: len(a.partitions) == PARTITIONS, message="a to own every partition"
        )
        for partition in a.partitions:  # every partition reads (and the pool grows to need)
            await place(a, next(x for x in ACCOUNTS if partition_of(x, PARTITIONS) == partition))
        connection = await asyncpg.connect(dsn)
        try:
            names = [
                r["application_name"]
                for r in await connection.fetch(
                    "SELECT application_name FROM pg_stat_activity "
                    "WHERE position($1 in application_name) > 0",
                    node_id,
                )
            ]
        finally:
            await connection.close()
    finally:
        await a.stop()

    writers = [n for n in names if n.endswith("writer")]
    leases = [n for n in names if n.startswith("ordergate-lease:")]
    reads = [n for n in names if n.endswith("reads")]
    assert len(writers) == len(leases) == PARTITIONS
    assert 1 <= len(reads) <= READ_POOL_SIZE
    assert len(names) == 2 * PARTITIONS + len(reads) + 1  # + its presence
