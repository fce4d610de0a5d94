"""Two stores on one partition: the epoch fence in each of the interleavings of
notes/scale-out.md §1, made deterministic by holding one side at a trigger (`Gate`)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from tests.integration.store.pg_rigs import (
    Gate,
    OpenStore,
    unique,
    with_changes,
    writer_name,
)
from tests.pg_support import wait_until_blocked
from tests.unit.store.scenario import session_batches

from ordergate.domain.errors import JournalFenced
from ordergate.engine.chain import GENESIS, check_link
from ordergate.engine.replay import verify_store
from ordergate.store.postgres import PostgresStore


async def journal_epochs(dsn: str) -> list[int]:
    conn = await asyncpg.connect(dsn)
    try:
        return [r["epoch"] for r in await conn.fetch("SELECT epoch FROM journal ORDER BY seq")]
    finally:
        await conn.close()


async def head_row(dsn: str) -> tuple[int, int, bytes]:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow("SELECT epoch, head_seq, head_hash FROM partition_head")
        assert row is not None
        return row["epoch"], row["head_seq"], row["head_hash"]
    finally:
        await conn.close()


async def assert_chained(store: PostgresStore) -> None:
    prev = GENESIS
    async for record in store.records_after():
        prev = check_link(record, prev, record.seq)


async def test_takeover_during_an_append_waits_for_it_and_continues_after_it(
    open_store: OpenStore, pg_dsn: str
):
    batches = with_changes(session_batches())
    a_name, b_name = unique("a"), unique("b")
    a = await open_store(owner=a_name)
    await a.append(*batches[0])
    async with Gate(pg_dsn, "journal", "INSERT") as gate:
        a_append = asyncio.create_task(a.append(*batches[1]))
        await wait_until_blocked(pg_dsn, writer_name(a_name))
        b_open = asyncio.create_task(open_store(owner=b_name))
        await wait_until_blocked(pg_dsn, writer_name(b_name))  # the takeover waits for A
        assert not a_append.done()

        await gate.open()
        a_seq = await a_append
        b = await b_open

    assert a_seq == len(batches[0][0]) + len(batches[1][0])
    assert (b.epoch, b.head_seq) == (a.epoch + 1, a_seq)
    for batch in batches[2:]:
        await b.append(*batch)
    with pytest.raises(JournalFenced):
        await a.append(*batches[2])
    epochs = await journal_epochs(pg_dsn)
    assert epochs == sorted(epochs)
    assert epochs[a_seq - 1 : a_seq + 1] == [a.epoch, b.epoch]
    report = await verify_store(b)
    assert report.ok, report.problems


async def test_stale_owner_append_after_a_takeover_is_fenced_and_writes_nothing(
    open_store: OpenStore, pg_dsn: str
):
    batches = with_changes(session_batches())
    a = await open_store(owner=unique("a"))
    for batch in batches[:3]:
        await a.append(*batch)
    b = await open_store(owner=unique("b"))
    before = ([r async for r in b.records_after()], await b.snapshot(), await head_row(pg_dsn))

    with pytest.raises(JournalFenced, match="taken over") as fenced:
        await a.append(*batches[3])

    after = ([r async for r in b.records_after()], await b.snapshot(), await head_row(pg_dsn))
    assert after == before
    assert b.owner in str(fenced.value)
    with pytest.raises(JournalFenced):
        await a.append(*batches[3])  # and again: the refusal is for good
    for batch in batches[3:]:
        await b.append(*batch)
    report = await verify_store(b)
    assert report.ok, report.problems
    epochs = await journal_epochs(pg_dsn)
    assert epochs == sorted(epochs)


async def test_stale_append_queued_behind_an_uncommitted_takeover_fails_once_it_commits(
    open_store: OpenStore, pg_dsn: str
):
    batches = with_changes(session_batches())
    a_name, b_name = unique("a"), unique("b")
    a = await open_store(owner=a_name)
    await a.append(*batches[0])
    async with Gate(
        pg_dsn, "partition_head", "UPDATE", when="OLD.epoch IS DISTINCT FROM NEW.epoch"
    ) as gate:
        b_open = asyncio.create_task(open_store(owner=b_name))
        await wait_until_blocked(pg_dsn, writer_name(b_name))  # raised the epoch, not committed
        a_append = asyncio.create_task(a.append(*batches[1]))
        await wait_until_blocked(pg_dsn, writer_name(a_name))  # A's fence waits for B's row
        assert not a_append.done()

        await gate.open()
        b = await b_open
        with pytest.raises(JournalFenced):
            await a_append

    assert (b.epoch, b.head_seq) == (a.epoch + 1, len(batches[0][0]))
    assert [r.seq async for r in b.records_after()] == list(range(1, b.head_seq + 1))
    assert await b.order("0-1") is None  # batch 1 placed orders 0-1..0-3: none is stored
    for batch in batches[1:]:
        await b.append(*batch)
    await assert_chained(b)
    report = await verify_store(b)
    assert report.ok, report.problems


async def test_three_owners_in_turn_leave_epochs_rising_along_seq(
    open_store: OpenStore, pg_dsn: str
):
    batches = with_changes(session_batches())
    owners = [await open_store(owner=unique("n"))]
    for n, batch in enumerate(batches):
        if n in (4, 8):
            owners.append(await open_store(owner=unique("n")))
        await owners[-1].append(*batch)

    epochs = await journal_epochs(pg_dsn)
    assert epochs == sorted(epochs)
    assert sorted(set(epochs)) == [s.epoch for s in owners] == [1, 2, 3]
    for stale in owners[:-1]:
        with pytest.raises(JournalFenced):
            await stale.append(*batches[-1])
    await assert_chained(owners[-1])
