"""Keys in the journal's SQLite file: hashed at rest, append-only audit, their own tables,
and shared with a running app through the CLI (create and revoke without a restart)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import httpx
import pytest
from tests.integration.api.support import make_settings, running
from tests.integration.auth.auth_support import cli, headers, key_id_of, refusal
from tests.waiting import eventually

from ordergate.auth import Scope, split_key
from ordergate.auth.keys import hash_secret
from ordergate.store.sqlite import SqliteKeyStore


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "og.db"


def secret_of(key: str) -> str:
    parts = split_key(key)
    assert parts is not None
    return parts[1]


def test_sqlite_keys_hashed_at_rest_no_secret_in_tables_or_files(db: Path) -> None:
    store = SqliteKeyStore(db)
    keys = [store.create(scope, "k", actor="tests").plaintext for scope in Scope]
    store.revoke(key_id_of(keys[0]), actor="tests")
    store.close()

    con = sqlite3.connect(db)
    rows = con.execute("SELECT * FROM api_keys").fetchall()
    audit = con.execute("SELECT * FROM api_key_audit").fetchall()
    hashes = {row[0]: row[3] for row in rows}
    con.close()
    files = b"".join(p.read_bytes() for p in db.parent.glob("og.db*"))

    for key in keys:
        secret = secret_of(key)
        assert secret not in repr(rows) + repr(audit)
        assert secret.encode() not in files
        assert key.encode() not in files
        assert hashes[key_id_of(key)] == hash_secret(secret)


@pytest.mark.parametrize(
    "statement",
    ["UPDATE api_key_audit SET actor = 'x'", "DELETE FROM api_key_audit", "DELETE FROM api_keys"],
)
def test_sqlite_audit_and_keys_cannot_be_rewritten(db: Path, statement: str) -> None:
    store = SqliteKeyStore(db)
    store.create(Scope.ADMIN, "k", actor="tests")
    store.close()
    con = sqlite3.connect(db)

    with pytest.raises(sqlite3.IntegrityError):
        con.execute(statement)


def test_sqlite_revoked_key_cannot_be_unrevoked(db: Path) -> None:
    store = SqliteKeyStore(db)
    key = store.create(Scope.ADMIN, "k", actor="tests").key
    store.revoke(key.key_id, actor="tests")
    store.close()
    con = sqlite3.connect(db)

    with pytest.raises(sqlite3.IntegrityError):
        con.execute("UPDATE api_keys SET revoked_at = NULL")


def test_sqlite_key_store_reopened_keeps_keys(db: Path) -> None:
    first = SqliteKeyStore(db)
    key = first.create(Scope.TRADE, "k", actor="tests").key
    first.close()

    again = SqliteKeyStore(db)

    assert again.get(key.key_id) == key
    again.close()


async def test_sqlite_key_created_by_cli_while_serving_accepted_without_restart(
    market: Path, db: Path
) -> None:
    async with running(make_settings(market, db=str(db)), scope=None) as api:
        created = await asyncio.to_thread(cli, "keys", "create", "--scope", "read", "--db", str(db))
        response = await api.http.get("/v1/orders", headers=headers(created.stdout.strip()))

    assert created.returncode == 0, created.stderr
    assert response.status_code == 200, response.text


async def test_sqlite_key_revoked_by_cli_while_serving_refused_within_two_seconds(
    market: Path, db: Path
) -> None:
    async with running(make_settings(market, db=str(db)), scope=None) as api:
        key = api.application.keys.create(Scope.ADMIN, "doomed", actor="tests").plaintext
        before = await api.http.get("/v1/orders", headers=headers(key))  # now in the cache
        revoked = await asyncio.to_thread(cli, "keys", "revoke", key_id_of(key), "--db", str(db))

        async def answer_once_refused() -> httpx.Response | None:
            response = await api.http.get("/v1/orders", headers=headers(key))
            return response if response.status_code != 200 else None

        after = await eventually(
            answer_once_refused,
            timeout=2.0,  # the promise under test
            interval=0.05,
            message="the revoked key to be refused",
        )

    assert before.status_code == 200
    assert revoked.returncode == 0, revoked.stderr
    assert refusal(after) == (401, "API_KEY_INVALID")


async def test_sqlite_journal_with_keys_still_verifies(market: Path, db: Path) -> None:
    async with running(make_settings(market, db=str(db))) as api:
        await api.place(symbol="EURUSD", side="BUY", qty="0.10")

    result = await asyncio.to_thread(cli, "verify-journal", "--db", str(db))

    assert result.returncode == 0, result.stdout + result.stderr
