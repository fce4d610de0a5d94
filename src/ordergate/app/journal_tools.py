"""The operator's journal tools (`ordergate replay`, `verify-journal`, `export`), apart
from how the command line shows them.

A SQLite journal is one file, one partition. A PostgreSQL journal is every partition of a
cluster, read in one REPEATABLE READ, READ ONLY transaction: a consistent snapshot of a
live cluster, read without taking a partition over, locking, writing or migrating
anything. `JournalError` when a database cannot be read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ordergate.domain.errors import JournalError
from ordergate.engine.jsonl import (
    Head,
    JsonlReport,
    JsonlVerifier,
    footer_line,
    header_line,
    record_line,
)
from ordergate.engine.records import JournalRecord
from ordergate.engine.replay import (
    VerificationReport,
    replay_records,
    verify_partitions_and_checkpoints,
    verify_store,
)
from ordergate.engine.resume import resume
from ordergate.engine.state import OmsState
from ordergate.engine.views import ReadModelChanges
from ordergate.store.postgres.snapshot import PartitionInfo, open_snapshot
from ordergate.store.sqlite import SqliteStore

# Start a task of `total` steps (records) under `description`; return how to advance it.
Progress = Callable[[str, int], Callable[[int], None]]


@dataclass(frozen=True, slots=True)
class PartitionReplay:
    partition: int
    state: OmsState
    report: VerificationReport
    checkpoint_seq: int = 0  # went on from this checkpoint (0: from seq 1)
    passed_over: tuple[str, ...] = ()  # checkpoints not used, and why

    @property
    def open_positions(self) -> int:
        return sum(1 for position in self.state.book if position.qty)


@dataclass(slots=True)
class ClusterVerification:
    """Each partition's chain report, and every problem found, each naming where."""

    reports: dict[int, VerificationReport]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _sqlite(path: Path) -> SqliteStore:
    if not path.exists():
        raise FileNotFoundError(path)
    return SqliteStore(path)


async def replay_file(
    path: Path, progress: Progress, from_checkpoint: bool = False
) -> PartitionReplay:
    """Replay a SQLite journal, from seq 1 or (`from_checkpoint`) as a start does.
    `FileNotFoundError` if there is no such file."""
    store = _sqlite(path)
    try:
        advance = progress("replaying", store.count())
        if from_checkpoint:
            resumed = await resume(store, advance)
            return PartitionReplay(
                store.partition,
                resumed.state,
                resumed.report,
                resumed.checkpoint_seq,
                tuple(resumed.passed_over),
            )
        state, report = await replay_records(store.records_after(), store.partition, advance)
    finally:
        await store.close()
    return PartitionReplay(store.partition, state, report)


async def verify_file(path: Path, progress: Progress) -> VerificationReport:
    """Check a SQLite journal's chain, that replay reproduces its read models, and that
    each checkpoint it keeps is the replayed state at its seq."""
    store = _sqlite(path)
    try:
        checkpoints = [
            c for seq in await store.checkpoint_seqs() if (c := await store.checkpoint(seq))
        ]
        return await verify_store(store, progress("verifying", store.count()), checkpoints)
    finally:
        await store.close()


async def replay_cluster(
    dsn: str, only: int | None, progress: Progress, from_checkpoint: bool = False
) -> list[PartitionReplay]:
    """Replay every partition of a PostgreSQL journal (or `only` that one), in one snapshot:
    from seq 1, or (`from_checkpoint`) as a takeover of the partition would, from its newest
    checkpoint that matches the chain, read in the same snapshot."""
    async with open_snapshot(dsn, application_name="ordergate replay") as snapshot:
        partitions = _chosen(snapshot.partitions, only)
        advance = progress("replaying", sum(p.records for p in partitions.values()))
        replays = []
        for p in partitions:
            journal = snapshot.journal(p)
            if from_checkpoint:
                resumed = await resume(journal, advance)
                replays.append(
                    PartitionReplay(
                        p,
                        resumed.state,
                        resumed.report,
                        resumed.checkpoint_seq,
                        tuple(resumed.passed_over),
                    )
                )
            else:
                state, report = await replay_records(journal.records_after(), p, advance)
                replays.append(PartitionReplay(p, state, report))
    return replays


