"""PostgresStore's journal on a real PostgreSQL: the chain, one query per append, migrations,
append-only storage, the outbox cursor, read-only stores, and appends whose connection fails."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import pytest
from tests.integration.store.pg_rigs import (
    Gate,
    OpenStore,
    PgProxy,
    unique,
    with_changes,
    writer_name,
)
from tests.pg_support import terminate_sessions, wait_until_blocked
from tests.unit.store.scenario import load, session_batches
from tests.waiting import eventually

from ordergate.domain.errors import JournalCorrupted, JournalError, JournalFenced
from ordergate.domain.events import BalanceAdjusted, Event
from ordergate.engine.chain import GENESIS, check_link
from ordergate.engine.digest import state_digest
from ordergate.engine.replay import verify_store
from ordergate.engine.state import OmsState
from ordergate.engine.views import ReadModelChanges
from ordergate.store.postgres import MIGRATIONS, PostgresStore, SessionSettings, migrate
from ordergate.store.postgres.connection import connect_writer
from ordergate.store.postgres.store import PAGE_SIZE


def deposits(count: int, first_ts: int = 10, account: str = "acct") -> list[Event]:
    return [
        BalanceAdjusted(account, "USD", Decimal("1.5"), "deposit", first_ts + i)
        for i in range(count)
    ]


class Deposits:
    """Deposit batches with the read-model changes they make, so the journal verifies."""

    def __init__(self) -> None:
        self.state = OmsState()
        self.ts = 10

    def next(self, count: int) -> tuple[list[Event], ReadModelChanges]:
        events = deposits(count, self.ts)
        self.ts += count
        for event in events:
            self.state.apply(event)
        return events, self.state.take_changes()


def stray(count: int) -> tuple[list[Event], ReadModelChanges]:
    """A batch meant to fail: were it stored, the journal would no longer verify."""
    return deposits(count, 1, account="stray"), ReadModelChanges()


async def journal_rows(dsn: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch("SELECT partition_id, seq, epoch FROM journal ORDER BY seq")
    finally:
        await conn.close()


async def outbox_updated_at(dsn: str) -> datetime:
    conn = await asyncpg.connect(dsn)
    try:
        stamp: datetime = await conn.fetchval(
            "SELECT updated_at FROM outbox_cursor WHERE partition_id = 0"
        )
        return stamp
    finally:
        await conn.close()


async def test_append_then_records_after_returns_the_chained_records(open_store: OpenStore):
    store = await open_store(owner=unique("a"))
    session = await load(store)

    records = [r async for r in store.records_after()]
    later = [r async for r in store.records_after(10)]
    report = await verify_store(store)

    assert [r.seq for r in records] == list(range(1, len(session.events) + 1))
    prev = GENESIS
    for record in records:
        assert record.partition == 0
        prev = check_link(record, prev, record.seq)
    assert later == records[10:]
    assert store.head_seq == len(session.events)
    assert report.ok, report.problems
    assert report.digest == state_digest(session.state)
    order = await store.order("0-1")
    assert order is not None
    assert str(order.qty) == "0.010"  # the decimal's exponent survives the round trip


async def test_reopened_store_takes_over_and_continues_the_chain(
    open_store: OpenStore, pg_dsn: str
):
    batches = session_batches()
    first = await open_store(owner=unique("a"))
    await load(first, batches[:5])
    await first.close()

    second = await open_store(owner=unique("b"))
    assert second.epoch == first.epoch + 1
    assert second.head_seq == first.head_seq
    for events, changes in with_changes(batches)[5:]:
        await second.append(events, changes)
    report = await verify_store(second)

    assert report.ok, report.problems
    assert report.events == sum(len(b) for b in batches)
    epochs = [r["epoch"] for r in await journal_rows(pg_dsn)]
    assert epochs == [1] * first.head_seq + [2] * (len(epochs) - first.head_seq)


async def test_records_after_pages_through_more_than_a_page(open_store: OpenStore):
    store = await open_store(owner=unique("a"))
    total = PAGE_SIZE * 2 + 500
    for events, changes in with_changes([deposits(1200), deposits(1300, 5000)]):
        await store.append(events, changes)

    everything = [r.seq async for r in store.records_after()]
    tail = [r.seq async for r in store.records_after(PAGE_SIZE + 500)]

    assert everything == list(range(1, total + 1))
    assert tail == list(range(PAGE_SIZE + 501, total + 1))


async def test_append_is_one_query_and_one_round_trip(open_store: OpenStore, pg_dsn: str):
    queries: list[str] = []
    proxy = PgProxy(pg_dsn)
    await proxy.start()
    try:
        store = await open_store(
            dsn=proxy.dsn_via(pg_dsn),
            owner=unique("a"),
            query_logger=lambda q: queries.append(q.query),
        )
        prepared = with_changes(session_batches())
        await store.append(*prepared[0])  # the first also prepares the statement
        await asyncio.sleep(0)  # query loggers are called soon after the query
        queries.clear()
        round_trips = []
        for events, changes in prepared[1:]:
            before = proxy.ready_for_query
            await store.append(events, changes)
            round_trips.append(proxy.ready_for_query - before)
        await asyncio.sleep(0)
    finally:
        await proxy.close()

    assert len(queries) == len(prepared) - 1
    assert all(q.lstrip().startswith("WITH fence AS") for q in queries)
    assert round_trips == [1] * (len(prepared) - 1)


async def test_append_with_no_read_model_changes_stores_the_events(open_store: OpenStore):
    store = await open_store(owner=unique("a"))

    seq = await store.append(deposits(3), ReadModelChanges())

    assert seq == 3
    assert [r.seq async for r in store.records_after()] == [1, 2, 3]
    assert await store.snapshot() == ReadModelChanges()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE journal SET ts = ts + 1 WHERE seq = 1",
        "DELETE FROM journal WHERE seq = 1",
        "TRUNCATE journal",
    ],
)
async def test_journal_refuses_update_delete_and_truncate(
    open_store: OpenStore, pg_dsn: str, statement: str
):
    store = await open_store(owner=unique("a"))
    await load(store, session_batches()[:2])
    before = [r async for r in store.records_after()]
    conn = await asyncpg.connect(pg_dsn)
    try:
        with pytest.raises(asyncpg.RestrictViolationError, match="append-only"):
            await conn.execute(statement)
    finally:
        await conn.close()

    assert [r async for r in store.records_after()] == before


async def test_migrate_from_two_connections_at_once_applies_each_migration_once(pg_dsn: str):
    first, second = await asyncpg.connect(pg_dsn), await asyncpg.connect(pg_dsn)
    try:
        applied = await asyncio.gather(migrate(first), migrate(second))
        again = await migrate(first)
        versions = [
            r["version"] for r in await first.fetch("SELECT version FROM schema_migrations")
        ]
        tables = {
            r["tablename"]
            for r in await first.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
        }
    finally:
        await first.close()
        await second.close()

    every = list(range(1, len(MIGRATIONS) + 1))
    assert sorted(applied, key=len) == [[], every]
    assert again == []
    assert sorted(versions) == every
    assert {"journal", "partition_head", "orders", "fills", "positions", "balances"} <= tables
    assert "outbox_cursor" in tables


async def test_migrate_database_of_a_newer_ordergate_refused(pg_dsn: str):
    conn = await asyncpg.connect(pg_dsn)
    try:
        await migrate(conn)
        await conn.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)", len(MIGRATIONS) + 1
        )

        with pytest.raises(JournalError, match="schema v"):
            await migrate(conn)
    finally:
        await conn.close()
    with pytest.raises(JournalError, match="schema v"):
        await PostgresStore.open(pg_dsn, owner=unique("a"))


async def test_outbox_cursor_only_moves_forward(open_store: OpenStore, pg_dsn: str):
    store = await open_store(owner=unique("a"))
    other = await open_store(partition=1, owner=unique("b"))
    assert await store.outbox_cursor() == 0

    await store.advance_outbox_cursor(5, updated_ts=1_700_000_000_123_456_789)
    await store.advance_outbox_cursor(3, updated_ts=1_800_000_000_000_000_000)
    moved_at = await outbox_updated_at(pg_dsn)
    assert await store.outbox_cursor() == 5
    await store.advance_outbox_cursor(9)

    assert await store.outbox_cursor() == 9
    assert await other.outbox_cursor() == 0
    assert moved_at == datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC)


async def test_read_only_store_refuses_appends_and_leaves_the_owner_alone(open_store: OpenStore):
    owner = await open_store(owner=unique("a"))
    await load(owner, session_batches()[:2])

    reader = await open_store(owner=unique("r"), take_over=False)
    with pytest.raises(JournalError, match="read-only") as refused:
        await reader.append(*stray(1))

    assert type(refused.value) is JournalError
    assert (reader.epoch, reader.head_seq) == (owner.epoch, owner.head_seq)
    assert [r async for r in reader.records_after()] == [r async for r in owner.records_after()]
    seq = await owner.append(*Deposits().next(1))
    assert seq == reader.head_seq + 1


async def test_read_only_store_of_an_unused_partition_is_empty(open_store: OpenStore):
    reader = await open_store(partition=7, owner=unique("r"), take_over=False)

    assert (reader.epoch, reader.head_seq) == (0, 0)
    assert [r async for r in reader.records_after()] == []
    assert await reader.outbox_cursor() == 0


async def test_takeover_of_a_head_that_disagrees_with_the_journal_raises_corrupted(
    open_store: OpenStore, pg_dsn: str
):
    store = await open_store(owner=unique("a"))
    await load(store, session_batches()[:2])
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute("UPDATE partition_head SET head_seq = head_seq - 1")
    finally:
        await conn.close()

    with pytest.raises(JournalCorrupted, match="the journal ends at"):
        await PostgresStore.open(pg_dsn, owner=unique("b"))


async def test_batch_the_database_refuses_stores_nothing_and_the_store_carries_on(
    open_store: OpenStore, pg_dsn: str
):
    store = await open_store(owner=unique("a"))
    session = await load(store)
    before = (store.head_seq, [r async for r in store.records_after()], await store.snapshot())
    duplicate = ReadModelChanges(fills=[session.fills[0]])  # (account, trade_id) is unique

    with pytest.raises(JournalError, match="refused") as refused:
        await store.append(stray(2)[0], duplicate)

    assert type(refused.value) is JournalError
    assert (store.head_seq, [r async for r in store.records_after()], await store.snapshot()) == (
        before
    )
    assert await store.append(*Deposits().next(1)) == before[0] + 1
    assert (await verify_store(store)).problems == []


async def test_an_idle_writer_is_not_ended_by_the_idle_session_timeout(
    open_store: OpenStore, pg_dsn: str
):
    # Only lease sessions end when idle: ending a writer would race its next append.
    owner = unique("a")
    settings = SessionSettings(idle_session_timeout_ms=200)
    store = await open_store(owner=owner, settings=settings)
    batches = Deposits()
    await store.append(*batches.next(1))
    backend = await _writer_pid(pg_dsn, writer_name(owner))

    # A session that does end when idle, idle since after the writer's last statement: once
    # the server has ended it, the writer too has been idle for longer than the timeout.
    control_name = unique("idle-control")
    control = await connect_writer(pg_dsn, settings, control_name, 10, ends_when_idle=True)
    try:

        async def control_ended() -> bool:
            return await _writer_pid(pg_dsn, control_name) is None

        await eventually(control_ended, message="the server to end the idle control session")
    finally:
        control.terminate()

    assert await _writer_pid(pg_dsn, writer_name(owner)) == backend
    assert await store.append(*batches.next(1)) == 2
    assert (await verify_store(store)).ok


async def test_writer_closed_under_the_store_reconnects(open_store: OpenStore, pg_dsn: str):
    owner = unique("a")
    store = await open_store(owner=owner)
    batches = Deposits()
    await store.append(*batches.next(1))
    assert await terminate_sessions(pg_dsn, writer_name(owner)) == 1

    assert await store.append(*batches.next(1)) == 2
    assert (await verify_store(store)).ok


async def _writer_pid(dsn: str, name: str) -> int | None:
    conn = await asyncpg.connect(dsn)
    try:
        pid: int | None = await conn.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1", name
        )
        return pid
    finally:
        await conn.close()


async def test_append_whose_backend_is_killed_in_flight_is_not_stored(
    open_store: OpenStore, pg_dsn: str
):
    owner = unique("a")
    store = await open_store(owner=owner)
    batches = Deposits()
    await store.append(*batches.next(2))
    async with Gate(pg_dsn, "journal", "INSERT") as gate:
        append = asyncio.create_task(store.append(*stray(3)))
        await wait_until_blocked(pg_dsn, writer_name(owner))
        assert await terminate_sessions(pg_dsn, writer_name(owner)) == 1

        with pytest.raises(JournalError, match="did not commit") as failed:
            await append
        await gate.open()

    assert type(failed.value) is JournalError
    assert [r["seq"] for r in await journal_rows(pg_dsn)] == [1, 2]
    assert store.head_seq == 2
    assert await store.append(*batches.next(1)) == 3
    assert (await verify_store(store)).ok


async def test_append_whose_answer_is_lost_after_commit_returns_its_seq(
    open_store: OpenStore, pg_dsn: str
):
    proxy = PgProxy(pg_dsn)
    await proxy.start()
    try:
        owner = unique("a")
        store = await open_store(dsn=proxy.dsn_via(pg_dsn), owner=owner, timeout=0.5)
        batches = Deposits()
        await store.append(*batches.next(2))
        proxy.silence(writer_name(owner))  # the server commits; the writer hears nothing

        seq = await store.append(*batches.next(3))

        assert seq == 5
        assert [r["seq"] for r in await journal_rows(pg_dsn)] == [1, 2, 3, 4, 5]
        assert await store.append(*batches.next(1)) == 6
        assert (await verify_store(store)).ok
    finally:
        await proxy.close()


async def test_cancelled_append_still_completes_and_the_next_one_follows_it(
    open_store: OpenStore, pg_dsn: str
):
    owner = unique("a")
    store = await open_store(owner=owner)
    batches = Deposits()
    await store.append(*batches.next(2))
    async with Gate(pg_dsn, "journal", "INSERT") as gate:
        append = asyncio.create_task(store.append(*batches.next(3)))
        await wait_until_blocked(pg_dsn, writer_name(owner))
        append.cancel()
        with pytest.raises(asyncio.CancelledError):
            await append
        await wait_until_blocked(pg_dsn, writer_name(owner))  # the statement goes on
        await gate.open()

        seq = await store.append(*batches.next(1))

    assert seq == 6
    assert [r["seq"] for r in await journal_rows(pg_dsn)] == [1, 2, 3, 4, 5, 6]
    assert (await verify_store(store)).ok


async def test_fenced_store_refuses_every_later_append(open_store: OpenStore):
    old = await open_store(owner=unique("a"))
    await old.append(*Deposits().next(1))
    await open_store(owner=unique("b"))

    for _ in range(2):
        with pytest.raises(JournalFenced):
            await old.append(*stray(1))
