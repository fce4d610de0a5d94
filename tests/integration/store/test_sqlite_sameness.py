"""The quick comparison of SQLite's read models with a replay's (`sameness.py`): rows as
stored render exactly as the replay's rows do, whatever their text holds, so a journal
whose read models match is shown equal without building a view per row; and any
difference answers False, after which verification names it view by view."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.integration.store.read_model_strategies import changes, one_order_field_changed
from tests.unit.store.scenario import load

from ordergate.domain.events import Event
from ordergate.engine.replay import verify_store
from ordergate.engine.state import OmsState
from ordergate.engine.views import ReadModelChanges
from ordergate.store.sqlite import SqliteStore


def stored_then_compared(written: ReadModelChanges, expected: ReadModelChanges) -> bool:
    async def run(path: Path) -> bool:
        store = SqliteStore(path)
        try:
            await store.append([], written)
            return await store.read_models_equal(expected)
        finally:
            await store.close()

    with tempfile.TemporaryDirectory() as directory:
        return asyncio.run(run(Path(directory) / "j.db"))


@settings(max_examples=60, deadline=None)
@given(changes())
def test_rows_as_stored_render_as_the_replays_whatever_their_text(written):
    assert stored_then_compared(written, written)


@settings(max_examples=30, deadline=None)
@given(changes().filter(lambda c: bool(c.orders)), st.data())
def test_any_field_of_any_order_changed_answers_false(written, data):
    assert not stored_then_compared(written, one_order_field_changed(written, data))


async def test_a_session_replayed_is_shown_equal_and_a_changed_row_is_not(tmp_path):
    store = SqliteStore(tmp_path / "j.db")
    try:
        await load(store)
        replayed = OmsState.replay(
            [e async for e in _events(store)], partition=store.partition
        ).take_changes()
        equal = await store.read_models_equal(replayed)
        raw = sqlite3.connect(tmp_path / "j.db", isolation_level=None)
        raw.execute("UPDATE positions SET fees = fees || '0'")  # "0.5" -> "0.50": same value
        raw.close()
        after_edit = await store.read_models_equal(replayed)
        report = await verify_store(store)
    finally:
        await store.close()

    assert equal
    assert not after_edit
    assert report.ok, report.problems  # equal in value: view by view, nothing differs


async def _events(store: SqliteStore) -> AsyncIterator[Event]:
    from ordergate.engine.codec import decode

    async for record in store.records_after(0, check_elsewhere=False):
        yield decode(record.type, record.version, record.payload)


async def test_a_value_json_cannot_hold_sends_verification_to_the_views(tmp_path):
    store = SqliteStore(tmp_path / "j.db")
    try:
        await load(store)
        raw = sqlite3.connect(tmp_path / "j.db", isolation_level=None)
        raw.execute("UPDATE orders SET reason = x'00ff' WHERE order_id = '0-1'")
        raw.close()
        report = await verify_store(store)
    finally:
        await store.close()

    assert report.problems == ["order 0-1: read model differs from the replay"]
