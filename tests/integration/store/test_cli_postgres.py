"""`ordergate replay` and `ordergate verify-journal` on a PostgreSQL journal: every partition
read in one snapshot, problems found, and a live cluster's partitions left untouched."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import asyncpg
import msgspec
import pytest
from click.testing import CliRunner, Result
from tests.fakes import BTC
from tests.integration.store.pg_rigs import OpenStore, unique
from tests.unit.store.scenario import fill_for, load, order_init

from ordergate.cli.main import main
from ordergate.domain.events import (
    BalanceAdjusted,
    Event,
    InstrumentUpdated,
    OrderAccepted,
    OrderApproved,
    OrderSubmitted,
)
from ordergate.engine.digest import state_digest
from ordergate.engine.replay import replay_records
from ordergate.engine.state import OmsState
from ordergate.store.postgres import PostgresStore
from ordergate.store.postgres.snapshot import open_snapshot

D = Decimal
DIGEST = re.compile(r"^  digest\s+(\S+)$", re.MULTILINE)


def partition_one_batches() -> list[list[Event]]:
    """Partition 1's own account: a deposit, then one order, accepted and half filled."""
    order = msgspec.structs.replace(
        order_init(1), order_id="1-1", client_order_id="p1-coid-1", account="b1"
    )
    return [
        [InstrumentUpdated(BTC, 1), BalanceAdjusted("b1", "USDT", D("1000"), "deposit", 2)],
        [order, OrderApproved("1-1", order.price or D(1), order.ts)],
        [OrderSubmitted("1-1", "W1", 2_000), OrderAccepted("1-1", "W1", 2_000)],
        [fill_for(order, 1, order.qty / 2, 2_001)],
    ]


@dataclass
class Cluster:
    """Two partitions, each with a live owner (stores opened with `take_over`)."""

    dsn: str
    owners: dict[int, PostgresStore]
    states: dict[int, OmsState]


@pytest.fixture
async def cluster(pg_dsn: str, open_store: OpenStore) -> Cluster:
    zero = await open_store(partition=0, owner=unique("n0"))
    one = await open_store(partition=1, owner=unique("n1"))
    session = await load(zero)
    state = OmsState(1)
    for batch in partition_one_batches():
        for event in batch:
            state.apply(event)
        await one.append(batch, state.take_changes())
    return Cluster(pg_dsn, {0: zero, 1: one}, {0: session.state, 1: state})


async def cli(*args: str) -> Result:
    """Run the command as a user does; off the event loop, as it runs one of its own."""
    return await asyncio.to_thread(CliRunner().invoke, main, list(args))


