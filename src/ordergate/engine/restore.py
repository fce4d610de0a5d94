"""Restore a journal from a whole JSONL export (`ordergate import`): the same chain, record
for record, and the read models the engine would have written beside it.

Two passes over the file. The first (`check_restorable`, on `verify_jsonl`'s report)
refuses before the target is touched: a file that does not verify on its own, or that does
not hold each partition's journal from seq 1 (a window cannot be restored: its first
record's link is only taken on trust, and the state it leads to depends on the records
before it). The second (`restore`) checks every line again as it goes, so a file changed
between the passes is caught too, and folds the records exactly as replay does
(`JournalFold`: each link checked, each event decoded and applied), handing the target a
bounded batch of records at a time with the read-model rows the fold changed. Memory is the
batch plus the fold's hot state, as in a replay, however large the file.

The records are written as they are in the file, bytes and hashes, not re-encoded from
their events: a record of an older event version, re-encoded today, could have another
payload and so another hash. `JournalFold.apply` computes each record's hash from its
content (as `chain.seal` does for an append) and refuses one that differs from the hash
the file gives. The target writes everything in one transaction (`RestoreTarget`), so a
refusal at any record leaves the store exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from ordergate.domain.errors import JournalCorrupted, RestoreRefused
from ordergate.engine.jsonl import Head, JsonlReport, JsonlVerifier
from ordergate.engine.records import JournalRecord
from ordergate.engine.replay import JournalFold
from ordergate.engine.views import ReadModelChanges

BATCH_RECORDS: Final = 2048
"""Records handed to the target at a time, with the read-model rows they changed."""


class RestoreTarget(Protocol):
    """A new, empty journal store being restored, in one transaction that the store commits
    only once every batch is written (and rolls back if anything fails)."""

    async def write(self, records: Sequence[JournalRecord], changes: ReadModelChanges) -> None:
        """Store `records` (one partition's, following the last written of it) as they
        are, and apply `changes` to the read models."""
        ...


@dataclass(frozen=True, slots=True)
class RestoreSummary:
    records: int
    heads: dict[int, Head]


def check_restorable(report: JsonlReport) -> None:
    """Refuse an export that does not verify on its own (`JournalCorrupted`, naming its
    first problem) or does not start at seq 1 for each partition (`RestoreRefused`)."""
    if not report.ok:
        more = len(report.problems) - 1
        raise JournalCorrupted(
            f"the export does not verify: {report.problems[0]}"
            + (f" (and {more} more problems)" if more else "")
            + "; nothing was imported"
        )
    partial = {p: seq for p, seq in sorted(report.starts.items()) if seq != 1}
    if partial:
        starts = ", ".join(f"partition {p} starts at seq {seq}" for p, seq in partial.items())
        raise RestoreRefused(
            f"the export is partial: {starts}; only a whole export (every "
            "record from seq 1, written without --from) can be restored; nothing was imported"
        )


async def restore(
    lines: Iterable[bytes],
    target: RestoreTarget,
    progress: Callable[[int], None] | None = None,
    batch_records: int = BATCH_RECORDS,
) -> RestoreSummary:
    """Check each line of an export, fold its records partition by partition, and write
    them to `target` a batch at a time with the read-model rows they changed.

    Raises `JournalCorrupted` at the first problem of the file (the target's transaction is
    then to be rolled back) and `RestoreRefused` for a partition that does not start at
    seq 1 or whose records are not all together (an export writes one after another)."""
    verifier = JsonlVerifier()
    fold: JournalFold | None = None
    done: set[int] = set()
    batch: list[JournalRecord] = []

    async def flush() -> None:
        if batch and fold is not None:
            await target.write(tuple(batch), fold.state.take_changes())
            if progress is not None:
                progress(len(batch))
            batch.clear()

    for raw in lines:
        record = verifier.line(raw)
        if verifier.report.problems:
            check_restorable(verifier.report)
        if record is None:
            continue
        if fold is None or record.partition != fold.state.partition:
            await flush()
            if fold is not None:
                done.add(fold.state.partition)
            if record.partition in done:
                raise RestoreRefused(
                    f"partition {record.partition}'s records are not together in the export; "
                    "nothing was imported"
                )
            if record.seq != 1:
                check_restorable(_starting(record))
            fold = JournalFold(record.partition)
        _fold(fold, record)
        batch.append(record)
        if len(batch) >= batch_records:
            await flush()
    await flush()
    report = verifier.finish()
    check_restorable(report)
    return RestoreSummary(report.records, dict(report.heads))


def _starting(record: JournalRecord) -> JsonlReport:
    """A report of a file whose first record of a partition is `record`."""
    return JsonlReport(starts={record.partition: record.seq})


def _fold(fold: JournalFold, record: JournalRecord) -> None:
    """Fold as replay does; a stored event the state refuses is corruption, as replay
    reports it."""
    try:
        fold.apply(record)
    except JournalCorrupted:
        raise
    except Exception as exc:
        raise JournalCorrupted(
            f"partition {record.partition} seq {record.seq}: replay failed: {exc!r}; "
            "nothing was imported"
        ) from exc
