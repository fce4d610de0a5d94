"""A SQLite journal replayed with its records checked by a child process (`checker.py`):
the same verdicts as checked in-line, a broken record named by its seq wherever it stands
in a page, and a checker that fails only slows replay down."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from tests.unit.store.scenario import Session, fill_for, load, order_init, session_batches

from ordergate.domain.events import BalanceAdjusted, Event
from ordergate.engine.records import JournalRecord
from ordergate.engine.replay import VerificationReport, replay_records, verify_store
from ordergate.engine.state import OmsState
from ordergate.engine.views import ReadModelChanges
from ordergate.store.sqlite import SqliteStore, check_process, checker
from ordergate.store.sqlite.check_process import RECORDS_PER_PAGE

DEPOSITS = 2 * RECORDS_PER_PAGE + 700  # the journal spans four of the checker's pages


def batches() -> list[list[Event]]:
    deposits = [
        BalanceAdjusted("a1", "USDT", Decimal(n % 7 + 1), "deposit", 10_000 + n)
        for n in range(DEPOSITS)
    ]
    steps = [deposits[i : i + 500] for i in range(0, DEPOSITS, 500)]
    return [*session_batches(), *steps]


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Session]:
    """A journal of a few thousand records, written once; each test reads a copy."""
    path = tmp_path_factory.mktemp("checker") / "j.db"

    async def write() -> Session:
        store = SqliteStore(path)
        try:
            return await load(store, batches())
        finally:
            await store.close()

    return path, asyncio.run(write())


@pytest.fixture
async def store(journal: tuple[Path, Session], tmp_path: Path) -> AsyncIterator[SqliteStore]:
    source = sqlite3.connect(journal[0])
    target = sqlite3.connect(tmp_path / "j.db")
    source.backup(target)
    source.close()
    target.close()
    opened = SqliteStore(tmp_path / "j.db")
    yield opened
    await opened.close()


@pytest.fixture
def raw(store: SqliteStore) -> Iterator[sqlite3.Connection]:
    con = sqlite3.connect(store.path, isolation_level=None)
    yield con
    con.close()


def tamper(raw: sqlite3.Connection, seq: int) -> None:
    raw.execute("DROP TRIGGER journal_no_update")
    raw.execute("UPDATE journal SET ts = ts + 1 WHERE seq = ?", (seq,))


def stored_hash(raw: sqlite3.Connection, seq: int) -> str:
    return bytes(raw.execute("SELECT hash FROM journal WHERE seq = ?", (seq,)).fetchone()[0]).hex()


async def replay(store: SqliteStore, elsewhere: bool | None) -> tuple[OmsState, VerificationReport]:
    return await replay_records(
        store.records_after(check_elsewhere=elsewhere), store.partition, keep_changes=True
    )


async def one_by_one(store: SqliteStore) -> tuple[OmsState, VerificationReport]:
    """Record by record, as a follower reads them (no checked pages)."""

    async def records() -> AsyncIterator[JournalRecord]:
        async for record in store.records_after():
            yield record

    return await replay_records(records(), store.partition, keep_changes=True)


def live_children() -> list[int]:
    """Processes whose parent is this one, still running or not yet reaped."""
    me = str(os.getpid())
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.parametrize("elsewhere", [True, False])
async def test_checker_replay_gives_what_record_by_record_gives(store, journal, elsewhere):
    _, session = journal

    state, report = await replay(store, elsewhere)
    plain_state, plain = await one_by_one(store)

    assert report.ok
    assert report == plain
    assert report.events == len(session.events)
    assert state.take_changes() == plain_state.take_changes()


async def test_checker_verify_store_checks_elsewhere_and_matches_read_models(store, monkeypatch):
    spawned = []
    real = checker.checked_elsewhere

    def spy(*args: object) -> object:
        spawned.append(args)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(checker, "checked_elsewhere", spy)
    monkeypatch.setattr(checker, "CHECK_ELSEWHERE_FROM", store.head_seq)

    report = await verify_store(store)

    assert report.ok, report.problems
    assert len(spawned) == 1


async def test_checker_small_journal_checked_in_line(store, monkeypatch):
    monkeypatch.setattr(checker, "CHECK_ELSEWHERE_FROM", store.head_seq + 1)
    monkeypatch.setattr(checker, "checked_elsewhere", None)  # would fail if called

    _, report = await replay_records(store.records_after(), store.partition)

    assert report.ok


@pytest.mark.parametrize("elsewhere", [True, False])
@pytest.mark.parametrize(
    "seq",
    [1, 70, RECORDS_PER_PAGE, RECORDS_PER_PAGE + 1, 2 * RECORDS_PER_PAGE + 300],
)
async def test_checker_tampered_record_named_by_seq_after_the_records_before(
    store, raw, elsewhere, seq
):
    tamper(raw, seq)

    state, report = await replay(store, elsewhere)

    assert report.problems == [f"seq {seq}: hash does not match its content"]
    assert report.events == state.event_count == seq - 1
    assert report.head_seq == seq - 1
    if seq > 1:
        assert report.head_hash == stored_hash(raw, seq - 1)


@pytest.mark.parametrize("elsewhere", [True, False])
async def test_checker_deleted_record_reported_as_a_gap(store, raw, elsewhere):
    raw.execute("DROP TRIGGER journal_no_delete")
    raw.execute("DELETE FROM journal WHERE seq = ?", (RECORDS_PER_PAGE + 5,))

    _, report = await replay(store, elsewhere)

    assert report.problems == [
        f"seq {RECORDS_PER_PAGE + 6} where {RECORDS_PER_PAGE + 5} was expected"
    ]


async def test_checker_event_refused_stops_replay_and_the_checker(store, journal):
    denied = order_init(5)  # denied in the scenario: the table has no fill row for DENIED
    late = fill_for(denied, 1, denied.qty, 90_000)
    extra = [BalanceAdjusted("a2", "USDT", Decimal(1), "deposit", 90_001 + n) for n in range(50)]
    await store.append([late, *extra], ReadModelChanges())
    _, session = journal

    _, report = await replay(store, True)

    assert report.problems[0].startswith(f"seq {len(session.events) + 1}: replay failed")
    assert report.events == len(session.events)
    assert live_children() == []


async def test_checker_that_cannot_start_leaves_checking_in_line(store, journal, monkeypatch):
    monkeypatch.setattr(sys, "executable", "/bin/false")  # starts, says nothing, exits 1

    _, report = await replay(store, True)

    assert report.ok
    assert report.events == len(journal[1].events)


@pytest.fixture
def dying_checker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace the checker by one that sends its first page and dies."""
    script = tmp_path / "dies.py"
    script.write_text(
        "import os\n"
        "from ordergate.store.sqlite import check_process\n"
        "write = check_process._write\n"
        "def once(out, kind, body):\n"
        "    write(out, kind, body)\n"
        "    out.flush()\n"
        "    os._exit(3)\n"
        "check_process._write = once\n"
        "check_process.main()\n"
    )
    monkeypatch.setattr(check_process, "__file__", str(script))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(sys.path))


async def test_checker_dying_midway_resumes_in_line_from_its_last_page(store, dying_checker):
    state, report = await replay(store, True)
    in_line_state, in_line = await replay(store, False)

    assert report.ok, report.problems
    assert report == in_line
    assert state.take_changes() == in_line_state.take_changes()


async def test_checker_broken_record_after_it_died_still_named(store, raw, dying_checker):
    seq = RECORDS_PER_PAGE + 77  # in the page after the one the checker sent
    tamper(raw, seq)

    _, report = await replay(store, True)

    assert report.problems == [f"seq {seq}: hash does not match its content"]
    assert report.head_hash == stored_hash(raw, seq - 1)
