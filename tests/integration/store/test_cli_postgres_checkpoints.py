"""Checkpoints of a PostgreSQL cluster through the tools: `ordergate replay --from-checkpoint`
goes on, per partition, from the newest checkpoint that matches the chain and prints the
full replay's digest; `ordergate verify-journal` compares every checkpoint with the replayed
state at its seq; both in one read-only snapshot of a live cluster.

The journals are written by real engines on two partitions, checkpointing as they go, then
continued by an engine that checkpoints no more: each partition's head lies past its
newest checkpoint, so going on from one replays the events after it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import msgspec
import pytest
from tests.integration.store.pg_rigs import OpenStore, unique
from tests.integration.store.test_cli_postgres import DIGEST, blocks, cli, execute, fetch
from tests.unit.engine.engine_support import (
    D,
    JournalUnderTest,
    Sessions,
    limit_order,
    venue_fill,
)

from ordergate.engine.checkpoint import CHECKPOINTS_KEPT, CheckpointPolicy, decode, encode
from ordergate.engine.digest import state_digest
from ordergate.engine.resume import resume
from ordergate.engine.retention import RetentionPolicy
from ordergate.store.postgres import PostgresStore

PARTITIONS = (0, 1)
FROM = re.compile(r"^  from checkpoint (.+)$", re.MULTILINE)


@dataclass
class CheckpointedCluster:
    """Two partitions with live owners; each partition's checkpoints (newest first), head
    and the digest of its engine's state at the end."""

    dsn: str
    owners: dict[int, PostgresStore]
    checkpoints: dict[int, list[int]]
    heads: dict[int, int]
    digests: dict[int, str]


async def trade(sessions: Sessions, store: PostgresStore, orders: int) -> str:
    """Journal `orders` filled orders on `store`'s partition through an engine that
    checkpoints every 20 events, stop it (a clean stop checkpoints the head), then one more
    order through an engine started from the checkpoint that checkpoints no more. The
    digest of the last engine's state."""
    p = store.partition
    account = f"acct-p{p}"
    journal = JournalUnderTest(store, None)
    first = await sessions.start(
        journal=journal,
        state=(await resume(store)).state,
        fund=(account,),
        checkpoints=CheckpointPolicy(every_events=20, every_seconds=None),
        retention=RetentionPolicy(max_age_seconds=0, max_finished=2),
        watch_interval=None,
    )
    for n in range(orders):
        order = await first.place(limit_order(qty="0.1", account=account, idempotency_key=f"k{n}"))
        first.venue.push(venue_fill(order, "0.1", trade_id=f"T{p}-{n}"))
        await first.settle()
        await first.engine.watch_now()  # retires finished orders: retention is journaled too
    await first.settle()
    await first.engine.stop()

    resumed = await resume(store)
    resumed.state.discard_changes()
    last = await sessions.start(
        venue=first.venue,
        journal=journal,
        market=first.market,
        clock=first.clock,
        state=resumed.state,
        fund=(),
        watch_interval=None,
    )
    order = await last.place(limit_order(qty="0.2", account=account, idempotency_key="last"))
    last.venue.push(venue_fill(order, "0.1", trade_id=f"T{p}-last"))
    await last.settle()
    return state_digest(last.engine.state)


@pytest.fixture
async def cluster(pg_dsn: str, open_store: OpenStore) -> AsyncIterator[CheckpointedCluster]:
    sessions = Sessions()
    try:
        owners = {p: await open_store(partition=p, owner=unique(f"n{p}")) for p in PARTITIONS}
        digests = {p: await trade(sessions, owners[p], orders=10 + 3 * p) for p in PARTITIONS}
        yield CheckpointedCluster(
            pg_dsn,
            owners,
            {p: await owners[p].checkpoint_seqs() for p in PARTITIONS},
            {p: owners[p].head_seq for p in PARTITIONS},
            digests,
        )
    finally:
        await sessions.close()


async def damage(dsn: str, partition: int, *seqs: int) -> None:
    """Overwrite stored checkpoints' payloads with bytes that are not one, as a bad disk
    would."""
    for seq in seqs:
        await execute(
            dsn,
            "UPDATE checkpoints SET payload = decode(md5(payload::text), 'hex') "
            f"WHERE partition_id = {partition} AND seq = {seq}",
        )


