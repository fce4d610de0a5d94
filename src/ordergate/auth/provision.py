"""Open the key store of a database, and give a fresh one its first admin key."""

from __future__ import annotations

import getpass
from typing import Final

from ordergate.auth.keys import IssuedKey, Scope
from ordergate.auth.memory import MemoryKeyStore
from ordergate.auth.ports import KeyStore
from ordergate.auth.postgres import PostgresKeyStore
from ordergate.auth.sqlite import SqliteKeyStore
from ordergate.settings import is_postgres_url

FIRST_KEY_LABEL: Final = "local-admin"


def open_key_store(db: str) -> KeyStore:
    """The keys beside the journal `db`: its PostgreSQL database (`postgresql://` or
    `postgres://`), its SQLite file, or memory for `:memory:`.

    `JournalError` if a PostgreSQL database cannot be reached.
    """
    if db == ":memory:":
        return MemoryKeyStore()
    if is_postgres_url(db):
        return PostgresKeyStore(db)
    return SqliteKeyStore(db)


def ensure_first_key(store: KeyStore, *, actor: str) -> IssuedKey | None:
    """Create an admin key labelled `local-admin` if the store has no key at all.

    On PostgreSQL the check and the create are one step under a lock: nodes of a cluster
    that start together on a fresh database make one first key, not one each.
    """
    if isinstance(store, PostgresKeyStore):
        return store.create_if_empty(Scope.ADMIN, FIRST_KEY_LABEL, actor=actor)
    if store.count() > 0:
        return None
    return store.create(Scope.ADMIN, FIRST_KEY_LABEL, actor=actor)


def local_actor(via: str) -> str:
    """Who acts, for the audit: `cli:<os user>`."""
    try:
        return f"{via}:{getpass.getuser()}"
    except (OSError, KeyError):
        return via