async def fetch(dsn: str, query: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(query)
    finally:
        await conn.close()


async def execute(dsn: str, *statements: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def blocks(output: str) -> dict[int, str]:
    """Each `partition N` block of the output, by N."""
    found = re.findall(r"^partition  (\d+)\n((?:  .*\n)+)", output, re.MULTILINE)
    return {int(p): block for p, block in found}


async def test_verify_journal_postgres_two_live_partitions_exit_0(cluster: Cluster) -> None:
    result = await cli("verify-journal", "--db", cluster.dsn)

    assert result.exit_code == 0, result.output
    parts = blocks(result.stdout)
    assert sorted(parts) == [0, 1]
    for p, owner in cluster.owners.items():
        assert f"  events     {owner.head_seq}\n" in parts[p]
        assert f"  digest     {state_digest(cluster.states[p])}\n" in parts[p]
    assert "verified   2 partitions" in result.stdout
    assert "PROBLEM" not in result.stdout


async def test_verify_journal_postgres_read_model_row_altered_exit_1(cluster: Cluster) -> None:
    await execute(cluster.dsn, "UPDATE orders SET filled_qty = '0.001' WHERE order_id = '1-1'")

    result = await cli("verify-journal", "--db", cluster.dsn)

    assert result.exit_code == 1, result.output
    assert "PROBLEM    read models: order 1-1: read model differs from the replay\n" in (
        result.stdout
    )
    assert "verified" not in result.stdout


async def test_verify_journal_postgres_record_altered_names_its_partition_exit_1(
    cluster: Cluster,
) -> None:
    await execute(
        cluster.dsn,
        "ALTER TABLE journal DISABLE TRIGGER journal_no_update",
        "UPDATE journal SET ts = ts + 1 WHERE partition_id = 1 AND seq = 3",
        "ALTER TABLE journal ENABLE TRIGGER journal_no_update",
    )

    result = await cli("verify-journal", "--db", cluster.dsn)

    assert result.exit_code == 1, result.output
    assert "PROBLEM    partition 1: seq 3: hash does not match its content\n" in result.stdout
    assert "  events     2\n" in blocks(result.stdout)[1]


async def test_verify_journal_postgres_head_row_behind_its_chain_exit_1(
    cluster: Cluster,
) -> None:
    await execute(cluster.dsn, "UPDATE partition_head SET head_seq = 2 WHERE partition_id = 1")
    end = cluster.owners[1].head_seq

    result = await cli("verify-journal", "--db", cluster.dsn)

    assert result.exit_code == 1, result.output
    assert re.search(
        rf"^PROBLEM    partition 1: partition_head says seq 2 \w+, "
        rf"the chain ends at seq {end} \w+$",
        result.stdout,
        re.MULTILINE,
    ), result.stdout


async def test_replay_postgres_digest_per_partition_as_a_replay_gives(cluster: Cluster) -> None:
    result = await cli("replay", "--db", cluster.dsn)

    assert result.exit_code == 0, result.output
    parts = blocks(result.stdout)
    assert {p: DIGEST.findall(block) for p, block in parts.items()} == {
        p: [state_digest(state)] for p, state in cluster.states.items()
    }
    assert "  orders     1 (1 open)\n" in parts[1]
    assert "  positions  1 open\n" in parts[1]
    orders = len(cluster.states[0].orders) + 1
    opened = len(cluster.states[0].open_orders) + 1
    events = cluster.owners[0].head_seq + cluster.owners[1].head_seq
    assert f"total      2 partitions, {events} events, {orders} orders ({opened} open)" in (
        result.stdout
    )


async def test_replay_postgres_partition_option_replays_that_one_only(cluster: Cluster) -> None:
    result = await cli("replay", "--db", cluster.dsn, "--partition", "1")

    assert result.exit_code == 0, result.output
    assert list(blocks(result.stdout)) == [1]
    assert DIGEST.findall(result.stdout) == [state_digest(cluster.states[1])]


async def test_replay_postgres_partition_without_journal_exit_1(cluster: Cluster) -> None:
    result = await cli("replay", "--db", cluster.dsn, "--partition", "7")

    assert result.exit_code == 1, result.output
    assert "partition 7 has no journal; the database has partitions 0, 1" in result.stderr


async def test_commands_postgres_live_cluster_left_untouched(cluster: Cluster) -> None:
    heads = "SELECT * FROM partition_head ORDER BY partition_id"
    journal = "SELECT partition_id, count(*) FROM journal GROUP BY partition_id ORDER BY 1"
    before = (await fetch(cluster.dsn, heads), await fetch(cluster.dsn, journal))

    results = [
        await cli("replay", "--db", cluster.dsn),
        await cli("replay", "--db", cluster.dsn, "--partition", "0"),
        await cli("verify-journal", "--db", cluster.dsn),
    ]

    assert [r.exit_code for r in results] == [0, 0, 0], [r.output for r in results]
    assert (await fetch(cluster.dsn, heads), await fetch(cluster.dsn, journal)) == before
    # The owners' fences still hold: nothing took a partition over.
    deposit = [BalanceAdjusted("b1", "USDT", D("1"), "deposit", 3_000)]
    cluster.states[1].apply(deposit[0])
    head = cluster.owners[1].head_seq
    assert await cluster.owners[1].append(deposit, cluster.states[1].take_changes()) == head + 1


async def test_snapshot_postgres_append_after_it_began_not_seen(cluster: Cluster) -> None:
    """The journal read first, an append committed, then the read models read: they are
    still as of the snapshot, so they match the journal as it was read."""
    live = cluster.owners[1]
    deposit = [BalanceAdjusted("b1", "USDT", D("5"), "deposit", 3_000)]
    cluster.states[1].apply(deposit[0])
    head = live.head_seq
    before = await live.balances("b1")

    async with open_snapshot(cluster.dsn) as snapshot:
        _, report = await replay_records(snapshot.journal(1).records_after(), 1)
        await live.append(deposit, cluster.states[1].take_changes())
        read_models = await snapshot.read_models()
        heads = snapshot.partitions

    after = await live.balances("b1")
    assert (report.events, heads[1].head_seq) == (head, head)
    assert [b for b in read_models.balances if b.account == "b1"] == before
    assert [b.balance for b in after] == [before[0].balance + 5]


@pytest.mark.parametrize("command", ["replay", "verify-journal"])
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://postgres@127.0.0.1:1/test", "connecting to PostgreSQL failed"),
        ("postgresql://postgres@127.0.0.1:no-port/test", "the PostgreSQL URL is not valid"),
        ("postgres://postgres@[::1/test", "the PostgreSQL URL is not valid"),
    ],
)
async def test_commands_postgres_bad_url_one_line_exit_1(
    command: str, url: str, message: str
) -> None:
    result = await cli(command, "--db", url)

    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    assert result.stderr.startswith(message), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr


@pytest.mark.parametrize("command", ["replay", "verify-journal"])
async def test_commands_postgres_database_without_schema_exit_1_creates_nothing(
    pg_dsn: str, command: str
) -> None:
    tables = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"

    result = await cli(command, "--db", pg_dsn)

    assert result.exit_code == 1, result.output
    assert "the database holds no ordergate journal" in result.stderr
    assert await fetch(pg_dsn, tables) == []


async def test_replay_sqlite_partition_option_refused() -> None:
    result = await cli("replay", "--db", "og.db", "--partition", "0")

    assert result.exit_code == 2
    assert "PostgreSQL journal only" in result.stderr


async def test_export_postgres_every_partition_then_verify_the_file_exit_0(
    cluster: Cluster, tmp_path: Path
) -> None:
    out = tmp_path / "cluster.jsonl"

    exported = await cli("export", "--db", cluster.dsn, "--jsonl", "-o", str(out))
    verified = await cli("verify-journal", "--jsonl", str(out))

    assert exported.exit_code == 0, exported.output
    assert verified.exit_code == 0, verified.output
    for p, owner in cluster.owners.items():
        assert f"partition  {p}: seq 1..{owner.head_seq}, head " in verified.output


async def test_export_postgres_one_partition_holds_only_its_records(
    cluster: Cluster, tmp_path: Path
) -> None:
    out = tmp_path / "one.jsonl"

    exported = await cli("export", "--db", cluster.dsn, "--partition", "1", "-o", str(out))
    lines = out.read_bytes().splitlines()
    missing = await cli("export", "--db", cluster.dsn, "--partition", "7", "-o", str(out))

    assert exported.exit_code == 0, exported.output
    assert {msgspec.json.decode(line)["partition"] for line in lines[1:-1]} == {1}
    assert missing.exit_code == 1
    assert "partition 7 has no journal" in missing.output
    assert out.read_bytes().splitlines() == lines  # a failed export leaves the file as it was
