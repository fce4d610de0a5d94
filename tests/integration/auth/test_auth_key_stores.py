"""The key store contract, for both stores: SQLite (beside the journal) and in-memory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ordergate.auth import KeyStore, MemoryKeyStore, Scope, split_key
from ordergate.auth.keys import hash_secret
from ordergate.domain.errors import Conflict, InvalidRequest, NotFound
from ordergate.store.sqlite import SqliteKeyStore


class Ticking:
    """A wall clock that moves one second per reading."""

    def __init__(self) -> None:
        self.now = datetime(2024, 1, 2, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyStore]:
    opened: KeyStore = (
        SqliteKeyStore(tmp_path / "og.db", now=Ticking())
        if request.param == "sqlite"
        else MemoryKeyStore(now=Ticking())
    )
    yield opened
    opened.close()


def test_store_create_get_returns_record_with_hash_of_secret(store: KeyStore) -> None:
    issued = store.create(Scope.TRADE, "bot 7", actor="tester")
    parts = split_key(issued.plaintext)
    assert parts is not None
    key_id, secret = parts

    got = store.get(key_id)

    assert got == issued.key
    assert got.scope is Scope.TRADE
    assert got.label == "bot 7"
    assert got.secret_hash == hash_secret(secret)
    assert got.revoked_at is None


def test_store_get_unknown_id_none(store: KeyStore) -> None:
    assert store.get("0123456789ab") is None


def test_store_revoke_sets_revoked_at_and_get_sees_it(store: KeyStore) -> None:
    key = store.create(Scope.READ, "", actor="tester").key

    revoked = store.revoke(key.key_id, actor="tester")

    assert revoked.revoked_at is not None
    assert revoked.revoked_at > key.created_at
    assert store.get(key.key_id) == revoked


def test_store_revoke_twice_conflict_already_revoked(store: KeyStore) -> None:
    key = store.create(Scope.READ, "", actor="tester").key
    store.revoke(key.key_id, actor="tester")

    with pytest.raises(Conflict) as raised:
        store.revoke(key.key_id, actor="tester")

    assert raised.value.code == "API_KEY_ALREADY_REVOKED"


def test_store_revoke_unknown_not_found(store: KeyStore) -> None:
    with pytest.raises(NotFound):
        store.revoke("0123456789ab", actor="tester")


def test_store_keys_oldest_first_revoked_included(store: KeyStore) -> None:
    first = store.create(Scope.ADMIN, "a", actor="tester").key
    second = store.create(Scope.READ, "b", actor="tester").key
    store.revoke(first.key_id, actor="tester")

    listed = store.keys()

    assert [k.key_id for k in listed] == [first.key_id, second.key_id]
    assert listed[0].revoked
    assert store.count() == 2


def test_store_audit_create_and_revoke_with_actor(store: KeyStore) -> None:
    key = store.create(Scope.ADMIN, "ops", actor="cli:alice").key
    store.revoke(key.key_id, actor="cli:bob")

    audit = store.audit()

    assert [(a.action, a.key_id, a.scope, a.label, a.actor) for a in audit] == [
        ("create", key.key_id, Scope.ADMIN, "ops", "cli:alice"),
        ("revoke", key.key_id, Scope.ADMIN, "ops", "cli:bob"),
    ]
    assert audit[0].at < audit[1].at


@pytest.mark.parametrize("label", ["two\nlines", "x" * 101])
def test_store_create_bad_label_invalid_request_nothing_stored(store: KeyStore, label: str) -> None:
    with pytest.raises(InvalidRequest):
        store.create(Scope.READ, label, actor="tester")

    assert store.count() == 0
    assert store.audit() == []


def test_store_many_keys_ids_unique(store: KeyStore) -> None:
    ids = {store.create(Scope.READ, "", actor="tester").key.key_id for _ in range(50)}

    assert len(ids) == 50
