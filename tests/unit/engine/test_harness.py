"""The harness itself: what tests see of the journal is what the store holds, on either store.

`Harness.events()` is what the engines reported once journaled, heard from each engine's
construction on; `Sessions.close` fails a test whose journal holds anything else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from engine_support import (
    ACCOUNT,
    DEPOSIT,
    STORE_VARIABLE,
    T0,
    Sessions,
    engine_store_kind,
    limit_order,
)
from tests.fakes import BTC
from tests.unit.engine.schema_stock import BATCH, SchemaStock

from ordergate.domain.events import BalanceAdjusted, InstrumentUpdated, JournalOpened
from ordergate.engine.views import ReadModelChanges
from ordergate.store.memory import MemoryStore
from ordergate.store.postgres import PostgresStore


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


async def test_harness_events_include_start_up_events_and_equal_the_stored_journal(sessions):
    h = await sessions.start()

    events = h.events()

    assert [type(e) for e in events] == [JournalOpened, InstrumentUpdated, BalanceAdjusted]
    assert events[1].instrument == BTC
    assert (events[2].account, events[2].amount) == (ACCOUNT, DEPOSIT)
    assert events == await h.stored_events()
    assert h.store.head_seq == len(events)


async def test_harness_restart_continues_the_same_journal_on_the_runs_store(sessions):
    h = await sessions.start()
    placed = await h.place(limit_order())
    await h.settle()

    h2 = await sessions.restart(h)
    await h2.settle()

    assert h2.journal is h.journal
    assert h2.events() == await h2.stored_events()
    assert len(h2.events(JournalOpened)) == 1  # the same journal, not a new one
    assert h2.engine.order(placed.order_id) == h.engine.order(placed.order_id)
    assert (await h2.replayed()).orders.keys() == {placed.order_id}
    if sessions.kind == "postgres":  # a restarted process opens the store again: a takeover
        assert isinstance(h.store, PostgresStore)
        assert isinstance(h2.store, PostgresStore)
        assert h2.store is not h.store
        assert h2.store.epoch == h.store.epoch + 1
    else:
        assert isinstance(h2.store, MemoryStore)
        assert h2.store is h.store


async def test_sessions_close_fails_when_the_journal_holds_events_no_engine_journaled():
    sessions = Sessions()
    try:
        h = await sessions.start()
        await h.engine.stop()
        # Behind the engines' back: the store now holds an event the harness never heard.
        stray = BalanceAdjusted(ACCOUNT, "USDT", DEPOSIT, "stray", T0)
        await h.store.append([stray], ReadModelChanges())
    except BaseException:
        await sessions.close()
        raise

    with pytest.raises(AssertionError, match="the store holds 4 events, the engines journaled 3"):
        await sessions.close()


def test_engine_store_kind_defaults_to_memory_and_refuses_unknown_names(monkeypatch):
    monkeypatch.delenv(STORE_VARIABLE, raising=False)
    assert engine_store_kind() == "memory"
    monkeypatch.setenv(STORE_VARIABLE, " Postgres ")
    assert engine_store_kind() == "postgres"
    monkeypatch.setenv(STORE_VARIABLE, "sqlite")
    with pytest.raises(ValueError, match="expected one of memory, postgres"):
        engine_store_kind()


@pytest.mark.skipif(
    engine_store_kind() != "postgres",
    reason=f"the PostgreSQL schema stock is used (and tested) when {STORE_VARIABLE}=postgres",
)
async def test_schema_stock_given_back_schema_comes_back_empty_and_migrated():
    stock = SchemaStock()
    try:
        first = await stock.take()
        store = await PostgresStore.open(stock.dsn_of(first))
        await store.append(
            [BalanceAdjusted(ACCOUNT, "USDT", DEPOSIT, "deposit", T0)], ReadModelChanges()
        )
        await store.advance_outbox_cursor(1)
        await store.close()
        await stock.give_back(first, reusable=True)
        others = [await stock.take() for _ in range(BATCH - 1)]
        for schema in others:
            await stock.give_back(schema, reusable=True)

        taken = [await stock.take() for _ in range(BATCH)]  # none ready: all emptied now
        reopened = await PostgresStore.open(stock.dsn_of(first))
        try:
            records = [r async for r in reopened.records_after(0)]
            snapshot = await reopened.snapshot()
            cursor = await reopened.outbox_cursor()
        finally:
            await reopened.close()

        assert sorted(taken) == sorted([first, *others])  # reused, not made anew
        assert (records, reopened.head_seq, reopened.epoch, cursor) == ([], 0, 1, 0)
        assert snapshot == ReadModelChanges()
        assert stock.made == {first, *others}
    finally:
        await stock.drop_all()
    assert stock.made == frozenset()
