"""Scale-out, with real processes, PostgreSQL and RabbitMQ.

- Three nodes share 16 partitions; one is killed (SIGKILL) while signals stream in; the
  survivors take its partitions over, and afterwards every accepted signal has exactly
  one order and every partition's journal verifies.
- A frozen owner (SIGSTOP), resumed after its partition was taken over, can neither
  append to the journal nor send to the venue: it has stopped trusting its lease, and the
  journal's epoch fence would refuse it anyway.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from tests.amqp_support import BrokerSession, publish
from tests.e2e.cluster_support import (
    CLUSTER,
    Cluster,
    paper_accounts,
    signal_body,
)
from tests.pg_support import PG_DSN, isolated_schema, require_postgres
from tests.waiting import eventually

from ordergate.app.cluster.balance import owner_of
from ordergate.engine.ids import partition_of
from ordergate.simulators.bybit.process import simulator_process

pytestmark = pytest.mark.slow

ACCOUNTS = [f"acct-{i}" for i in range(32)]


@pytest.fixture
async def dsn() -> AsyncIterator[str]:
    await require_postgres()
    async with isolated_schema(PG_DSN) as schema_dsn:
        yield schema_dsn


def cluster_env(broker: BrokerSession, tag: str, **extra: str) -> tuple[dict[str, str], str]:
    queue = broker.unique(f"e2e.signals.{tag}")
    exchange = broker.unique(f"e2e.partitions.{tag}")
    events = broker.unique(f"e2e.events.{tag}")
    broker.track(
        queues=(queue, f"{queue}.dlq", *(f"{exchange}.p{p:02d}" for p in range(16))),
        exchanges=(exchange, events, f"{queue}.dlx"),
    )
    env = {
        "ORDERGATE_AMQP_URL": broker.url,
        "ORDERGATE_SIGNALS_QUEUE": queue,
        "ORDERGATE_PARTITION_EXCHANGE": exchange,
        "ORDERGATE_EVENTS_EXCHANGE": events,
        "ORDERGATE_CLUSTER_NAME": CLUSTER,
        "ORDERGATE_PAPER_BARS_PER_SECOND": "0",
        "ORDERGATE_PAPER_BALANCES": paper_accounts(ACCOUNTS),
        "ORDERGATE_RECONCILE_INTERVAL_SECONDS": "3600",
        "ORDERGATE_LOG_JSON": "true",
        **extra,
    }
    return env, queue


async def test_three_nodes_lose_one_under_load_and_every_signal_has_exactly_one_order(
    dsn: str, broker: BrokerSession, tmp_path: Path
):
    # Checkpoints every few signals: the survivors take the victim's partitions over from
    # its checkpoints, not from their first events.
    env, queue = cluster_env(broker, "kill", ORDERGATE_CHECKPOINT_EVERY_EVENTS="20")
    cluster = Cluster(dsn, 16, env, tmp_path)
    try:
        for node_id in ("n1", "n2", "n3"):
            await cluster.start(node_id)
        await eventually(
            lambda: _owned_by(cluster, {"n1", "n2", "n3"}),
            message="all 16 partitions to be owned by the three nodes",
            timeout=60,
            interval=0.2,
        )
        signal_ids = [f"sig-{i:04d}" for i in range(600)]
        bodies = [signal_body(s, ACCOUNTS[i % len(ACCOUNTS)]) for i, s in enumerate(signal_ids)]

        async def stream() -> None:
            for start in range(0, len(bodies), 20):
                await publish(broker.connection, queue, bodies[start : start + 20])
                await asyncio.sleep(0.05)

        streaming = asyncio.create_task(stream())
        await eventually(
            lambda: _journaled_at_least(cluster, 150),
            message="a quarter of the signals",
            timeout=60,
            interval=0.2,
        )
        victim = cluster.nodes["n2"]
        victim_partitions = {p for p, n in (await cluster.owners()).items() if n == "n2"}
        victim.kill()
        await streaming
        await eventually(
            lambda: _owned_by(cluster, {"n1", "n3"}),
            message="the survivors to own all 16 partitions",
            timeout=60,
            interval=0.2,
        )
        await eventually(
            lambda: _journaled_at_least(cluster, len(signal_ids)),
            message="every signal to be journaled",
            timeout=120,
            interval=0.2,
        )

        journaled = await cluster.signals_journaled()
        orders = await cluster.orders_by_signal()
        reports = await cluster.verify()
        taken_over = {
            line["partition"]: line.get("from_checkpoint")
            for node in (cluster.nodes["n1"], cluster.nodes["n3"])
            for line in node.lines()
            if line.get("event") == "partition started" and line["partition"] in victim_partitions
        }
    finally:
        await cluster.stop()

    assert victim_partitions, "the killed node owned no partition: the test proved nothing"
    assert set(taken_over) == victim_partitions
    # (a partition with fewer events than a checkpoint's worth has none to go on from)
    assert any(taken_over.values()), f"every takeover replayed from seq 1: {taken_over}"
    assert sorted(journaled) == sorted(signal_ids)  # each exactly once
    assert orders == dict.fromkeys(signal_ids, 1)  # exactly one order each
    assert {p: r.problems for p, r in reports.items()} == {p: [] for p in range(16)}


async def _owned_by(cluster: Cluster, nodes: set[str]) -> bool:
    owners = await cluster.owners()
    return set(owners) == set(range(cluster.partitions)) and set(owners.values()) <= nodes


async def _journaled_at_least(cluster: Cluster, count: int) -> bool:
    return len(await cluster.signals_journaled()) >= count


async def test_a_frozen_owner_resumed_after_a_takeover_can_neither_append_nor_send(
    dsn: str, broker: BrokerSession, tmp_path: Path, unused_tcp_port: int
):
    async with simulator_process(unused_tcp_port, "--market", "manual", "--no-rate-limits") as sim:
        async with aiohttp.ClientSession() as http:
            quote = {"symbol": "BTCUSDT", "bid": "50000.0", "ask": "50010.0"}
            async with http.post(f"{sim.rest_url}/sim/quote", json=quote) as answer:
                answer.raise_for_status()
        env, queue = cluster_env(
            broker,
            "freeze",
            ORDERGATE_VENUE="bybit-sim",
            ORDERGATE_SIM_URL=sim.rest_url,
            ORDERGATE_QUOTE_POLL_INTERVAL="0.2",
        )
        cluster = Cluster(dsn, 2, env, tmp_path)
        try:
            await cluster.start("a")
            await eventually(
                lambda: _owned_by(cluster, {"a"}),
                message="a to own both partitions",
                timeout=60,
                interval=0.2,
            )
            await cluster.start("b")
            victim_id = owner_of(partition_of("default", 2), ["a", "b"], 2)
            await eventually(
                lambda: _owner_is(cluster, partition_of("default", 2), victim_id),
                message=f"{victim_id} to own the partition of account 'default'",
                timeout=60,
                interval=0.2,
            )
            victim = cluster.nodes[victim_id]
            survivor = next(n for n in cluster.nodes.values() if n is not victim)
            await publish(broker.connection, queue, [signal_body("before", "default")])
            await eventually(
                lambda: _journaled_at_least(cluster, 1),
                message="the first signal",
                timeout=30,
                interval=0.2,
            )

            victim.freeze()
            frozen_at = time.time()
            await publish(broker.connection, queue, [signal_body("during", "default")])
            await eventually(
                lambda: _owned_by(cluster, {survivor.node_id}),
                message="the survivor to take the frozen node's partition",
                timeout=60,
                interval=0.2,
            )
            await eventually(
                lambda: _journaled_at_least(cluster, 2),
                message="the second signal",
                timeout=60,
                interval=0.2,
            )
            victim.thaw()
            thawed_at = time.time()
            await publish(broker.connection, queue, [signal_body("after", "default")])
            await eventually(
                lambda: _journaled_at_least(cluster, 3),
                message="the third signal",
                timeout=60,
                interval=0.2,
            )
            # The stale node gets past the point where it could act: it halts the partition
            # (its engine and venue client closed) once it sees that its lease lapsed.
            await eventually(
                lambda: _halted(victim, partition_of("default", 2)),
                message=f"{victim.node_id} to halt the partition it lost",
                timeout=60,
                interval=0.2,
            )

            async with (
                aiohttp.ClientSession() as http,
                http.get(
                    f"{sim.rest_url}/sim/requests", params={"path": "/v5/order/create"}
                ) as answer,
            ):
                creates = (await answer.json())["requests"]
            epochs = await cluster.query(
                "SELECT epoch, min(seq) AS first, max(seq) AS last FROM journal "
                "WHERE partition_id = $1 GROUP BY epoch ORDER BY epoch",
                partition_of("default", 2),
            )
            journaled = await cluster.signals_journaled()
            orders = await cluster.orders_by_signal()
        finally:
            await cluster.stop()

    stale_sends = [
        c for c in creates if c["client"] == victim.node_id and c["ms"] >= thawed_at * 1000
    ]
    assert stale_sends == []  # the resumed node sent nothing
    assert [r["epoch"] for r in epochs] == sorted(r["epoch"] for r in epochs)
    # no row of the old owner's epoch comes after the takeover's first row
    assert all(a["last"] < b["first"] for a, b in itertools.pairwise(epochs))
    assert sorted(journaled) == ["after", "before", "during"]
    assert orders == {"before": 1, "during": 1, "after": 1}
    fenced = [line for line in victim.lines() if "lease lost" in line.get("event", "")]
    assert fenced, "the resumed node never noticed it had lost its lease"
    assert frozen_at < thawed_at


def _halted(node: Any, partition: int) -> bool:
    return any(
        line.get("event") == "partition halted" and line.get("partition") == partition
        for line in node.lines()
    )


async def _owner_is(cluster: Cluster, partition: int, node_id: str) -> bool:
    return (await cluster.owners()).get(partition) == node_id
