"""`ORDERGATE_AUDIT_JSONL`: every committed event appended to a JSON-lines file after
commit, resumed after a restart without a gap or a repeat, rotated into files that
verify on their own."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner
from tests.waiting import eventually

from ordergate.cli.main import main
from ordergate.config.settings import Settings
from ordergate.domain.values import Side
from ordergate.oms import Oms


def settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(  # type: ignore[call-arg]
        db=str(tmp_path / "og.db"),
        paper_bars_per_second=0,
        audit_jsonl=tmp_path / "logs" / "orders.jsonl",
        reconcile_interval_seconds=None,
        _env_file=None,
        **overrides,
    )


def seqs(path: Path) -> list[int]:
    return [
        json.loads(line)["seq"]
        for line in path.read_bytes().splitlines()
        if line.startswith(b'{"partition":')
    ]


async def place(oms: Oms, count: int) -> None:
    for i in range(count):
        await oms.place("BTCUSDT", Side.BUY if i % 2 == 0 else Side.SELL, Decimal("0.001"))


def verify(path: Path) -> str:
    result = CliRunner().invoke(main, ["verify-journal", "--jsonl", str(path)])
    assert result.exit_code == 0, result.output
    return result.output


async def test_every_committed_event_reaches_the_file_in_order(
    isolated_environment: Path, tmp_path: Path
) -> None:
    config = settings(tmp_path)
    async with Oms(config) as oms:
        await place(oms, 5)
        head = oms.app.partition.store.head_seq
        await eventually(lambda: seqs(config.audit_jsonl).count(head) == 1)  # type: ignore[arg-type]

    written = seqs(config.audit_jsonl)  # type: ignore[arg-type]
    assert written == list(range(written[0], written[0] + len(written)))
    assert written[-1] >= head


async def test_a_restart_resumes_where_the_file_ends_no_gap_no_repeat(
    isolated_environment: Path, tmp_path: Path
) -> None:
    config = settings(tmp_path)
    async with Oms(config) as oms:
        await place(oms, 3)
    # A crash mid-line: the torn tail is cut off on the next start.
    with config.audit_jsonl.open("ab") as torn:  # type: ignore[union-attr]
        torn.write(b'{"partition":0,"seq":99999,"ts"')
    async with Oms(config) as oms:
        await place(oms, 3)
        head = oms.app.partition.store.head_seq

    written = seqs(config.audit_jsonl)  # type: ignore[arg-type]
    assert written == list(range(written[0], head + 1))


async def test_rotation_keeps_backups_that_verify_on_their_own(
    isolated_environment: Path, tmp_path: Path
) -> None:
    config = settings(tmp_path, audit_jsonl_max_bytes=65_536, audit_jsonl_backups=2)
    path: Path = config.audit_jsonl  # type: ignore[assignment]
    async with Oms(config) as oms:
        await place(oms, 150)
        head = oms.app.partition.store.head_seq
        await eventually(lambda: (seqs(path) or [0])[-1] == head)

    rotated = [path.with_name(f"orders.jsonl.{n}") for n in (1, 2)]
    assert all(r.exists() for r in rotated)
    assert not path.with_name("orders.jsonl.3").exists()
    for r in rotated:
        assert "verified" in verify(r)
    assert seqs(rotated[1])[-1] + 1 == seqs(rotated[0])[0]
    assert seqs(rotated[0])[-1] + 1 == seqs(path)[0]


async def test_a_lost_file_starts_again_at_the_journal_head(
    isolated_environment: Path, tmp_path: Path
) -> None:
    config = settings(tmp_path)
    path: Path = config.audit_jsonl  # type: ignore[assignment]
    async with Oms(config) as oms:
        await place(oms, 2)
    await asyncio.to_thread(path.unlink)
    async with Oms(config) as oms:
        head_at_start = oms.app.partition.store.head_seq
        await place(oms, 2)
        head = oms.app.partition.store.head_seq

    written = seqs(path)
    assert written[0] > 1  # the history before it is export's to write
    assert written[0] <= head_at_start + 1  # from where this run's file was opened
    assert written[-1] == head
