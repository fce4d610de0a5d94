"""`ordergate import` of a PostgreSQL cluster's export (two partitions): restored into
another database partition by partition, the same chains and read models; refused by a
SQLite target, which holds partition 0 only; and a restored partition fences a node that
still held it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.integration.store.pg_rigs import OpenStore, unique
from tests.integration.store.test_cli_postgres import blocks, cli, fetch, partition_one_batches
from tests.pg_support import isolated_schema
from tests.unit.store.scenario import load

from ordergate.app.journal_import import import_jsonl
from ordergate.domain.errors import JournalFenced, RestoreRefused
from ordergate.engine.state import OmsState

JOURNAL = (
    "SELECT partition_id, seq, ts, stream, type, version, payload, prev_hash, hash "
    "FROM journal ORDER BY partition_id, seq"
)


def no_progress(description: str, total: int) -> Callable[[int], None]:
    return lambda n: None


@pytest.fixture
async def cluster_export(pg_dsn: str, open_store: OpenStore, tmp_path: Path) -> Path:
    """Two partitions written by their owners (as test_cli_postgres's cluster), exported."""
    zero = await open_store(partition=0, owner=unique("n0"))
    one = await open_store(partition=1, owner=unique("n1"))
    await load(zero)
    state = OmsState(1)
    for batch in partition_one_batches():
        for event in batch:
            state.apply(event)
        await one.append(batch, state.take_changes())
    out = tmp_path / "cluster.jsonl"
    result = await cli("export", "--db", pg_dsn, "--jsonl", "-o", str(out))
    assert result.exit_code == 0, result.output
    return out


async def test_import_postgres_export_two_partitions_same_chains_and_digests(
    pg_dsn: str, cluster_export: Path
) -> None:
    async with isolated_schema() as target:
        result = await cli("import", "--jsonl", str(cluster_export), "--db", target)

        assert result.exit_code == 0, result.output
        assert "partition  0: seq 1.." in result.output
        assert "partition  1: seq 1..7" in result.output
        assert await fetch(target, JOURNAL) == await fetch(pg_dsn, JOURNAL)
        verified = await cli("verify-journal", "--db", target)
        assert verified.exit_code == 0, verified.output
        original = await cli("replay", "--db", pg_dsn)
        restored = await cli("replay", "--db", target)
        assert blocks(restored.output) == blocks(original.output)
        models = "SELECT * FROM {} ORDER BY 1, 2"
        for table in ("orders", "positions", "balances", "retired_orders"):
            assert await fetch(target, models.format(table)) == await fetch(
                pg_dsn, models.format(table)
            ), table
        heads = await fetch(target, "SELECT owner, head_seq FROM partition_head ORDER BY 1")
        assert {r["owner"] for r in heads} == {"ordergate import"}


async def test_import_postgres_export_into_sqlite_refused_for_its_other_partition(
    cluster_export: Path, tmp_path: Path
) -> None:
    target = tmp_path / "restored.db"

    with pytest.raises(RestoreRefused, match=r"partition 0 only.*partition 1"):
        await import_jsonl(cluster_export, str(target), no_progress)

    assert not target.exists()


async def test_import_postgres_takes_partitions_over_fencing_a_node_that_held_one(
    cluster_export: Path, open_store: OpenStore
) -> None:
    """A node started on the empty target (its head row at seq 0) is fenced by the restore:
    its next append fails, and the restored chain is left whole."""
    async with isolated_schema() as target:
        early = await open_store(dsn=target, partition=1, owner=unique("early"))

        await import_jsonl(cluster_export, target, no_progress)

        with pytest.raises(JournalFenced):
            await early.append(partition_one_batches()[0], OmsState(1).take_changes())
        assert (await cli("verify-journal", "--db", target)).exit_code == 0


async def test_import_postgres_unreachable_one_line_exit_1(cluster_export: Path) -> None:
    result = await cli(
        "import", "--jsonl", str(cluster_export), "--db", "postgresql://nobody@127.0.0.1:1/x"
    )

    assert result.exit_code == 1
    assert "import failed: connecting to PostgreSQL" in result.output
    assert "Traceback" not in result.output
