"""Start-up: the newest checkpoint that matches the journal, then the events after it.

A checkpoint only saves time, so anything wrong with one (it does not decode, it names a
hash the chain does not hold at its seq, or the events after it do not fold onto it) is
logged and passed over for the next older one, and in the end for a replay from the
first event. The events after the checkpoint are checked link by link from its hash, as
a full replay checks them from the genesis.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from ordergate.domain.errors import CheckpointUnreadable
from ordergate.engine.checkpoint import decode
from ordergate.engine.ports import CheckpointReads, RecordSource
from ordergate.engine.replay import JournalFold, VerificationReport, replay_records
from ordergate.engine.state import OmsState

log = structlog.get_logger("ordergate.resume")


class CheckpointedJournal(RecordSource, CheckpointReads, Protocol):
    """A partition's journal and its checkpoints, read only: a start's store, or a tool's
    snapshot of a live cluster's partition (`ordergate replay --from-checkpoint`)."""

    @property
    def partition(self) -> int: ...


@dataclass(slots=True)
class Resumed:
    state: OmsState
    report: VerificationReport
    checkpoint_seq: int = 0  # the checkpoint the state went on from (0: the beginning)
    passed_over: list[str] = field(default_factory=list)  # checkpoints not used, and why


async def resume(
    journal: CheckpointedJournal, progress: Callable[[int], None] | None = None
) -> Resumed:
    """The journal's state: from its newest usable checkpoint, or from the beginning."""
    partition = journal.partition
    passed_over: list[str] = []
    for seq in await journal.checkpoint_seqs():
        try:
            state, head_hash = await _load(journal, seq)
        except CheckpointUnreadable as exc:
            passed_over.append(f"seq {seq}: {exc}")
            log.warning("checkpoint passed over", partition=partition, seq=seq, reason=str(exc))
            continue
        fold = JournalFold.resumed(state, seq, head_hash)
        state, report = await replay_records(journal.records_after(seq), partition, progress, fold)
        if report.ok:
            return Resumed(state, report, seq, passed_over)
        reason = f"the events after it do not fold onto it: {report.problems[0]}"
        passed_over.append(f"seq {seq}: {reason}")
        log.warning("checkpoint passed over", partition=partition, seq=seq, reason=reason)
    state, report = await replay_records(journal.records_after(), partition, progress)
    return Resumed(state, report, 0, passed_over)


async def _load(journal: CheckpointedJournal, seq: int) -> tuple[OmsState, bytes]:
    stored = await journal.checkpoint(seq)
    if stored is None:
        raise CheckpointUnreadable("it is gone")
    if await journal.record_hash(seq) != stored.head_hash:
        raise CheckpointUnreadable("its hash is not the journal's at its seq")
    checkpoint = await asyncio.to_thread(decode, stored.payload)
    if (checkpoint.seq, checkpoint.partition) != (seq, journal.partition):
        raise CheckpointUnreadable(
            f"it says seq {checkpoint.seq} of partition {checkpoint.partition}"
        )
    return OmsState.from_checkpoint(checkpoint), stored.head_hash
