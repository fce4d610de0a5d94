"""Keys in the journal's SQLite file: their own tables, their own connection.

The engine is the journal's single writer; keys never go into the journal. This store
opens its own connection to the same file (WAL), so `ordergate keys ...` can create or
revoke a key while `ordergate serve` runs on it: each read is a fresh read transaction
and sees every committed write. Writes take `BEGIN IMMEDIATE` and wait (busy timeout)
while the journal commits.

`api_key_audit` is append-only (triggers refuse UPDATE and DELETE), and a key row can
only ever change by being revoked once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Final

from ordergate.auth.keys import (
    ApiKey,
    AuditAction,
    AuditEntry,
    IssuedKey,
    Scope,
    check_label,
    issue_key,
    new_key_id,
    utc_now,
)
from ordergate.domain.errors import Conflict, JournalError, NotFound

MIGRATIONS: Final[tuple[str, ...]] = (
    """
    CREATE TABLE api_keys (
        key_id TEXT PRIMARY KEY,
        label TEXT NOT NULL,
        scope TEXT NOT NULL CHECK (scope IN ('read', 'trade', 'admin')),
        hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE TRIGGER api_keys_no_delete BEFORE DELETE ON api_keys
        BEGIN SELECT RAISE(ABORT, 'API keys are revoked, never deleted'); END;
    CREATE TRIGGER api_keys_revoke_only BEFORE UPDATE ON api_keys
        WHEN OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL
            OR NEW.key_id IS NOT OLD.key_id OR NEW.label IS NOT OLD.label
            OR NEW.scope IS NOT OLD.scope OR NEW.hash IS NOT OLD.hash
            OR NEW.created_at IS NOT OLD.created_at
        BEGIN SELECT RAISE(ABORT, 'an API key can only be revoked, once'); END;
    CREATE TABLE api_key_audit (
        at TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('create', 'revoke')),
        key_id TEXT NOT NULL,
        scope TEXT NOT NULL,
        label TEXT NOT NULL,
        actor TEXT NOT NULL
    );
    CREATE TRIGGER api_key_audit_no_update BEFORE UPDATE ON api_key_audit
        BEGIN SELECT RAISE(ABORT, 'the key audit is append-only'); END;
    CREATE TRIGGER api_key_audit_no_delete BEFORE DELETE ON api_key_audit
        BEGIN SELECT RAISE(ABORT, 'the key audit is append-only'); END;
    """,
)

_COLUMNS: Final = "key_id, label, scope, hash, created_at, revoked_at"


class SqliteKeyStore:
    """Open with `SqliteKeyStore(path)`; creates the file and the tables if needed."""

    def __init__(self, path: str | Path, now: Callable[[], datetime] = utc_now) -> None:
        self.path = Path(path)
        self._now = now
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA synchronous = FULL")
        con.execute("PRAGMA busy_timeout = 5000")
        self._con: sqlite3.Connection | None = con
        self._migrate()

    def create(self, scope: Scope, label: str, *, actor: str) -> IssuedKey:
        label = check_label(label)
        with self._write() as con:
            return self._insert(con, scope, label, actor)

    def create_if_empty(self, scope: Scope, label: str, *, actor: str) -> IssuedKey | None:
        """Create a key only if the store has none, in one write transaction."""
        label = check_label(label)
        with self._write() as con:
            if con.execute("SELECT 1 FROM api_keys LIMIT 1").fetchone() is not None:
                return None
            return self._insert(con, scope, label, actor)

    def _insert(self, con: sqlite3.Connection, scope: Scope, label: str, actor: str) -> IssuedKey:
        key_id = new_key_id()
        while con.execute("SELECT 1 FROM api_keys WHERE key_id = ?", (key_id,)).fetchone():
            key_id = new_key_id()
        issued = issue_key(key_id, scope, label, self._now())
        key = issued.key
        con.execute(
            f"INSERT INTO api_keys ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, NULL)",
            (key.key_id, key.label, key.scope.value, key.secret_hash, _iso(key.created_at)),
        )
        _audit(con, "create", key, key.created_at, actor)
        return issued

    def revoke(self, key_id: str, *, actor: str) -> ApiKey:
        with self._write() as con:
            row = con.execute(
                f"SELECT {_COLUMNS} FROM api_keys WHERE key_id = ?", (key_id,)
            ).fetchone()
            if row is None:
                raise NotFound(f"no API key {key_id}")
            key = _key_of(row)
            if key.revoked_at is not None:
                raise Conflict(
                    f"API key {key_id} was revoked at {_iso(key.revoked_at)}",
                    code="API_KEY_ALREADY_REVOKED",
                )
            now = self._now()
            con.execute("UPDATE api_keys SET revoked_at = ? WHERE key_id = ?", (_iso(now), key_id))
            _audit(con, "revoke", key, now, actor)
        return ApiKey(key.key_id, key.label, key.scope, key.secret_hash, key.created_at, now)

    def get(self, key_id: str) -> ApiKey | None:
        row = (
            self._connection()
            .execute(f"SELECT {_COLUMNS} FROM api_keys WHERE key_id = ?", (key_id,))
            .fetchone()
        )
        return None if row is None else _key_of(row)

    def keys(self) -> list[ApiKey]:
        rows = self._connection().execute(
            f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at, key_id"
        )
        return [_key_of(row) for row in rows]

    def audit(self) -> list[AuditEntry]:
        rows = self._connection().execute(
            "SELECT at, action, key_id, scope, label, actor FROM api_key_audit ORDER BY rowid"
        )
        return [
            AuditEntry(
                datetime.fromisoformat(r["at"]),
                r["action"],
                r["key_id"],
                Scope(r["scope"]),
                r["label"],
                r["actor"],
            )
            for r in rows
        ]

    def count(self) -> int:
        row = self._connection().execute("SELECT count(*) FROM api_keys").fetchone()
        return int(row[0])

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def _connection(self) -> sqlite3.Connection:
        if self._con is None:
            raise RuntimeError(f"the key store on {self.path} is closed")
        return self._con

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        con = self._connection()
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    def _migrate(self) -> None:
        if self._schema_version() == len(MIGRATIONS):
            return  # the usual case: no write lock needed
        with self._write() as con:
            con.execute("CREATE TABLE IF NOT EXISTS api_key_schema (version INTEGER NOT NULL)")
            current = self._schema_version()
            if current > len(MIGRATIONS):
                raise JournalError(
                    f"{self.path} has key schema v{current}; "
                    f"this ordergate knows v{len(MIGRATIONS)}",
                    code="KEY_SCHEMA_TOO_NEW",
                )
            for version in range(current, len(MIGRATIONS)):
                for statement in _statements(MIGRATIONS[version]):
                    con.execute(statement)
            con.execute("DELETE FROM api_key_schema")
            con.execute("INSERT INTO api_key_schema VALUES (?)", (len(MIGRATIONS),))

    def _schema_version(self) -> int:
        con = self._connection()
        exists = con.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'api_key_schema'"
        ).fetchone()
        if exists is None:
            return 0
        row = con.execute("SELECT version FROM api_key_schema").fetchone()
        return 0 if row is None else int(row["version"])


def _statements(script: str) -> Iterator[str]:
    """Split a migration into statements (a trigger body ends in `; END;`)."""
    buffer = ""
    for line in script.strip().splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete SQL statement in a key migration: {buffer!r}")


def _audit(
    con: sqlite3.Connection, action: AuditAction, key: ApiKey, at: datetime, actor: str
) -> None:
    con.execute(
        "INSERT INTO api_key_audit (at, action, key_id, scope, label, actor)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (_iso(at), action, key.key_id, key.scope.value, key.label, actor),
    )


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _key_of(row: sqlite3.Row) -> ApiKey:
    revoked = row["revoked_at"]
    return ApiKey(
        key_id=row["key_id"],
        label=row["label"],
        scope=Scope(row["scope"]),
        secret_hash=row["hash"],
        created_at=datetime.fromisoformat(row["created_at"]),
        revoked_at=None if revoked is None else datetime.fromisoformat(revoked),
    )
