"""The API key store beside the journal: which store a journal URL or path means."""

from __future__ import annotations

from ordergate.auth.memory import MemoryKeyStore
from ordergate.auth.ports import KeyStore
from ordergate.config.settings import is_postgres_url
from ordergate.store.postgres.keys import PostgresKeyStore
from ordergate.store.sqlite.keys import SqliteKeyStore


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
