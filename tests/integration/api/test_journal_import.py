"""`ordergate import --jsonl`: a journal written by the real app (fills, cancels, a denial,
retired orders and a recall), exported, and restored into a new SQLite file and into
PostgreSQL: the same chain, the same replay digest, the same read models. A changed byte,
a partial export and a target that is not empty are refused, and leave the target as it
was."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest
from click.testing import CliRunner, Result
from tests.integration.api.support import make_settings, running
from tests.pg_support import isolated_schema

from ordergate.app.journal_import import import_jsonl
from ordergate.cli.main import main
from ordergate.domain.errors import JournalCorrupted, RestoreRefused
from ordergate.engine.chain import link
from ordergate.engine.jsonl import Head, JsonlVerifier, footer_line, record_line
from ordergate.engine.views import ReadModelChanges
from ordergate.store.postgres.snapshot import open_snapshot
from ordergate.store.sqlite import SqliteStore

DIGEST = re.compile(r"^ *digest\s+(\S+)$", re.MULTILINE)
HEAD = re.compile(r"^ *head\s+(\d+) (\w+)$", re.MULTILINE)


async def cli(*args: str) -> Result:
    """The command as a user runs it; off the event loop, as it runs one of its own."""
    return await asyncio.to_thread(CliRunner().invoke, main, list(args))


def no_progress(description: str, total: int) -> Callable[[int], None]:
    return lambda n: None


@pytest.fixture
async def journal(market: Path, tmp_path: Path) -> Path:
    """A SQLite journal written through the API: market buys that fill, a resting limit
    that is cancelled, another that fills when the market moves, a denial; every finished
    order but one retired (retention keeps one), then an old idempotency key used again,
    which recalls its retired order."""
    db = tmp_path / "original.db"
    settings = make_settings(market, db=str(db), retention_max_finished=1)
    async with running(settings) as api:
        first = [
            await api.place(symbol="EURUSD", side="BUY", qty="0.10", idempotency_key=f"k{i}")
            for i in range(3)
        ]
        await api.place(symbol="BTCUSDT", side="BUY", qty="0.010", idempotency_key="btc-1")
        resting = await api.place(
            symbol="EURUSD", side="BUY", qty="0.10", type="LIMIT", price="1.00000"
        )
        await api.place(
            symbol="EURUSD", side="SELL", qty="0.10", type="LIMIT", price="1.10300"
        )  # fills when the market reaches it
        await api.place(symbol="XAUUSD", side="BUY", qty="1")  # denied: unknown instrument
        await api.settle()
        response = await api.http.post(f"/v1/orders/{resting['id']}/cancel")
        assert response.status_code in (200, 202), response.text
        await api.advance(7)
        await api.application.partition.engine.watch_now()
        await api.settle()
        again = await api.place(
            200, symbol="EURUSD", side="BUY", qty="0.10", idempotency_key="k0"
        )  # the same order, recalled from the retired orders
        assert again["id"] == first[0]["id"]
        await api.settle()
    return db


async def exported(journal: Path, *options: str) -> Path:
    out = journal.parent / ("journal" + "".join(options).replace("-", "_") + ".jsonl")
    result = await cli("export", "--db", str(journal), "--jsonl", "-o", str(out), *options)
    assert result.exit_code == 0, result.output
    return out


async def sqlite_read_models(path: Path) -> ReadModelChanges:
    store = SqliteStore(path)
    try:
        return await store.snapshot()
    finally:
        await store.close()


async def postgres_read_models(dsn: str) -> ReadModelChanges:
    async with open_snapshot(dsn) as snapshot:
        return await snapshot.read_models()


def comparable(models: ReadModelChanges) -> dict[str, list[str]]:
    """The rows as sorted text: the stores list them in their own orders, and a fill's
    number is the store's own."""
    return {
        "orders": sorted(map(repr, models.orders)),
        "fills": sorted(
            repr((f.account, f.order_id, f.trade_id, f.qty, f.price, f.fee, f.ts))
            for f in models.fills
        ),
        "positions": sorted(map(repr, models.positions)),
        "balances": sorted(map(repr, models.balances)),
        "retired": sorted(map(repr, models.retired)),
    }


async def journal_rows(path: Path) -> list[tuple[Any, ...]]:
    store = SqliteStore(path)
    try:
        return [msgspec.structs.astuple(r) for r in store.records()]
    finally:
        await store.close()


