"""SqliteStore on disk: append-only storage, tampering found, reopening continues the chain."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from tests.unit.store.scenario import Session, load, session_batches

from ordergate.domain.errors import JournalError
from ordergate.domain.events import BalanceAdjusted
from ordergate.engine.chain import GENESIS, check_link
from ordergate.engine.replay import verify_store
from ordergate.engine.views import ReadModelChanges
from ordergate.store.sqlite import SqliteStore
from ordergate.store.sqlite.schema import FILL_COLUMNS, MIGRATIONS

D = Decimal


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "j.db"


@pytest.fixture
async def loaded(path: Path) -> AsyncIterator[tuple[SqliteStore, Session]]:
    store = SqliteStore(path)
    session = await load(store)
    yield store, session
    await store.close()


@pytest.fixture
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    con = sqlite3.connect(path, isolation_level=None)
    yield con
    con.close()


def drop_append_only_triggers(con: sqlite3.Connection) -> None:
    con.execute("DROP TRIGGER journal_no_update")
    con.execute("DROP TRIGGER journal_no_delete")


def seq_of_first(con: sqlite3.Connection, event_type: str) -> int:
    row = con.execute("SELECT min(seq) FROM journal WHERE type = ?", (event_type,)).fetchone()
    return int(row[0])


# --- append-only ------------------------------------------------------------------------------


async def test_sqlite_journal_update_refused_by_trigger(loaded, raw):
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute("UPDATE journal SET ts = ts + 1 WHERE seq = 3")

    store, _ = loaded
    assert (await verify_store(store)).ok


async def test_sqlite_journal_delete_refused_by_trigger(loaded, raw):
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute("DELETE FROM journal WHERE seq = 3")

    store, session = loaded
    assert store.count() == len(session.events)


# --- how rows are stored ----------------------------------------------------------------------


async def test_sqlite_order_row_keeps_reduce_only_as_integer_and_decimals_as_text(path, raw):
    # The row mapping is shared with PostgreSQL (boolean): SQLite's file must still hold
    # INTEGER 0/1, and decimals as text with their exponent.
    store = SqliteStore(path)
    try:
        session = await load(store)
        first = session.orders()[0]
        reducing = msgspec.structs.replace(first, order_id="0-99", reduce_only=True)
        await store.append([], ReadModelChanges(orders=[reducing]))
        read_back = await store.order("0-99")
    finally:
        await store.close()

    rows = raw.execute(
        "SELECT order_id, reduce_only, typeof(reduce_only), qty, typeof(qty) FROM orders "
        "WHERE order_id IN (?, '0-99') ORDER BY order_id",
        (first.order_id,),
    ).fetchall()
    assert rows == [
        (first.order_id, 0, "integer", str(first.qty), "text"),
        ("0-99", 1, "integer", str(first.qty), "text"),
    ]
    assert read_back == reducing
    assert read_back is not None
    assert read_back.reduce_only is True


# --- tampering with the journal ---------------------------------------------------------------


async def test_verify_store_tampered_payload_reports_its_seq(loaded, raw):
    store, _ = loaded
    seq = seq_of_first(raw, "OrderFilled")
    (payload,) = raw.execute("SELECT payload FROM journal WHERE seq = ?", (seq,)).fetchone()
    forged = re.sub(rb'"qty":"[0-9.]+"', b'"qty":"7"', bytes(payload), count=1)
    assert forged != bytes(payload)
    drop_append_only_triggers(raw)

    raw.execute("UPDATE journal SET payload = ? WHERE seq = ?", (forged, seq))
    report = await verify_store(store)

    assert not report.ok
    assert report.problems == [f"seq {seq}: hash does not match its content"]
    assert report.head_seq == seq - 1
    assert report.events == seq - 1


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("ts", 123_456),
        ("stream", "order:0-999"),
        ("type", "OrderAccepted"),
        ("version", 2),
        ("prev_hash", bytes(32)),
        ("hash", bytes(32)),
    ],
)
async def test_verify_store_tampered_envelope_reports_its_seq(loaded, raw, column, value):
    store, _ = loaded
    seq = 9
    drop_append_only_triggers(raw)

    raw.execute(f"UPDATE journal SET {column} = ? WHERE seq = ?", (value, seq))
    report = await verify_store(store)

    assert not report.ok
    assert len(report.problems) == 1
    assert report.problems[0].startswith(f"seq {seq}")
    assert report.head_seq == seq - 1


async def test_verify_store_deleted_record_reports_gap(loaded, raw):
    store, _ = loaded
    drop_append_only_triggers(raw)

    raw.execute("DELETE FROM journal WHERE seq = 7")
    report = await verify_store(store)

    assert report.problems == ["seq 8 where 7 was expected"]


async def test_verify_store_truncated_tail_verifies_but_read_models_disagree(loaded, raw):
    # Dropping the last records leaves a valid chain; the read models then give it away.
    store, session = loaded
    drop_append_only_triggers(raw)
    last = len(session.events)

    raw.execute("DELETE FROM journal WHERE seq > ?", (last - 3,))
    report = await verify_store(store)

    assert report.head_seq == last - 3
    assert not report.ok
    assert all("read model" in p for p in report.problems)


# --- tampering with the read models -----------------------------------------------------------


async def test_verify_store_order_row_changed_behind_journal_reported(loaded, raw):
    store, _ = loaded

    raw.execute("UPDATE orders SET status = 'FILLED', filled_qty = '0.010' WHERE order_id = '0-3'")
    report = await verify_store(store)

    assert report.problems == ["order 0-3: read model differs from the replay"]


async def test_verify_store_extra_and_missing_rows_reported(loaded, raw):
    store, _ = loaded

    raw.execute("DELETE FROM fills WHERE trade_id = 'T0-2-1'")
    raw.execute("INSERT INTO balances VALUES ('ghost', 'USDT', '1', 0)")
    raw.execute("UPDATE positions SET qty = '9' WHERE account = 'a1' AND symbol = 'EURUSD'")
    report = await verify_store(store)

    assert sorted(report.problems) == sorted(
        [
            "fill ('a1', '0-2', 'T0-2-1'): missing from the read model",
            "balance ('ghost', 'USDT'): in the read model but not in the journal",
            "position ('a1', 'EURUSD'): read model differs from the replay",
        ]
    )


# --- reopening --------------------------------------------------------------------------------


async def test_sqlite_store_reopen_continues_chain(path: Path):
    first = SqliteStore(path)
    session = await load(first)
    head = list(first.records())[-1]
    await first.close()

    reopened = SqliteStore(path)
    try:
        assert reopened.head_seq == head.seq == len(session.events)
        extra = [BalanceAdjusted("a1", "USDT", D("5"), "deposit", 9_000)]
        for event in extra:
            session.state.apply(event)
        last = await reopened.append(extra, session.state.take_changes())
        records = list(reopened.records())
        report = await verify_store(reopened)
    finally:
        await reopened.close()

    assert last == head.seq + 1
    assert records[-1].prev_hash == head.hash
    assert [r.seq for r in records] == list(range(1, head.seq + 2))
    assert report.ok, report.problems
    assert report.head_seq == head.seq + 1


async def test_sqlite_store_reopen_empty_starts_at_genesis(path: Path):
    await SqliteStore(path).close()  # creates the schema, appends nothing
    store = SqliteStore(path)
    try:
        session = await load(store, session_batches()[:1])
        records = list(store.records())
    finally:
        await store.close()

    assert records[0].prev_hash == GENESIS
    assert records[0].seq == 1
    check_link(records[0], GENESIS, 1)
    assert len(records) == len(session.events)


async def test_sqlite_store_failed_append_leaves_journal_and_head_unchanged(loaded):
    store, session = loaded
    head_seq = store.head_seq
    head_hash = list(store.records())[-1].hash
    # A fill row that is already stored violates UNIQUE (account, trade_id): the whole
    # transaction must roll back, journal records included.
    changes = ReadModelChanges(fills=[session.fills[0]])
    event = BalanceAdjusted("a1", "USDT", D("1"), "deposit", 9_000)

    with pytest.raises(JournalError):
        await store.append([event], changes)

    assert store.head_seq == head_seq
    assert store.count() == head_seq
    session.state.apply(event)
    assert await store.append([event], session.state.take_changes()) == head_seq + 1
    assert list(store.records())[-1].prev_hash == head_hash
    assert (await verify_store(store)).ok


# --- schema -----------------------------------------------------------------------------------


def fill_row(trade_id: str, order_id: str) -> tuple[object, ...]:
    return (trade_id, order_id, "a1", "BTCUSDT", "BUY", "0.1", "50000", "0.5", "USDT", "TAKER", 7)


async def test_sqlite_store_opens_v2_file_keeping_its_fills_unique_per_order(path: Path):
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for version, script in enumerate(MIGRATIONS[:2], start=1):
        con.executescript(
            f"BEGIN; {script}; DELETE FROM schema_version; "
            f"INSERT INTO schema_version VALUES ({version}); COMMIT;"
        )
    con.execute(
        f"INSERT INTO fills ({FILL_COLUMNS}) VALUES ({', '.join('?' * 11)})", fill_row("T1", "0-1")
    )
    con.close()

    store = SqliteStore(path)  # migrates v2 → v3
    try:
        kept = (await store.snapshot()).fills
    finally:
        await store.close()
    con = sqlite3.connect(path, isolation_level=None)
    try:
        # The other leg of a self-trade: the same trade id on the account's other order.
        con.execute(
            f"INSERT INTO fills ({FILL_COLUMNS}) VALUES ({', '.join('?' * 11)})",
            fill_row("T1", "0-2"),
        )
        with pytest.raises(sqlite3.IntegrityError):
            con.execute(
                f"INSERT INTO fills ({FILL_COLUMNS}) VALUES ({', '.join('?' * 11)})",
                fill_row("T1", "0-2"),
            )
        indexes = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        version = con.execute("SELECT version FROM schema_version").fetchone()[0]
    finally:
        con.close()

    assert [(f.trade_id, f.order_id, f.qty) for f in kept] == [("T1", "0-1", D("0.1"))]
    assert {"fills_by_ts", "fills_by_order"} <= indexes
    assert version == len(MIGRATIONS)
