"""The quick comparison of a PostgreSQL cluster's read models with the replays'
(`store/postgres/sameness.py`), through the tools' read-only snapshot: rows as stored
decode to exactly the rows the replays' views are written as, whatever their text holds;
any field of any order changed answers False; and `verify-journal`'s check of a cluster
takes the quick path when the read models match, and names a difference when not."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import asyncpg
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.integration.store.read_model_strategies import changes, one_order_field_changed
from tests.pg_support import isolated_schema
from tests.unit.store.scenario import load

from ordergate.engine.replay import verify_partitions_and_checkpoints
from ordergate.engine.views import ReadModelChanges
from ordergate.store.postgres import PostgresStore
from ordergate.store.postgres.snapshot import JournalSnapshot, open_snapshot


def stored_then_compared(written: ReadModelChanges, expected: ReadModelChanges) -> bool:
    async def run() -> bool:
        async with isolated_schema() as dsn:
            store = await PostgresStore.open(dsn)
            try:
                await store.append([], written)
            finally:
                await store.close()
            async with open_snapshot(dsn) as snapshot:
                return await snapshot.read_models_equal(expected)

    return asyncio.run(run())


@settings(max_examples=25, deadline=None)
@given(changes())
def test_rows_as_stored_decode_to_the_replays_whatever_their_text(written):
    assert stored_then_compared(written, written)


@settings(max_examples=15, deadline=None)
@given(changes().filter(lambda c: bool(c.orders)), st.data())
def test_any_field_of_any_order_changed_answers_false(written, data):
    assert not stored_then_compared(written, one_order_field_changed(written, data))


class CountingSnapshot:
    """The snapshot, counting how often verification read the read models view by view."""

    def __init__(self, snapshot: JournalSnapshot) -> None:
        self._snapshot = snapshot
        self.views_read = 0

    async def read_models(self) -> ReadModelChanges:
        self.views_read += 1
        return await self._snapshot.read_models()

    async def read_models_equal(self, expected: ReadModelChanges) -> bool:
        return await self._snapshot.read_models_equal(expected)


async def verified(dsn: str) -> tuple[list[str], int]:
    async with open_snapshot(dsn) as snapshot:
        journals = [snapshot.journal(p) for p in snapshot.partitions]
        counting = CountingSnapshot(snapshot)
        verification = await verify_partitions_and_checkpoints(journals, counting)
        problems = [p for r in verification.reports.values() for p in r.problems]
        return problems + verification.read_model_problems, counting.views_read


async def test_a_cluster_whose_read_models_match_is_shown_equal_without_views():
    async with isolated_schema() as dsn:
        store = await PostgresStore.open(dsn)
        try:
            await load(store)
        finally:
            await store.close()

        matching = await verified(dsn)
        admin = await asyncpg.connect(dsn)
        try:
            fees = await admin.fetchval("SELECT fees FROM positions LIMIT 1")
            await admin.execute("UPDATE positions SET fees = fees || '0'")  # same value
            same_value = await verified(dsn)
            await admin.execute("UPDATE positions SET fees = '7'")
            different = await verified(dsn)
        finally:
            await admin.close()

    assert matching == ([], 0)
    assert Decimal(fees) == Decimal(fees + "0")
    assert same_value == ([], 1)  # told apart by form only: the views find them equal
    assert different[1] == 1
    assert different[0]
    assert all("read model differs" in p for p in different[0])