def test_cluster_rig_each_partition_head_past_its_checkpoints(
    cluster: CheckpointedCluster,
) -> None:
    """What the tests below rely on: three checkpoints per partition, the head beyond the
    newest, and two different journals."""
    for p in PARTITIONS:
        assert len(cluster.checkpoints[p]) == CHECKPOINTS_KEPT, cluster.checkpoints
        assert 0 < cluster.checkpoints[p][0] < cluster.heads[p], (cluster.checkpoints, p)
    assert cluster.digests[0] != cluster.digests[1]


async def test_replay_postgres_from_checkpoint_each_partition_digest_of_the_full_replay(
    cluster: CheckpointedCluster,
) -> None:
    full = await cli("replay", "--db", cluster.dsn)
    fast = await cli("replay", "--db", cluster.dsn, "--from-checkpoint")

    assert (full.exit_code, fast.exit_code) == (0, 0), (full.output, fast.output)
    fast_blocks = blocks(fast.stdout)
    assert {p: DIGEST.findall(b) for p, b in fast_blocks.items()} == {
        p: DIGEST.findall(b) for p, b in blocks(full.stdout).items()
    }
    assert {p: DIGEST.findall(b) for p, b in fast_blocks.items()} == {
        p: [cluster.digests[p]] for p in PARTITIONS
    }
    assert {p: FROM.findall(b) for p, b in fast_blocks.items()} == {
        p: [str(cluster.checkpoints[p][0])] for p in PARTITIONS
    }
    for p in PARTITIONS:
        assert f"  head       {cluster.heads[p]} " in fast_blocks[p]
    assert "passed over" not in fast.stderr
    assert "from checkpoint" not in full.stdout


async def test_replay_postgres_from_checkpoint_one_partition_only(
    cluster: CheckpointedCluster,
) -> None:
    result = await cli("replay", "--db", cluster.dsn, "--from-checkpoint", "--partition", "1")

    assert result.exit_code == 0, result.output
    assert list(blocks(result.stdout)) == [1]
    assert FROM.findall(result.stdout) == [str(cluster.checkpoints[1][0])]
    assert DIGEST.findall(result.stdout) == [cluster.digests[1]]


async def test_replay_postgres_from_checkpoint_damaged_newest_goes_on_from_the_older(
    cluster: CheckpointedCluster,
) -> None:
    newest, older, _ = cluster.checkpoints[1]
    await damage(cluster.dsn, 1, newest)

    result = await cli("replay", "--db", cluster.dsn, "--from-checkpoint")

    assert result.exit_code == 0, result.output
    parts = blocks(result.stdout)
    assert FROM.findall(parts[1]) == [str(older)]
    assert FROM.findall(parts[0]) == [str(cluster.checkpoints[0][0])]  # untouched
    assert {p: DIGEST.findall(b) for p, b in parts.items()} == {
        p: [cluster.digests[p]] for p in PARTITIONS
    }
    assert re.search(
        rf"^partition 1: checkpoint passed over: seq {newest}: checkpoint does not decode",
        result.stderr,
        re.MULTILINE,
    ), result.stderr
    assert "partition 0: checkpoint passed over" not in result.stderr


async def test_replay_postgres_from_checkpoint_every_one_damaged_replays_from_seq_1(
    cluster: CheckpointedCluster,
) -> None:
    await damage(cluster.dsn, 0, *cluster.checkpoints[0])

    result = await cli("replay", "--db", cluster.dsn, "--from-checkpoint")

    assert result.exit_code == 0, result.output
    parts = blocks(result.stdout)
    assert FROM.findall(parts[0]) == ["none: seq 1"]
    assert DIGEST.findall(parts[0]) == [cluster.digests[0]]
    assert DIGEST.findall(parts[1]) == [cluster.digests[1]]
    assert result.stderr.count("partition 0: checkpoint passed over") == CHECKPOINTS_KEPT


async def test_verify_journal_postgres_every_checkpoint_compared_exit_0(
    cluster: CheckpointedCluster,
) -> None:
    result = await cli("verify-journal", "--db", cluster.dsn)

    assert result.exit_code == 0, result.output
    parts = blocks(result.stdout)
    for p in PARTITIONS:
        assert f"  checkpoints {CHECKPOINTS_KEPT}\n" in parts[p]
        assert DIGEST.findall(parts[p]) == [cluster.digests[p]]
    assert f"{2 * CHECKPOINTS_KEPT} checkpoints: each the replay at its seq" in result.stdout
    assert "PROBLEM" not in result.stdout


