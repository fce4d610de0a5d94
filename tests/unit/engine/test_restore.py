"""`engine.restore`: an export's lines folded into bounded batches of one partition each,
with the read-model rows replay gives; partial, interleaved or altered files refused."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import pytest
from tests.unit.store.scenario import session_batches

from ordergate.domain.errors import JournalCorrupted, RestoreRefused
from ordergate.engine.chain import GENESIS, seal
from ordergate.engine.jsonl import Head, footer_line, header_line, record_line
from ordergate.engine.records import JournalRecord
from ordergate.engine.replay import JournalFold
from ordergate.engine.restore import restore
from ordergate.engine.views import ReadModelChanges


class CollectingTarget:
    """A `RestoreTarget` that keeps what it is given."""

    def __init__(self) -> None:
        self.batches: list[tuple[list[JournalRecord], ReadModelChanges]] = []

    async def write(self, records: Sequence[JournalRecord], changes: ReadModelChanges) -> None:
        self.batches.append((list(records), changes))


def sealed(partition: int, batches: list[list[object]]) -> list[JournalRecord]:
    records: list[JournalRecord] = []
    for batch in batches:
        head_seq, head_hash = (records[-1].seq, records[-1].hash) if records else (0, GENESIS)
        records += seal(batch, partition, head_seq, head_hash)  # type: ignore[arg-type]
    return records


def export_lines(records: list[JournalRecord]) -> list[bytes]:
    heads: dict[int, Head] = {}
    for r in records:
        heads[r.partition] = Head(r.partition, r.seq, r.hash)
    return [
        header_line(heads),
        *(record_line(r) for r in records),
        footer_line(heads.values(), len(records)),
    ]


@pytest.fixture
def two_partitions() -> list[JournalRecord]:
    """Partition 0: the store scenario's session; partition 1: its set-up batch alone."""
    return sealed(0, session_batches()) + sealed(1, session_batches()[:1])  # type: ignore[arg-type]


def replayed(records: list[JournalRecord], partition: int) -> ReadModelChanges:
    fold = JournalFold(partition)
    for record in records:
        if record.partition == partition:
            fold.apply(record)
    return fold.state.take_changes()


def last_per_key(batches: list[ReadModelChanges]) -> dict[str, dict[object, object]]:
    """The rows the batches leave, as upserts leave them: the last per key."""
    rows: dict[str, dict[object, object]] = {k: {} for k in ("orders", "positions", "balances")}
    for changes in batches:
        rows["orders"].update({o.order_id: o for o in changes.orders})
        rows["positions"].update({(p.account, p.symbol): p for p in changes.positions})
        rows["balances"].update({(b.account, b.currency): b for b in changes.balances})
    return rows


async def test_restore_batches_bounded_one_partition_each_rows_as_replay_gives(
    two_partitions: list[JournalRecord],
) -> None:
    target = CollectingTarget()
    advanced: list[int] = []

    summary = await restore(export_lines(two_partitions), target, advanced.append, 7)

    assert summary.records == len(two_partitions)
    assert all(0 < len(records) <= 7 for records, _ in target.batches)
    assert all(len({r.partition for r in records}) == 1 for records, _ in target.batches)
    assert [r for records, _ in target.batches for r in records] == two_partitions
    assert sum(advanced) == len(two_partitions)
    for partition in (0, 1):
        mine = [c for records, c in target.batches if records[0].partition == partition]
        whole = replayed(two_partitions, partition)
        assert last_per_key(mine) == last_per_key([whole])
        assert [f for c in mine for f in c.fills] == whole.fills
    assert summary.heads == {
        p: Head(p, r.seq, r.hash) for r in two_partitions for p in [r.partition]
    }


async def test_restore_partial_export_refused_before_anything_written(
    two_partitions: list[JournalRecord],
) -> None:
    target = CollectingTarget()
    window = [r for r in two_partitions if r.partition == 0][4:]

    with pytest.raises(RestoreRefused, match="partition 0 starts at seq 5"):
        await restore(export_lines(window), target, None, 2)

    assert target.batches == []


async def test_restore_partition_records_apart_refused(
    two_partitions: list[JournalRecord],
) -> None:
    zero = [r for r in two_partitions if r.partition == 0]
    one = [r for r in two_partitions if r.partition == 1]
    interleaved = zero[:3] + one + zero[3:]  # every link holds, per partition

    with pytest.raises(RestoreRefused, match="partition 0's records are not together"):
        await restore(export_lines(interleaved), CollectingTarget(), None, 2)


async def test_restore_altered_record_refused_after_batches_before_it(
    two_partitions: list[JournalRecord],
) -> None:
    target = CollectingTarget()
    records = list(two_partitions)
    records[20] = msgspec.structs.replace(records[20], ts=records[20].ts + 1)

    with pytest.raises(JournalCorrupted, match="line 22"):
        await restore(export_lines(records), target, None, 4)

    assert sum(len(batch) for batch, _ in target.batches) == 20  # the caller rolls back