async def pg_journal_rows(dsn: str) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT partition_id, seq, ts, stream, type, version, payload, prev_hash, hash "
            "FROM journal ORDER BY partition_id, seq"
        )
    finally:
        await conn.close()
    return [tuple(bytes(v) if isinstance(v, bytes) else v for v in r) for r in rows]


async def pg_counts(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        return {
            table: int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
            for table in ("journal", "orders", "fills", "positions", "balances", "retired_orders")
        }
    finally:
        await conn.close()


async def pg_tables(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
            )
        )
    finally:
        await conn.close()


def digest_of(output: str) -> str:
    found = DIGEST.findall(output)
    assert len(found) == 1, output
    return str(found[0])


async def test_journal_fixture_holds_fills_cancels_retirements_and_a_recall(
    journal: Path,
) -> None:
    types = {r[4] for r in await journal_rows(journal)}
    models = await sqlite_read_models(journal)

    assert {"OrderFilled", "OrderCanceled", "OrderDenied"} <= types
    assert {"FinishedOrdersRetired", "RetiredOrderRecalled"} <= types
    assert models.fills
    assert models.retired
    assert models.positions


async def test_import_sqlite_export_into_new_sqlite_same_chain_digest_and_read_models(
    journal: Path, tmp_path: Path
) -> None:
    target = tmp_path / "restored.db"
    export = await exported(journal)

    result = await cli("import", "--jsonl", str(export), "--db", str(target))

    assert result.exit_code == 0, result.output
    records = await journal_rows(journal)
    assert f"imported   {len(records)} records" in result.output
    assert "api keys   none restored" in result.output
    assert await journal_rows(target) == records  # seqs, payloads and hashes, byte for byte
    verified = await cli("verify-journal", "--db", str(target))
    assert verified.exit_code == 0, verified.output
    assert "read models match the replay" in verified.output
    original = await cli("replay", "--db", str(journal))
    restored = await cli("replay", "--db", str(target))
    assert restored.exit_code == 0, restored.output
    assert digest_of(restored.output) == digest_of(original.output)
    assert HEAD.findall(restored.output) == HEAD.findall(original.output)
    assert comparable(await sqlite_read_models(target)) == comparable(
        await sqlite_read_models(journal)
    )


async def test_import_sqlite_export_into_postgres_same_chain_digest_and_read_models(
    journal: Path,
) -> None:
    export = await exported(journal)
    async with isolated_schema() as dsn:
        result = await cli("import", "--jsonl", str(export), "--db", dsn)

        assert result.exit_code == 0, result.output
        assert await pg_journal_rows(dsn) == await journal_rows(journal)
        verified = await cli("verify-journal", "--db", dsn)
        assert verified.exit_code == 0, verified.output
        original = await cli("replay", "--db", str(journal))
        restored = await cli("replay", "--db", dsn)
        assert restored.exit_code == 0, restored.output
        assert digest_of(restored.output) == digest_of(original.output)
        assert comparable(await postgres_read_models(dsn)) == comparable(
            await sqlite_read_models(journal)
        )
        # and back out: the restored cluster exports the very same file
        again = journal.parent / "again.jsonl"
        out = await cli("export", "--db", dsn, "--jsonl", "-o", str(again))
        assert out.exit_code == 0, out.output
        assert again.read_bytes() == export.read_bytes()


async def test_import_one_byte_changed_refused_target_left_empty(
    journal: Path, tmp_path: Path
) -> None:
    export = await exported(journal)
    lines = export.read_bytes().splitlines(keepends=True)
    middle = len(lines) // 2
    changed = bytearray(lines[middle])
    at = changed.index(b'"ts":') + 6
    changed[at] = ord("1") if changed[at] != ord("1") else ord("2")
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_bytes(b"".join([*lines[:middle], bytes(changed), *lines[middle + 1 :]]))
    target = tmp_path / "restored.db"

    result = await cli("import", "--jsonl", str(tampered), "--db", str(target))

    assert result.exit_code == 1
    assert "does not verify" in result.output
    assert f"line {middle + 1}" in result.output
    assert not target.exists()
    async with isolated_schema() as dsn:
        with pytest.raises(JournalCorrupted, match=f"line {middle + 1}"):
            await import_jsonl(tampered, dsn, no_progress)
        assert await pg_tables(dsn) == 0  # refused before the target was opened