async def test_verify_journal_postgres_damaged_checkpoint_names_partition_and_seq_exit_1(
    cluster: CheckpointedCluster,
) -> None:
    _, middle, _ = cluster.checkpoints[1]
    await damage(cluster.dsn, 1, middle)

    result = await cli("verify-journal", "--db", cluster.dsn)

    assert result.exit_code == 1, result.output
    problems = re.findall(r"^PROBLEM    (.*)$", result.stdout, re.MULTILINE)
    assert len(problems) == 1, problems
    assert problems[0].startswith(
        f"partition 1: checkpoint at seq {middle}: checkpoint does not decode"
    ), problems
    assert "verified" not in result.stdout


async def test_verify_journal_postgres_checkpoint_of_another_state_names_its_fields_exit_1(
    cluster: CheckpointedCluster,
) -> None:
    """A checkpoint that decodes, and names the chain's hash at its seq, but holds another
    state: one balance off. A start would go on from it, so verification must catch it."""
    newest = cluster.checkpoints[0][0]
    [row] = await fetch(
        cluster.dsn, f"SELECT payload FROM checkpoints WHERE partition_id = 0 AND seq = {newest}"
    )
    kept = decode(bytes(row["payload"]))
    account = kept.accounts[0]
    currency, balance = account.balances[0]
    forged = msgspec.structs.replace(
        kept,
        accounts=[
            msgspec.structs.replace(account, balances=[(currency, balance + D(1))]),
            *kept.accounts[1:],
        ],
    )
    await execute(
        cluster.dsn,
        f"UPDATE checkpoints SET payload = '\\x{encode(forged).hex()}'::bytea "
        f"WHERE partition_id = 0 AND seq = {newest}",
    )

    result = await cli("verify-journal", "--db", cluster.dsn)

    assert result.exit_code == 1, result.output
    assert (
        f"PROBLEM    partition 0: checkpoint at seq {newest}: differs from the replay in accounts\n"
    ) in result.stdout


async def test_commands_postgres_checkpoints_live_cluster_left_untouched(
    cluster: CheckpointedCluster,
) -> None:
    tables = {  # a takeover would raise a partition's epoch and change its owner
        "heads": "SELECT partition_id, epoch, owner, head_seq, head_hash FROM partition_head "
        "ORDER BY partition_id",
        "journal": "SELECT partition_id, count(*) FROM journal GROUP BY 1 ORDER BY 1",
        "checkpoints": "SELECT partition_id, seq, head_hash, ts, md5(payload) "
        "FROM checkpoints ORDER BY 1, 2",
    }
    before = {name: await fetch(cluster.dsn, query) for name, query in tables.items()}

    results = [
        await cli("replay", "--db", cluster.dsn, "--from-checkpoint"),
        await cli("verify-journal", "--db", cluster.dsn),
    ]

    assert [r.exit_code for r in results] == [0, 0], [r.output for r in results]
    assert {name: await fetch(cluster.dsn, query) for name, query in tables.items()} == before
    assert [len(before["checkpoints"]), len(before["heads"])] == [2 * CHECKPOINTS_KEPT, 2]


async def test_replay_postgres_from_checkpoint_events_not_folding_onto_it_goes_on_from_older(
    cluster: CheckpointedCluster,
) -> None:
    """A checkpoint that decodes and names the chain's hash, but whose state the events
    after it do not fold onto (it knows no instrument): passed over after a partial replay
    in the snapshot, whose next replay, from the older one, still reads the whole rest."""
    newest, older, _ = cluster.checkpoints[0]
    [row] = await fetch(
        cluster.dsn, f"SELECT payload FROM checkpoints WHERE partition_id = 0 AND seq = {newest}"
    )
    forged = msgspec.structs.replace(decode(bytes(row["payload"])), instruments=[])
    await execute(
        cluster.dsn,
        f"UPDATE checkpoints SET payload = '\\x{encode(forged).hex()}'::bytea "
        f"WHERE partition_id = 0 AND seq = {newest}",
    )

    result = await cli("replay", "--db", cluster.dsn, "--from-checkpoint")

    assert result.exit_code == 0, result.output
    parts = blocks(result.stdout)
    assert FROM.findall(parts[0]) == [str(older)]
    assert DIGEST.findall(parts[0]) == [cluster.digests[0]]
    assert re.search(
        rf"^partition 0: checkpoint passed over: seq {newest}: the events after it do not "
        "fold onto it",
        result.stderr,
        re.MULTILINE,
    ), result.stderr
