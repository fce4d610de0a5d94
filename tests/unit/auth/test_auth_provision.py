"""The first admin key and the store beside an in-memory journal."""

from __future__ import annotations

from ordergate.app.key_stores import open_key_store
from ordergate.auth import FIRST_KEY_LABEL, MemoryKeyStore, Scope, ensure_first_key


def test_ensure_first_key_empty_store_creates_local_admin() -> None:
    store = MemoryKeyStore()

    issued = ensure_first_key(store, actor="serve")

    assert issued is not None
    assert (issued.key.scope, issued.key.label) == (Scope.ADMIN, FIRST_KEY_LABEL)
    assert store.keys() == [issued.key]
    assert store.audit()[0].actor == "serve"


def test_ensure_first_key_second_time_creates_nothing() -> None:
    store = MemoryKeyStore()
    ensure_first_key(store, actor="serve")

    again = ensure_first_key(store, actor="serve")

    assert again is None
    assert store.count() == 1


def test_ensure_first_key_only_revoked_keys_creates_nothing() -> None:
    store = MemoryKeyStore()
    key = store.create(Scope.READ, "", actor="t").key
    store.revoke(key.key_id, actor="t")

    assert ensure_first_key(store, actor="serve") is None


def test_open_key_store_in_memory_fresh_and_empty_each_time() -> None:
    first = open_key_store(":memory:")
    first.create(Scope.ADMIN, "", actor="t")

    second = open_key_store(":memory:")

    assert isinstance(second, MemoryKeyStore)
    assert second.count() == 0