def unreplayable(export: Path) -> Path:
    """The export with one more record that links and decodes, so the file verifies on its
    own, but that replay refuses: the journal's opening event again, at the end."""
    lines = export.read_bytes().splitlines(keepends=True)
    verifier = JsonlVerifier()
    records = [r for line in lines[:-1] if (r := verifier.line(line)) is not None]
    opening, last = records[0], records[-1]
    seq = last.seq + 1
    digest = link(
        last.hash, 0, seq, last.ts, opening.stream, opening.type, opening.version, opening.payload
    )
    again = msgspec.structs.replace(opening, seq=seq, ts=last.ts, prev_hash=last.hash, hash=digest)
    out = export.with_name("unreplayable.jsonl")
    footer = footer_line([Head(0, seq, digest)], len(records) + 1)
    out.write_bytes(b"".join([*lines[:-1], record_line(again), footer]))
    return out


async def test_import_refused_after_batches_written_rolls_back_sqlite_and_postgres(
    journal: Path, tmp_path: Path
) -> None:
    """A file that verifies but does not replay is refused at its last record, after
    batches of 4 were written: the one transaction leaves neither store anything."""
    broken = unreplayable(await exported(journal))
    verified = await cli("verify-journal", "--jsonl", str(broken))
    assert verified.exit_code == 0, verified.output
    target = tmp_path / "restored.db"
    written: list[int] = []

    def progress(description: str, total: int) -> Any:
        return written.append

    with pytest.raises(JournalCorrupted, match="replay failed"):
        await import_jsonl(broken, str(target), progress, batch_records=4)

    assert len(written) > 2  # batches were written before the refusal
    assert not target.exists()
    async with isolated_schema() as dsn:
        written.clear()
        with pytest.raises(JournalCorrupted, match="replay failed"):
            await import_jsonl(broken, dsn, progress, batch_records=4)

        assert len(written) > 2
        assert set((await pg_counts(dsn)).values()) == {0}


async def test_import_partial_export_refused_as_partial(journal: Path, tmp_path: Path) -> None:
    export = await exported(journal, "--from", "10")
    target = tmp_path / "restored.db"

    result = await cli("import", "--jsonl", str(export), "--db", str(target))

    assert result.exit_code == 1
    assert "partial" in result.output
    assert "partition 0 starts at seq 10" in result.output
    assert not target.exists()
    with pytest.raises(RestoreRefused, match="partial"):
        await import_jsonl(export, str(target), no_progress)


async def test_import_into_existing_sqlite_journal_refused_and_unchanged(
    journal: Path,
) -> None:
    export = await exported(journal)
    before = await journal_rows(journal)

    result = await cli("import", "--jsonl", str(export), "--db", str(journal))

    assert result.exit_code == 1
    assert "not empty" in result.output
    assert f"{len(before)} journal records" in result.output
    assert await journal_rows(journal) == before


async def test_import_into_non_empty_postgres_refused_and_unchanged(journal: Path) -> None:
    export = await exported(journal)
    async with isolated_schema() as dsn:
        await import_jsonl(export, dsn, no_progress)
        before = await pg_counts(dsn)

        with pytest.raises(RestoreRefused, match="not empty"):
            await import_jsonl(export, dsn, no_progress)

        assert await pg_counts(dsn) == before


async def test_import_into_empty_existing_sqlite_file_keeps_its_api_keys(
    journal: Path, tmp_path: Path
) -> None:
    """A store made for the restore (its schema, an operator's key) is empty: the import
    goes ahead, and the key is still there after."""
    target = tmp_path / "restored.db"
    created = await cli("keys", "create", "--scope", "admin", "--db", str(target))
    assert created.exit_code == 0, created.output
    export = await exported(journal)

    result = await cli("import", "--jsonl", str(export), "--db", str(target))

    assert result.exit_code == 0, result.output
    listed = await cli("keys", "list", "--db", str(target))
    assert listed.exit_code == 0, listed.output
    assert "admin" in listed.output
    assert (await cli("verify-journal", "--db", str(target))).exit_code == 0


async def test_import_missing_file_exit_2_names_it(tmp_path: Path) -> None:
    result = await cli(
        "import", "--jsonl", str(tmp_path / "nope.jsonl"), "--db", str(tmp_path / "t.db")
    )

    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert not (tmp_path / "t.db").exists()
