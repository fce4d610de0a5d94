"""Replay a journal into state, and verify it: the hash chain holds, and replaying it gives
the stored read models.

`JournalFold` is the one way a journal becomes state: record by record, each checked
against the hash chain before its event is decoded and applied. Start-up replays with it
(`replay_records`), `ordergate verify-journal` checks with it (`verify_store`,
`verify_partitions`), and the event relay follows the journal with it to describe each
event as the engine saw it.

Replay reads every record there is, so where the records offer it (`CheckedRecords`) it
takes them a checked page at a time rather than one `JournalRecord` at a time: the same
checks, made in a tight loop, or in another process while this one folds (SQLite); the
fold then applies a page's records in order, and a problem still stops it at the first
record it concerns, with the records before it applied.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Final, Protocol, runtime_checkable

from ordergate.domain.errors import CheckpointUnreadable, JournalCorrupted
from ordergate.domain.events import Event
from ordergate.engine.chain import GENESIS, check_link
from ordergate.engine.checkpoint import StoredCheckpoint
from ordergate.engine.checkpoint import decode as decode_checkpoint
from ordergate.engine.codec import decode
from ordergate.engine.digest import state_digest
from ordergate.engine.ports import RecordSource
from ordergate.engine.records import CheckedPage, CheckedRecords, JournalRecord
from ordergate.engine.state import OmsState
from ordergate.engine.views import ReadModelChanges


class VerifiableStore(Protocol):
    @property
    def partition(self) -> int: ...

    def records_after(self, after_seq: int = 0) -> AsyncIterator[JournalRecord]: ...

    async def snapshot(self) -> ReadModelChanges: ...


class StoredReadModels(Protocol):
    """The read models a cluster's partitions share, as verification reads them (a
    PostgreSQL snapshot's)."""

    async def read_models(self) -> ReadModelChanges: ...


@runtime_checkable
class QuickReadModelCheck(Protocol):
    """A store that can show its read models equal to a replay's faster than view by view
    (`store/sqlite/sameness.py`, `store/postgres/sameness.py`). False is no verdict:
    verification then compares the views one by one, which names what differs."""

    async def read_models_equal(self, expected: ReadModelChanges) -> bool: ...


@dataclass(slots=True)
class VerificationReport:
    events: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS.hex()
    digest: str = ""
    checkpoints: int = 0  # checkpoints compared with the replay (verification)
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

    @classmethod
    def resumed(cls, state: OmsState, seq: int, head_hash: bytes) -> JournalFold:
        """A fold that has folded the journal up to `seq` into `state` (a checkpoint's)."""
        fold = cls(state.partition)
        fold.state = state
        fold._seq = seq
        fold._head_hash = head_hash
        return fold

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

    def apply_page(self, page: CheckedPage) -> None:
        """Decode and apply the events of records whose links are checked already, which
        must follow this fold's last record.

        As `apply` does for each, in order: a payload that does not decode raises
        `JournalCorrupted`, an event the state refuses what the state raised; either way
        the records before it are applied (`seq` is the last of them) and this fold must
        not be used again.
        """
        if page.first_seq != self._seq + 1:
            raise JournalCorrupted(
                f"seq {page.first_seq} where {self._seq + 1} was expected (a page of records)"
            )
        apply = self.state.apply
        applied = 0
        try:
            for type_name, version, payload in zip(
                page.types, page.versions, page.payloads, strict=True
            ):
                apply(decode(type_name, version, payload))
                applied += 1
        finally:
            if applied:
                self._seq += applied
                self._head_hash = page.hashes[applied - 1]


Stops = Mapping[int, Callable[[JournalFold], None]]

PROGRESS_EVERY: Final = 4096
"""Records between two calls of a replay's `progress` (a progress bar redrawn per record
took a sixth of the replay)."""


async def replay_records(
    records: AsyncIterator[JournalRecord],
    partition: int,
    progress: Callable[[int], None] | None = None,
    fold: JournalFold | None = None,
    *,
    keep_changes: bool = False,
    stops: Stops | None = None,
) -> tuple[OmsState, VerificationReport]:
    """Check every link while folding the events; stop at the first broken record.
    `fold`: where to go on from (a checkpoint's state), `records` being those after it.
    `keep_changes`: leave every read-model row the fold changed pending (verification
    compares them with the stored ones); otherwise they are dropped as it goes. `stops`:
    called with the fold as it is just after the record at each of these seqs."""
    fold = fold if fold is not None else JournalFold(partition)
    report = VerificationReport()
    ticks = _Ticks(progress, None if keep_changes else fold.state.discard_changes, fold.seq)
    stops = stops or {}
    if isinstance(records, CheckedRecords):
        problem = await _fold_pages(fold, records, ticks, stops)
    else:
        problem = await _fold_records(fold, records, ticks, stops)
    ticks.finish(fold.seq)
    if problem is not None:
        report.problems.append(problem)
    report.events = fold.seq  # the fold starts at seq 1 and stops before a broken record
    if fold.seq:
        report.head_seq = fold.seq
        report.head_hash = fold.head_hash.hex()
    report.digest = state_digest(fold.state)
    return fold.state, report