async def verify_cluster(dsn: str, progress: Progress) -> ClusterVerification:
    """Check every partition's chain (and its head row against the chain's end), that each
    checkpoint it keeps is its replayed state at the checkpoint's seq, and that the shared
    read models are exactly the union of the partitions' replays."""
    async with open_snapshot(dsn, application_name="ordergate verify-journal") as snapshot:
        partitions = snapshot.partitions
        journals = [snapshot.journal(p) for p in partitions]
        # All of them first: the replay compares each with its state as it passes its seq.
        checkpoints = {j.partition: await j.checkpoints() for j in journals}
        advance = progress("verifying", sum(p.records for p in partitions.values()))
        verified = await verify_partitions_and_checkpoints(journals, snapshot, advance, checkpoints)
        unowned = not partitions and await snapshot.read_models() != ReadModelChanges()
    verification = ClusterVerification(verified.reports)
    model_problems = list(verified.read_model_problems)
    for p, report in sorted(verified.reports.items()):
        info = partitions[p]
        verification.problems += [f"partition {p}: {problem}" for problem in report.problems]
        if report.events == info.records:  # the chain is whole: its head row must name its end
            verification.problems += [
                f"partition {p}: {problem}" for problem in _head_problems(info, report)
            ]
    if unowned:
        model_problems.append("the read models hold rows, but no partition has a journal")
    verification.problems += [f"read models: {problem}" for problem in model_problems]
    return verification


def _head_problems(info: PartitionInfo, report: VerificationReport) -> list[str]:
    """The partition's head row must name the last record of its chain."""
    if info.head_seq is None or info.head_hash is None:
        return ["it has journal records but no partition_head row"]
    if (info.head_seq, info.head_hash.hex()) != (report.head_seq, report.head_hash):
        return [
            f"partition_head says seq {info.head_seq} {info.head_hash.hex()}, "
            f"the chain ends at seq {report.head_seq} {report.head_hash}"
        ]
    return []


def _chosen(partitions: dict[int, PartitionInfo], only: int | None) -> dict[int, PartitionInfo]:
    """Every partition, or `only` that one (`JournalError` if it has no journal)."""
    if only is None:
        return partitions
    if only not in partitions:
        raise JournalError(
            f"partition {only} has no journal; the database has {_partition_list(partitions)}"
        )
    return {only: partitions[only]}


def _partition_list(partitions: dict[int, PartitionInfo]) -> str:
    if not partitions:
        return "none"
    return "partitions " + ", ".join(str(p) for p in partitions)


@dataclass(frozen=True, slots=True)
class Window:
    """Which records to export: from `from_seq` or the first at or after `from_ts`, to
    `to_seq` or the last before the first one after `to_ts` (either end open if None).
    A time window is cut at whole records, so the records exported stay one chain."""

    from_seq: int | None = None
    to_seq: int | None = None
    from_ts: int | None = None
    to_ts: int | None = None

    @property
    def after_seq(self) -> int:
        """Where reading can start: just before `from_seq`."""
        return max(0, (self.from_seq or 1) - 1)

    def started(self, record: JournalRecord) -> bool:
        if self.from_seq is not None and record.seq < self.from_seq:
            return False
        return self.from_ts is None or record.ts >= self.from_ts

    def ended(self, record: JournalRecord) -> bool:
        if self.to_seq is not None and record.seq > self.to_seq:
            return True
        return self.to_ts is not None and record.ts > self.to_ts


@dataclass(frozen=True, slots=True)
class ExportSummary:
    records: int
    heads: list[Head]


async def _export(
    journals: dict[int, AsyncIterator[JournalRecord]], out: BinaryIO, window: Window
) -> ExportSummary:
    out.write(header_line(journals))
    heads: dict[int, Head] = {}  # the last record written of each partition
    count = 0
    for partition, records in journals.items():
        started = False
        last: JournalRecord | None = None
        async for record in records:
            if window.ended(record):
                break
            if not started and not window.started(record):
                continue
            started = True
            out.write(record_line(record))
            count += 1
            last = record
        if last is not None:
            heads[partition] = Head(partition, last.seq, last.hash)
    out.write(footer_line(heads.values(), count))
    return ExportSummary(count, list(heads.values()))


async def export_file(path: Path, out: BinaryIO, window: Window) -> ExportSummary:
    """Write a SQLite journal's records in `window` to `out` as JSON lines."""
    store = _sqlite(path)
    try:
        records = store.records_after(window.after_seq)
        return await _export({store.partition: records}, out, window)
    finally:
        await store.close()


async def export_cluster(
    dsn: str, out: BinaryIO, window: Window, only: int | None
) -> ExportSummary:
    """Write every partition's records (or `only` that one's) in `window`, read in one
    snapshot, to `out` as JSON lines, a partition after another."""
    async with open_snapshot(dsn, application_name="ordergate export") as snapshot:
        journals = {
            p: snapshot.journal(p).records_after(window.after_seq)
            for p in sorted(_chosen(snapshot.partitions, only))
        }
        return await _export(journals, out, window)


def verify_jsonl(path: Path) -> JsonlReport:
    """Check an exported file on its own: every link, every payload, the footer's heads.
    `FileNotFoundError` if there is no such file."""
    verifier = JsonlVerifier()
    with path.open("rb") as lines:
        for line in lines:
            verifier.line(line)
    return verifier.finish()
