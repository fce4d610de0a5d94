"""The operator's journal checks (`ordergate replay`, `ordergate verify-journal`), apart
from how the command line shows them.

A SQLite journal is one file, one partition. A PostgreSQL journal is every partition of a
cluster, read in one REPEATABLE READ, READ ONLY transaction: a consistent snapshot of a
live cluster, read without taking a partition over, locking, writing or migrating
anything. `JournalError` when a database cannot be read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ordergate.domain.errors import JournalError
from ordergate.engine.replay import (
    VerificationReport,
    replay_records,
    verify_partitions,
    verify_store,
)
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


async def replay_file(path: Path, progress: Progress) -> PartitionReplay:
    """Replay a SQLite journal. `FileNotFoundError` if there is no such file."""
    store = _sqlite(path)
    try:
        advance = progress("replaying", store.count())
        state, report = await replay_records(store.records_after(), store.partition, advance)
    finally:
        await store.close()
    return PartitionReplay(store.partition, state, report)


async def verify_file(path: Path, progress: Progress) -> VerificationReport:
    """Check a SQLite journal's chain and that replay reproduces its read models."""
    store = _sqlite(path)
    try:
        return await verify_store(store, progress("verifying", store.count()))
    finally:
        await store.close()


async def replay_cluster(dsn: str, only: int | None, progress: Progress) -> list[PartitionReplay]:
    """Replay every partition of a PostgreSQL journal (or `only` that one), in one snapshot."""
    async with open_snapshot(dsn, application_name="ordergate replay") as snapshot:
        partitions = snapshot.partitions
        if only is not None:
            if only not in partitions:
                raise JournalError(
                    f"partition {only} has no journal; the database has "
                    f"{_partition_list(partitions)}"
                )
            partitions = {only: partitions[only]}
        advance = progress("replaying", sum(p.records for p in partitions.values()))
        replays = []
        for p in partitions:
            state, report = await replay_records(snapshot.journal(p).records_after(), p, advance)
            replays.append(PartitionReplay(p, state, report))
    return replays


async def verify_cluster(dsn: str, progress: Progress) -> ClusterVerification:
    """Check every partition's chain (and its head row against the chain's end), and that
    the shared read models are exactly the union of the partitions' replays."""
    async with open_snapshot(dsn, application_name="ordergate verify-journal") as snapshot:
        partitions = snapshot.partitions
        journals = [snapshot.journal(p) for p in partitions]
        advance = progress("verifying", sum(p.records for p in partitions.values()))
        read_models = await snapshot.read_models()
        reports = await verify_partitions(journals, read_models, advance)
    verification = ClusterVerification(reports)
    model_problems: list[str] = []
    for p, report in sorted(reports.items()):
        info = partitions[p]
        if report.events < info.records:  # the replay stopped at a broken record
            verification.problems += [f"partition {p}: {problem}" for problem in report.problems]
        else:  # verify_partitions puts the read models' differences on the lowest partition
            model_problems += report.problems
            verification.problems += [
                f"partition {p}: {problem}" for problem in _head_problems(info, report)
            ]
    if not partitions and read_models != ReadModelChanges():
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


def _partition_list(partitions: dict[int, PartitionInfo]) -> str:
    if not partitions:
        return "none"
    return "partitions " + ", ".join(str(p) for p in partitions)