async def _fold_records(
    fold: JournalFold, records: AsyncIterator[JournalRecord], ticks: _Ticks, stops: Stops
) -> str | None:
    """Fold record by record; return the problem that stopped it (None: none did)."""
    async for record in records:
        try:
            fold.apply(record)
        except Exception as exc:
            return _problem(fold, exc)
        if stops and fold.seq in stops:
            stops[fold.seq](fold)
        ticks.advance(fold.seq)
    return None


def _apply_stopping(fold: JournalFold, page: CheckedPage, stops: Stops) -> None:
    """Apply a page, in pieces that end at the stops within it."""
    last = page.first_seq + len(page) - 1
    start = 0
    for seq in sorted(s for s in stops if page.first_seq <= s <= last):
        end = seq - page.first_seq + 1
        fold.apply_page(_piece(page, start, end))
        stops[seq](fold)
        start = end
    if start < len(page):
        fold.apply_page(_piece(page, start, len(page)))


def _piece(page: CheckedPage, start: int, end: int) -> CheckedPage:
    if (start, end) == (0, len(page)):
        return page
    return CheckedPage(
        page.first_seq + start,
        page.types[start:end],
        page.versions[start:end],
        page.payloads[start:end],
        page.hashes[start:end],
    )


async def _fold_pages(
    fold: JournalFold, records: CheckedRecords, ticks: _Ticks, stops: Stops
) -> str | None:
    """Fold checked page by checked page; return the problem that stopped it (None: none
    did). A record that does not link is the pages' problem (`JournalCorrupted`, after the
    pages before it); anything else they raise is a failure to read, and propagates."""
    async with aclosing(records.checked_pages(fold.seq, fold.head_hash)) as pages:
        while True:
            try:
                page = await anext(pages)
            except StopAsyncIteration:
                return None
            except JournalCorrupted as exc:
                return str(exc)
            try:
                if stops:
                    _apply_stopping(fold, page, stops)
                else:
                    fold.apply_page(page)
            except Exception as exc:
                return _problem(fold, exc)
            ticks.advance(fold.seq)


def _problem(fold: JournalFold, exc: Exception) -> str:
    """What stopped the fold just before its next record."""
    if isinstance(exc, JournalCorrupted):
        return str(exc)
    # A stored event the domain refuses is corruption too.
    return f"seq {fold.seq + 1}: replay failed: {exc!r}"


class _Ticks:
    """What a replay does every `PROGRESS_EVERY` records or so: call its `progress`, and
    `discard` the read-model rows it changed (unless it keeps them to compare)."""

    __slots__ = ("_discard", "_progress", "_reported")

    def __init__(
        self,
        progress: Callable[[int], None] | None,
        discard: Callable[[], None] | None,
        start: int,
    ) -> None:
        self._progress = progress
        self._discard = discard
        self._reported = start

    def advance(self, seq: int) -> None:
        if seq - self._reported >= PROGRESS_EVERY:
            self._tick(seq)

    def finish(self, seq: int) -> None:
        self._tick(seq)

    def _tick(self, seq: int) -> None:
        if self._discard is not None:
            self._discard()
        if self._progress is not None and seq > self._reported:
            self._progress(seq - self._reported)
        self._reported = seq


async def verify_store(
    store: VerifiableStore,
    progress: Callable[[int], None] | None = None,
    checkpoints: Sequence[StoredCheckpoint] = (),
) -> VerificationReport:
    """The chain, the read models against the replay, and each of `checkpoints` against
    the replayed state at its seq (field by field, and its hash against the chain's)."""
    state, report, whole = await _replay_checking(
        store.records_after(), store.partition, progress, checkpoints
    )
    if not whole:
        return report
    report.problems.extend(await _read_model_problems(state.take_changes(), store, store.snapshot))
    return report


async def _replay_checking(
    records: AsyncIterator[JournalRecord],
    partition: int,
    progress: Callable[[int], None] | None,
    checkpoints: Sequence[StoredCheckpoint],
) -> tuple[OmsState, VerificationReport, bool]:
    """Replay keeping every read-model change, and compare each checkpoint with the state
    at its seq on the way. Also say whether the chain replayed to its end: a damaged
    checkpoint leaves the replay (so the read models' comparison) whole, a broken record
    does not."""
    checkpoint_problems: list[str] = []
    stops = {c.seq: _checkpoint_check(c, checkpoint_problems) for c in checkpoints}
    state, report = await replay_records(
        records, partition, progress, keep_changes=True, stops=stops
    )
    whole = report.ok
    report.problems.extend(checkpoint_problems)
    report.checkpoints = len(checkpoints)
    missed = sorted(seq for seq in stops if seq > report.events)
    if whole and missed:
        report.problems.append(f"checkpoint at seq {missed[0]}: beyond the journal's end")
    return state, report, whole


