"""`ordergate export --jsonl` and `ordergate verify-journal --jsonl`: a SQLite journal
written by the real app, exported, and checked from the file alone; any byte changed
fails, naming its line."""

from __future__ import annotations

import asyncio
import json
import random
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.integration.api.support import make_settings, running

from ordergate.cli.main import main


async def cli(*args: str) -> Result:
    """The command as a user runs it; off the event loop, as it runs one of its own."""
    return await asyncio.to_thread(CliRunner().invoke, main, list(args))


@pytest.fixture
async def journal(market: Path, tmp_path: Path) -> Path:
    """A journal of market buys, a resting limit and a denial, written through the API."""
    db = tmp_path / "og.db"
    async with running(make_settings(market, db=str(db))) as api:
        for i in range(3):
            await api.place(symbol="EURUSD", side="BUY", qty="0.10", idempotency_key=f"k{i}")
        await api.place(symbol="EURUSD", side="BUY", qty="0.10", type="LIMIT", price="1.00000")
        await api.place(symbol="XAUUSD", side="BUY", qty="1")
        await api.settle()
    return db


async def exported(journal: Path, *options: str) -> Path:
    out = journal.parent / "journal.jsonl"
    result = await cli("export", "--db", str(journal), "--jsonl", "-o", str(out), *options)
    assert result.exit_code == 0, result.output
    return out


def head_of(output: str) -> tuple[int, str]:
    found = re.search(r"^head\s+(\d+) (\w+)$", output, re.MULTILINE)
    assert found is not None, output
    return int(found.group(1)), found.group(2)


async def test_export_then_verify_passes_and_ends_at_the_journal_head(journal: Path) -> None:
    out = await exported(journal)
    replay = await cli("replay", "--db", str(journal))

    verified = await cli("verify-journal", "--jsonl", str(out))

    seq, digest = head_of(replay.output)
    lines = out.read_bytes().splitlines()
    assert verified.exit_code == 0, verified.output
    assert f"records    {seq}\n" in verified.output
    assert f"partition  0: seq 1..{seq}, head {digest}" in verified.output
    assert len(lines) == seq + 2  # header, one line per record, footer
    assert json.loads(lines[-1]) == {
        "heads": [{"partition": 0, "seq": seq, "hash": digest}],
        "records": seq,
    }
    assert json.loads(lines[1])["type"] == "JournalOpened"


async def test_any_one_byte_changed_fails_naming_its_line(journal: Path) -> None:
    original = (await exported(journal)).read_bytes()
    lines = original.splitlines(keepends=True)
    rng = random.Random(12)
    for _ in range(40):
        number = rng.randrange(len(lines))
        position = rng.randrange(len(lines[number]) - 1)  # not the newline
        changed = bytearray(lines[number])
        changed[position] = (changed[position] + rng.randrange(1, 255)) % 256
        if changed[position] == ord("\n"):
            continue
        tampered = journal.parent / "tampered.jsonl"
        tampered.write_bytes(b"".join([*lines[:number], bytes(changed), *lines[number + 1 :]]))

        result = await cli("verify-journal", "--jsonl", str(tampered))

        assert result.exit_code == 1, (number, position, result.output)
        assert f"line {number + 1}" in result.output, (number, position, result.output)


async def test_a_truncated_export_fails_for_its_missing_footer(journal: Path) -> None:
    out = await exported(journal)
    out.write_bytes(b"".join(out.read_bytes().splitlines(keepends=True)[:-3]))

    result = await cli("verify-journal", "--jsonl", str(out))

    assert result.exit_code == 1
    assert "no footer" in result.output


async def test_a_record_removed_fails_at_the_gap(journal: Path) -> None:
    out = await exported(journal)
    lines = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(b"".join([*lines[:4], *lines[5:]]))

    result = await cli("verify-journal", "--jsonl", str(out))

    assert result.exit_code == 1
    assert "line 5: seq 5 where 4 was expected" in result.output


async def test_a_seq_window_exports_a_chain_that_verifies_on_its_own(journal: Path) -> None:
    out = await exported(journal, "--from", "3", "--to", "6")

    result = await cli("verify-journal", "--jsonl", str(out))

    assert result.exit_code == 0, result.output
    assert "records    4\n" in result.output
    assert "partition  0: seq 3..6" in result.output
    assert "starts after seq 2" in result.output


async def test_a_time_window_is_cut_at_whole_records(journal: Path) -> None:
    everything = [
        json.loads(line) for line in (await exported(journal)).read_bytes().splitlines()[1:-1]
    ]
    middle = everything[len(everything) // 2]["time"]

    out = await exported(journal, "--from", middle)
    result = await cli("verify-journal", "--jsonl", str(out))

    kept = [json.loads(line) for line in out.read_bytes().splitlines()[1:-1]]
    assert result.exit_code == 0, result.output
    assert kept == [r for r in everything if r["ts"] >= kept[0]["ts"]]
    assert kept[0]["time"] >= middle


async def test_verify_journal_needs_exactly_one_of_db_and_jsonl(journal: Path) -> None:
    neither = await cli("verify-journal")
    both = await cli("verify-journal", "--db", str(journal), "--jsonl", str(journal))

    assert neither.exit_code == 2
    assert both.exit_code == 2
    assert "one of --db and --jsonl" in neither.output
