"""Replay a journal into state, and verify it: the hash chain holds, and replaying it gives
the stored read models.

`JournalFold` is the one way a journal becomes state: record by record, each checked
against the hash chain before its event is decoded and applied. Start-up replays with it
(`replay_records`), `ordergate verify-journal` checks with it (`verify_store`,
`verify_partitions`), and the event relay follows the journal with it to describe each
event as the engine saw it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

from ordergate.domain.errors import JournalCorrupted
from ordergate.domain.events import Event
from ordergate.engine.chain import GENESIS, check_link
from ordergate.engine.codec import decode
from ordergate.engine.digest import state_digest
from ordergate.engine.ports import RecordSource
from ordergate.engine.records import JournalRecord
from ordergate.engine.state import OmsState
from ordergate.engine.views import ReadModelChanges


class VerifiableStore(Protocol):
    @property
    def partition(self) -> int: ...

    def records_after(self, after_seq: int = 0) -> AsyncIterator[JournalRecord]: ...

    async def snapshot(self) -> ReadModelChanges: ...


@dataclass(slots=True)
class VerificationReport:
    events: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS.hex()
    digest: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class JournalFold:
    """The journal of one partition folded into an `OmsState`, one record at a time, from
    seq 1 on."""

    __slots__ = ("_head_hash", "_seq", "state")

    def __init__(self, partition: int) -> None:
        self.state = OmsState(partition)
        self._seq = 0
        self._head_hash = GENESIS

    @property
    def seq(self) -> int:
        """The last seq folded (0: none)."""
        return self._seq

    @property
    def head_hash(self) -> bytes:
        return self._head_hash

    def apply(self, record: JournalRecord) -> Event:
        """Check the record's link, decode its event and apply it; return the event.

        A record out of order or off the chain raises `JournalCorrupted` and changes
        nothing; an event the state refuses raises what the state raised (the caller
        decides how to report it), after which this fold must not be used again.
        """
        head_hash = check_link(record, self._head_hash, self._seq + 1)
        event = decode(record.type, record.version, record.payload)
        self.state.apply(event)
        self._seq = record.seq
        self._head_hash = head_hash
        return event


PROGRESS_EVERY: Final = 4096
"""Records between two calls of a replay's `progress` (a progress bar redrawn per record
took a sixth of the replay)."""


async def replay_records(
    records: AsyncIterator[JournalRecord],
    partition: int,
    progress: Callable[[int], None] | None = None,
) -> tuple[OmsState, VerificationReport]:
    """Check every link while folding the events; stop at the first broken record."""
    fold = JournalFold(partition)
    report = VerificationReport()
    events = 0
    async for record in records:
        try:
            fold.apply(record)
        except JournalCorrupted as exc:
            report.problems.append(str(exc))
            break
        except Exception as exc:  # a stored event the domain refuses is corruption too
            report.problems.append(f"seq {record.seq}: replay failed: {exc!r}")
            break
        events += 1
        if progress is not None and events % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
    if progress is not None and events % PROGRESS_EVERY:
        progress(events % PROGRESS_EVERY)
    report.events = events
    if events:
        report.head_seq = fold.seq
        report.head_hash = fold.head_hash.hex()
    report.digest = state_digest(fold.state)
    return fold.state, report


async def verify_store(
    store: VerifiableStore, progress: Callable[[int], None] | None = None
) -> VerificationReport:
    state, report = await replay_records(store.records_after(), store.partition, progress)
    if not report.ok:
        return report
    expected = state.take_changes()
    stored = await store.snapshot()
    report.problems.extend(_diff_read_models(expected, stored))
    return report


class PartitionJournal(RecordSource, Protocol):
    @property
    def partition(self) -> int: ...


async def verify_partitions(
    journals: Sequence[PartitionJournal],
    snapshot: ReadModelChanges,
    progress: Callable[[int], None] | None = None,
) -> dict[int, VerificationReport]:
    """Verify every partition's chain, and that the read models they share (a PostgreSQL
    cluster's) are exactly the union of their replays. The read-model differences are
    reported on the lowest partition, as they cannot be told apart by partition."""
    reports: dict[int, VerificationReport] = {}
    expected = ReadModelChanges()
    for journal in sorted(journals, key=lambda j: j.partition):
        state, report = await replay_records(journal.records_after(), journal.partition, progress)
        reports[journal.partition] = report
        if report.ok:
            changes = state.take_changes()
            expected.orders.extend(changes.orders)
            expected.fills.extend(changes.fills)
            expected.positions.extend(changes.positions)
            expected.balances.extend(changes.balances)
    if reports and all(r.ok for r in reports.values()):
        reports[min(reports)].problems.extend(_diff_read_models(expected, snapshot))
    return reports


def _diff_read_models(expected: ReadModelChanges, stored: ReadModelChanges) -> list[str]:
    problems: list[str] = []

    def compare(kind: str, want: dict[object, object], have: dict[object, object]) -> None:
        for key in sorted(set(want) | set(have), key=repr):
            if key not in have:
                problems.append(f"{kind} {key}: missing from the read model")
            elif key not in want:
                problems.append(f"{kind} {key}: in the read model but not in the journal")
            elif want[key] != have[key]:
                problems.append(f"{kind} {key}: read model differs from the replay")

    compare(
        "order",
        {o.order_id: o for o in expected.orders},
        {o.order_id: o for o in stored.orders},
    )
    compare(
        "fill",
        {(f.account, f.order_id, f.trade_id): f for f in expected.fills},
        {(f.account, f.order_id, f.trade_id): f for f in stored.fills},
    )
    compare(
        "position",
        {(p.account, p.symbol): p for p in expected.positions},
        {(p.account, p.symbol): p for p in stored.positions},
    )
    compare(
        "balance",
        {(b.account, b.currency): b for b in expected.balances},
        {(b.account, b.currency): b for b in stored.balances},
    )
    return problems
