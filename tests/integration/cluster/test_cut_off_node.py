"""A node cut off from PostgreSQL (the link goes silent, nothing is closed) stops on its
own before the survivor takes its partitions, and rejoins once the link is back.

The cut-off node reaches the database through a proxy (`tests/tcp_proxy.py`) that, on
`silence()`, stops passing bytes either way and keeps every socket open, as a dead link
or a partition would: no reset, no FIN, nothing for either side to notice but silence.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from tests.integration.cluster.support import node_settings
from tests.tcp_proxy import TcpProxy
from tests.waiting import eventually

from ordergate.app.cluster.balance import partitions_of
from ordergate.app.cluster.node import Node
from ordergate.domain.errors import EngineStopped
from ordergate.domain.values import Side
from ordergate.engine.commands import PlaceOrder
from ordergate.engine.ids import partition_of
from ordergate.engine.replay import verify_partitions
from ordergate.store.postgres.lease import LeaseTiming
from ordergate.store.postgres.snapshot import open_snapshot

PARTITIONS = 4
ACCOUNTS = [f"acct-{i}" for i in range(16)]


@pytest.fixture
async def proxy(dsn: str) -> AsyncIterator[TcpProxy]:
    target = urlsplit(dsn)
    async with TcpProxy(target.hostname or "127.0.0.1", target.port or 5432) as p:
        yield p


def through(proxy: TcpProxy, dsn: str) -> str:
    parts = urlsplit(dsn)
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{proxy.port}"))


def node(dsn: str, node_id: str, cluster: str) -> Node:
    return Node(
        node_settings(ACCOUNTS),
        dsn=dsn,
        node_id=node_id,
        cluster=cluster,
        partitions=PARTITIONS,
        rebalance_interval=0.2,
        timing=LeaseTiming(),  # the production timing: 2 s to self-fence
    )


# A scenario or a stop that cannot finish fails the test rather than hang it: a call
# caught on a link that went silent mid-statement would otherwise wait forever.
SCENARIO_TIMEOUT = 240
STOP_TIMEOUT = 60


async def test_a_cut_off_node_stops_before_the_survivor_takes_over_and_rejoins_later(
    dsn: str, proxy: TcpProxy
):
    cluster = f"cut-{uuid.uuid4().hex[:8]}"  # advisory locks are database-wide
    a, b = node(through(proxy, dsn), "a", cluster), node(dsn, "b", cluster)
    await a.start()
    await b.start()
    try:
        async with asyncio.timeout(SCENARIO_TIMEOUT):
            share_of_a = partitions_of("a", ["a", "b"], PARTITIONS)
            share_of_b = partitions_of("b", ["a", "b"], PARTITIONS)
            # The split done on both sides: a has not only dropped b's share but let go of it
            # (b could take it), so no handover is under way when a is cut off. (A statement a
            # is half-way through preparing when the link goes silent keeps its backend busy,
            # not idle, and the proxy's live socket keeps the server from noticing.)
            await eventually(
                lambda: (set(a.partitions), set(b.partitions)) == (share_of_a, share_of_b),
                message="the split",
                timeout=30,
            )
            account = next(x for x in ACCOUNTS if partition_of(x, PARTITIONS) in share_of_a)
            partition = partition_of(account, PARTITIONS)
            stale = a.partitions[partition].engine
            await stale.place(PlaceOrder(account, "BTCUSDT", Side.BUY, Decimal("0.010")))

            proxy.silence()
            order_of_events: list[str] = []

            def watch() -> bool:
                if not a.partitions and "a stopped" not in order_of_events:
                    order_of_events.append("a stopped")
                    # Only now does the server give a's sessions up, as its keepalives
                    # would, later than a fences itself: their locks go with them. (Until
                    # then a session caught mid-statement by the silence holds its lease.)
                    proxy.drop_server_side()
                if len(b.partitions) == PARTITIONS and "b took all" not in order_of_events:
                    order_of_events.append("b took all")
                return len(order_of_events) == 2

            await eventually(
                watch,
                message=lambda: (
                    f"a to stop and b to take every partition (a has {sorted(a.partitions)}, "
                    f"b has {sorted(b.partitions)}, seen: {order_of_events})"
                ),
                timeout=30,
            )
            with pytest.raises(EngineStopped):
                await stale.place(PlaceOrder(account, "BTCUSDT", Side.BUY, Decimal("0.010")))
            taken_over = b.partitions[partition].engine
            await taken_over.place(PlaceOrder(account, "BTCUSDT", Side.SELL, Decimal("0.010")))

            proxy.restore()
            await eventually(
                lambda: set(a.partitions) == share_of_a,
                message="a to rejoin and take its share",
                timeout=30,
            )
            await a.partitions[partition].engine.place(
                PlaceOrder(account, "BTCUSDT", Side.BUY, Decimal("0.020"))
            )
    finally:
        proxy.restore()  # else a node whose link is silent cannot finish stopping
        await asyncio.wait_for(a.stop(), STOP_TIMEOUT)
        await asyncio.wait_for(b.stop(), STOP_TIMEOUT)

    assert order_of_events == ["a stopped", "b took all"]
    connection = await asyncpg.connect(dsn)
    try:
        epochs = await connection.fetch(
            "SELECT epoch, min(seq) AS first, max(seq) AS last FROM journal "
            "WHERE partition_id = $1 GROUP BY epoch ORDER BY epoch",
            partition,
        )
        orders = await connection.fetchval(
            "SELECT count(*) FROM orders WHERE account = $1", account
        )
    finally:
        await connection.close()
    # a, then b, then a again: each epoch's rows come wholly after the one before
    assert len(epochs) >= 3
    assert all(x["last"] < y["first"] for x, y in itertools.pairwise(epochs))
    assert orders == 3
    async with open_snapshot(dsn, application_name="cut-off verify") as snapshot:
        journals = [snapshot.journal(p) for p in range(PARTITIONS)]
        reports = await verify_partitions(journals, await snapshot.read_models())
    assert {p: r.problems for p, r in reports.items()} == {p: [] for p in range(PARTITIONS)}