def _checkpoint_check(
    stored: StoredCheckpoint, problems: list[str]
) -> Callable[[JournalFold], None]:
    def check(fold: JournalFold) -> None:
        where = f"checkpoint at seq {stored.seq}"
        if stored.head_hash != fold.head_hash:
            problems.append(f"{where}: its hash is not the chain's")
            return
        try:
            kept = decode_checkpoint(stored.payload)
        except CheckpointUnreadable as exc:
            problems.append(f"{where}: {exc}")
            return
        replayed = fold.state.checkpoint()
        if kept != replayed:
            fields = [
                name
                for name in kept.__struct_fields__
                if getattr(kept, name) != getattr(replayed, name)
            ]
            problems.append(f"{where}: differs from the replay in {', '.join(fields)}")

    return check


class PartitionJournal(RecordSource, Protocol):
    @property
    def partition(self) -> int: ...


@dataclass(slots=True)
class PartitionsVerification:
    """Each partition's report (its chain and its checkpoints), and how the read models
    they share differ from the union of their replays (which no partition can be named
    for). The read models are compared only when every chain replayed to its end."""

    reports: dict[int, VerificationReport]
    read_model_problems: list[str] = field(default_factory=list)


async def verify_partitions(
    journals: Sequence[PartitionJournal],
    snapshot: ReadModelChanges,
    progress: Callable[[int], None] | None = None,
) -> dict[int, VerificationReport]:
    """Verify every partition's chain, and that the read models they share (a PostgreSQL
    cluster's) are exactly the union of their replays. The read-model differences are
    reported on the lowest partition, as they cannot be told apart by partition."""
    verified = await verify_partitions_and_checkpoints(journals, _Held(snapshot), progress)
    if verified.reports:
        verified.reports[min(verified.reports)].problems.extend(verified.read_model_problems)
    return verified.reports


class _Held:
    """Read models already read."""

    def __init__(self, changes: ReadModelChanges) -> None:
        self._changes = changes

    async def read_models(self) -> ReadModelChanges:
        return self._changes


async def verify_partitions_and_checkpoints(
    journals: Sequence[PartitionJournal],
    stored: StoredReadModels,
    progress: Callable[[int], None] | None = None,
    checkpoints: Mapping[int, Sequence[StoredCheckpoint]] | None = None,
) -> PartitionsVerification:
    """Verify every partition's chain, each of its `checkpoints` against its replayed state
    at the checkpoint's seq, and that the read models they share (`stored`, a PostgreSQL
    cluster's) are exactly the union of their replays (compared once every chain replayed
    whole: first quickly, if `stored` can, then view by view)."""
    checkpoints = checkpoints or {}
    reports: dict[int, VerificationReport] = {}
    expected = ReadModelChanges()
    every_chain_whole = True
    for journal in sorted(journals, key=lambda j: j.partition):
        p = journal.partition
        state, report, whole = await _replay_checking(
            journal.records_after(), p, progress, checkpoints.get(p, ())
        )
        reports[p] = report
        every_chain_whole = every_chain_whole and whole
        if whole:
            changes = state.take_changes()
            expected.orders.extend(changes.orders)
            expected.fills.extend(changes.fills)
            expected.positions.extend(changes.positions)
            expected.balances.extend(changes.balances)
            expected.retired.extend(changes.retired)
            expected.retired_signals.extend(changes.retired_signals)
    verification = PartitionsVerification(reports)
    if every_chain_whole:
        verification.read_model_problems = await _read_model_problems(
            expected, stored, stored.read_models
        )
    return verification


async def _read_model_problems(
    expected: ReadModelChanges,
    store: object,
    read: Callable[[], Awaitable[ReadModelChanges]],
) -> list[str]:
    """How the stored read models differ from `expected`: none if `store` shows them equal
    quickly (`QuickReadModelCheck`), else view by view (`read` gives the stored views)."""
    if isinstance(store, QuickReadModelCheck) and await store.read_models_equal(expected):
        return []
    return _diff_read_models(expected, await read())


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
    compare(  # the newest snapshot of an order retired more than once
        "retired order",
        {r.order_id: r for r in expected.retired},
        {r.order_id: r for r in stored.retired},
    )
    compare(
        "retired signal",
        {r.signal_id: r for r in expected.retired_signals},
        {r.signal_id: r for r in stored.retired_signals},
    )
    return problems
