"""The embedded store: the journal and read models in one SQLite file, and the API keys
beside them in the same file (their own tables and connection)."""

from ordergate.store.sqlite.keys import SqliteKeyStore
from ordergate.store.sqlite.store import SqliteStore

__all__ = ["SqliteKeyStore", "SqliteStore"]
