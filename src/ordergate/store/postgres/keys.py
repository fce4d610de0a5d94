"""Keys in the journal's PostgreSQL database, shared by every node of a cluster.

Each node opens its own `PostgresKeyStore` on the one database, so every node accepts the
keys any of them (or `ordergate keys ... --db postgresql://...`) created, and refuses a
revoked key as soon as its verifier's cache lets go of it (`KeyVerifier`: 1 s).

The `KeyStore` port is synchronous (the verifier, the CLI and `serve` call it from plain
code); asyncpg is not. So the store runs a private thread with an event loop of its own and
one connection on it: each call is a coroutine run there while the calling thread waits,
never longer than `timeout`. Code on an event loop must not wait like that on a cache miss:
the verifier looks keys up in this store on a worker thread (`reads_over_network`).

A connection that breaks is replaced. A call that fails on its connection runs once more on
a fresh one, and every call is written so that running it twice does what running it once
does: a create whose commit went through finds its own row, a revoke finds its own
timestamp, so a retry never makes a second key nor reports a false conflict. Whatever still
fails (asyncpg's errors, an unreachable server, a timeout) is raised as `JournalError`.

The tables have SQLite's shape (`auth/sqlite.py`): timestamps are `timestamptz` and an
identity column orders the audit (SQLite's rowid). The first store to open a database
creates them, under a transaction-scoped advisory lock, so nodes that start together
create them once. Triggers keep the audit append-only and let a key row change only by
being revoked, once. Only a secret's SHA-256 is stored; neither a secret nor the DSN (it
may hold a password) is ever logged or put in an error message.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Final, TypeAlias, TypeVar
from urllib.parse import urlsplit

import asyncpg
import structlog
from asyncpg import Connection, Record

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
from ordergate.store.postgres.connection import DRIVER_ERRORS, SessionSettings

log = structlog.get_logger("ordergate.auth.postgres")

T = TypeVar("T")
if TYPE_CHECKING:  # asyncpg's Connection is generic only to the type checker
    Operation: TypeAlias = Callable[[Connection[Record]], Awaitable[T]]

DEFAULT_TIMEOUT: Final = 5.0
# Keys of the transaction-level advisory locks that serialise creating the tables and
# creating the first key. Any fixed 64-bit values do, the same on every node; they differ
# from the journal's migration lock ("ordergte") so neither waits for the other.
SCHEMA_LOCK_KEY: Final = 0x6F67_5F6B_6579_7321  # "og_keys!"
FIRST_KEY_LOCK_KEY: Final = 0x6F67_5F6B_6579_3031  # "og_key01"
# How much longer than `timeout` a caller waits for the store's own thread to answer; the
# thread bounds every call by `timeout` itself, so this only guards against a stuck loop.
_GRACE_SECONDS: Final = 1.0

MIGRATIONS: Final[tuple[str, ...]] = (
    """
    CREATE TABLE api_keys (
        key_id text COLLATE "C" PRIMARY KEY,
        label text NOT NULL,
        scope text NOT NULL CHECK (scope IN ('read', 'trade', 'admin')),
        hash text NOT NULL,
        created_at timestamptz NOT NULL,
        revoked_at timestamptz
    );
    CREATE TABLE api_key_audit (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at timestamptz NOT NULL,
        action text NOT NULL CHECK (action IN ('create', 'revoke')),
        key_id text COLLATE "C" NOT NULL,
        scope text NOT NULL,
        label text NOT NULL,
        actor text NOT NULL
    );
    CREATE FUNCTION api_key_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% refused: %', TG_OP, TG_ARGV[0] USING ERRCODE = 'restrict_violation';
    END
    $$;
    CREATE FUNCTION api_key_revoke_once() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL
            OR (NEW.key_id, NEW.label, NEW.scope, NEW.hash, NEW.created_at)
                IS DISTINCT FROM (OLD.key_id, OLD.label, OLD.scope, OLD.hash, OLD.created_at)
        THEN
            RAISE EXCEPTION 'an API key can only be revoked, once'
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END
    $$;
    CREATE TRIGGER api_keys_revoke_only BEFORE UPDATE ON api_keys
        FOR EACH ROW EXECUTE FUNCTION api_key_revoke_once();
    CREATE TRIGGER api_keys_no_delete BEFORE DELETE ON api_keys
        FOR EACH ROW EXECUTE FUNCTION api_key_refuse_change('API keys are revoked, never deleted');
    CREATE TRIGGER api_keys_no_truncate BEFORE TRUNCATE ON api_keys
        FOR EACH STATEMENT
        EXECUTE FUNCTION api_key_refuse_change('API keys are revoked, never deleted');
    CREATE TRIGGER api_key_audit_no_change BEFORE UPDATE OR DELETE ON api_key_audit
        FOR EACH ROW EXECUTE FUNCTION api_key_refuse_change('the key audit is append-only');
    CREATE TRIGGER api_key_audit_no_truncate BEFORE TRUNCATE ON api_key_audit
        FOR EACH STATEMENT EXECUTE FUNCTION api_key_refuse_change('the key audit is append-only');
    """,
)

_CREATE_SCHEMA_TABLE: Final = """
    CREATE TABLE IF NOT EXISTS api_key_schema (
        version integer PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
    )
"""
_COLUMNS: Final = "key_id, label, scope, hash, created_at, revoked_at"
_KEY_BY_ID: Final = f"SELECT {_COLUMNS} FROM api_keys WHERE key_id = $1"
_INSERT_KEY: Final = (
    f"INSERT INTO api_keys ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, NULL) "
    "ON CONFLICT (key_id) DO NOTHING RETURNING key_id"
)
_INSERT_AUDIT: Final = (
    "INSERT INTO api_key_audit (at, action, key_id, scope, label, actor) "
    "VALUES ($1, $2, $3, $4, $5, $6)"
)


class PostgresKeyStore:
    """Open with `PostgresKeyStore(dsn)`; creates the tables if the database has none.

    `timeout` bounds every call, connecting included, in seconds. `application_name` names
    the store's session in `pg_stat_activity`. Raises `JournalError` if the database cannot
    be reached or its key tables are newer than this ordergate.
    """

    reads_over_network: Final = True  # see `ordergate.auth.verifier.RemoteKeyStore`

    def __init__(
        self,
        dsn: str,
        *,
        now: Callable[[], datetime] = utc_now,
        timeout: float = DEFAULT_TIMEOUT,
        application_name: str = "ordergate keys",
        session: SessionSettings | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("a key store timeout is a number of seconds above 0")
        self._dsn = dsn
        self.where = redacted(dsn)
        self._now = now
        self._timeout = timeout
        self._server_settings = (SessionSettings() if session is None else session).server_settings(
            application_name, ends_when_idle=False
        )
        self._conn: Connection[Record] | None = None
        self._call_lock = asyncio.Lock()  # one statement at a time on the one connection
        self._closed = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="ordergate-keys", daemon=True)
        self._thread.start()
        try:
            self._run("opening the API key tables", _migrate)
        except BaseException:
            self.close()
            raise

    def create(self, scope: Scope, label: str, *, actor: str) -> IssuedKey:
        label = check_label(label)
        while True:
            issued = issue_key(new_key_id(), scope, label, self._now())
            stored = self._run(
                "creating an API key", partial(_insert_key, issued=issued, actor=actor)
            )
            if stored:
                return issued
            # Another key has this id (one chance in 2^48): draw again.

    def create_if_empty(self, scope: Scope, label: str, *, actor: str) -> IssuedKey | None:
        """Create a key only if the store has none, atomically across every node.

        Nodes of a cluster that start together on a fresh database would each find no key
        and each create one; under an advisory lock only the first does.
        """
        label = check_label(label)
        while True:
            issued = issue_key(new_key_id(), scope, label, self._now())
            outcome = self._run(
                "creating the first API key", partial(_insert_first_key, issued=issued, actor=actor)
            )
            if outcome is not _COLLISION:
                return None if outcome is None else issued

    def revoke(self, key_id: str, *, actor: str) -> ApiKey:
        at = self._now()
        return self._run("revoking an API key", lambda conn: _revoke_key(conn, key_id, at, actor))

    def get(self, key_id: str) -> ApiKey | None:
        return self._run("looking up an API key", lambda conn: _get_key(conn, key_id))

    def keys(self) -> list[ApiKey]:
        return self._run("listing API keys", _all_keys)

    def audit(self) -> list[AuditEntry]:
        return self._run("reading the API key audit", _audit_entries)

    def count(self) -> int:
        return self._run("counting API keys", _key_count)

    def close(self) -> None:
        """Close the connection and stop the store's thread; later calls raise RuntimeError."""
        if self._closed.is_set():
            return
        self._closed.set()
        if self._thread.is_alive():
            done = asyncio.run_coroutine_threadsafe(self._disconnect(), self._loop)
            try:
                done.result(self._timeout + _GRACE_SECONDS)
            except TimeoutError:
                done.cancel()
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    def _run(self, action: str, operation: Operation[T]) -> T:
        """Run `operation` on the store's loop; wait for its answer at most `timeout`."""
        if self._closed.is_set():
            raise RuntimeError(f"the key store on {self.where} is closed")
        if threading.current_thread() is self._thread:
            raise RuntimeError("a key store call from its own thread would wait for itself")
        answer = asyncio.run_coroutine_threadsafe(self._call(action, operation), self._loop)
        try:
            return answer.result(self._timeout + _GRACE_SECONDS)
        except TimeoutError as exc:  # only if the store's loop is stuck: `_call` times out
            answer.cancel()
            raise JournalError(
                f"{action} at {self.where}: the key store's thread did not answer",
                code="KEY_STORE_TIMEOUT",
            ) from exc

    async def _call(self, action: str, operation: Operation[T]) -> T:
        try:
            async with asyncio.timeout(self._timeout), self._call_lock:
                return await self._twice(operation)
        except TimeoutError as exc:
            self._drop_connection()  # its state is unknown: a statement may be in flight
            raise JournalError(
                f"{action} at {self.where}: no answer within {self._timeout:g} s",
                code="KEY_STORE_TIMEOUT",
            ) from exc
        except DRIVER_ERRORS as exc:
            raise JournalError(f"{action} at {self.where} failed: {exc!r}") from exc

    async def _twice(self, operation: Operation[T]) -> T:
        """Run `operation`; if it fails on its connection, once more on a fresh one."""
        conn = await self._connection()
        try:
            return await operation(conn)
        except DRIVER_ERRORS as exc:
            self._drop_connection()
            log.warning(
                "API key store: a call failed on its connection; retrying on a new one",
                where=self.where,
                error=repr(exc),
            )
        return await operation(await self._connection())

    async def _connection(self) -> Connection[Record]:
        if self._conn is not None and not self._conn.is_closed():
            return self._conn
        self._drop_connection()
        try:
            self._conn = await asyncpg.connect(
                self._dsn, timeout=self._timeout, server_settings=self._server_settings
            )
        except (ValueError, OverflowError) as exc:  # a malformed DSN: asyncpg says which part
            raise JournalError(f"bad PostgreSQL URL for the API keys: {exc}") from exc
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            self._conn.terminate()
            self._conn = None

    async def _disconnect(self) -> None:
        async with self._call_lock:  # let a call in flight finish
            if self._conn is not None:
                try:
                    await self._conn.close(timeout=self._timeout)
                except DRIVER_ERRORS:
                    self._drop_connection()
                self._conn = None


def redacted(dsn: str) -> str:
    """Where a DSN points, for messages: `host:port/database`, never a user's password."""
    try:
        parts = urlsplit(dsn)
        host = parts.hostname or "localhost"
        port = parts.port or 5432
    except ValueError:
        return "a PostgreSQL database"
    return f"{host}:{port}{parts.path or '/'}"


# --- operations: each runs on one connection, and running one twice does it once -----------


class _Collision:
    """The drawn key id belongs to another key."""


_COLLISION: Final = _Collision()


async def _migrate(conn: Connection[Record]) -> None:
    """Create the key tables, or bring them up to date, once however many nodes start."""
    if await _schema_version(conn) == len(MIGRATIONS):
        return  # the usual case: no lock, no DDL, no CREATE privilege needed
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", SCHEMA_LOCK_KEY)
        await conn.execute(_CREATE_SCHEMA_TABLE)
        current = await _schema_version(conn)
        if current > len(MIGRATIONS):
            raise JournalError(
                f"the database has API key schema v{current}; "
                f"this ordergate knows v{len(MIGRATIONS)}",
                code="KEY_SCHEMA_TOO_NEW",
            )
        for version in range(current + 1, len(MIGRATIONS) + 1):
            await conn.execute(MIGRATIONS[version - 1])
            await conn.execute("INSERT INTO api_key_schema (version) VALUES ($1)", version)


async def _schema_version(conn: Connection[Record]) -> int:
    if await conn.fetchval("SELECT to_regclass('api_key_schema')") is None:
        return 0
    return int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM api_key_schema"))


async def _insert_key(conn: Connection[Record], issued: IssuedKey, actor: str) -> bool:
    """Store `issued` and audit it; False if its id belongs to another key."""
    async with conn.transaction():
        return await _insert_in_transaction(conn, issued, actor)


async def _insert_first_key(
    conn: Connection[Record], issued: IssuedKey, actor: str
) -> IssuedKey | _Collision | None:
    """Store `issued` if there is no key yet: `issued`, None if there are keys already."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", FIRST_KEY_LOCK_KEY)
        if await _is_ours(conn, issued):
            return issued  # an earlier run committed, and its answer was lost
        if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM api_keys)"):
            return None
        return issued if await _insert_in_transaction(conn, issued, actor) else _COLLISION


async def _insert_in_transaction(conn: Connection[Record], issued: IssuedKey, actor: str) -> bool:
    key = issued.key
    inserted = await conn.fetchval(
        _INSERT_KEY, key.key_id, key.label, key.scope.value, key.secret_hash, key.created_at
    )
    if inserted is None:
        return await _is_ours(conn, issued)
    await _audit(conn, "create", key, key.created_at, actor)
    return True


async def _is_ours(conn: Connection[Record], issued: IssuedKey) -> bool:
    """Whether `issued` is stored already: its id with its hash (a secret is never drawn
    twice), so an earlier run of the same call committed."""
    stored = await conn.fetchval("SELECT hash FROM api_keys WHERE key_id = $1", issued.key.key_id)
    return stored is not None and stored == issued.key.secret_hash


async def _revoke_key(conn: Connection[Record], key_id: str, at: datetime, actor: str) -> ApiKey:
    async with conn.transaction():
        row = await conn.fetchrow(_KEY_BY_ID + " FOR UPDATE", key_id)
        if row is None:
            raise NotFound(f"no API key {key_id}")
        key = _key_of(row)
        if key.revoked_at is not None:
            if key.revoked_at == at:
                return key  # an earlier run of this revoke committed, and its answer was lost
            raise Conflict(
                f"API key {key_id} was revoked at {key.revoked_at.isoformat()}",
                code="API_KEY_ALREADY_REVOKED",
            )
        await conn.execute("UPDATE api_keys SET revoked_at = $2 WHERE key_id = $1", key_id, at)
        await _audit(conn, "revoke", key, at, actor)
    return ApiKey(key.key_id, key.label, key.scope, key.secret_hash, key.created_at, at)


async def _get_key(conn: Connection[Record], key_id: str) -> ApiKey | None:
    row = await conn.fetchrow(_KEY_BY_ID, key_id)
    return None if row is None else _key_of(row)


async def _all_keys(conn: Connection[Record]) -> list[ApiKey]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at, key_id")
    return [_key_of(row) for row in rows]


async def _audit_entries(conn: Connection[Record]) -> list[AuditEntry]:
    rows = await conn.fetch(
        "SELECT at, action, key_id, scope, label, actor FROM api_key_audit ORDER BY seq"
    )
    return [
        AuditEntry(r["at"], r["action"], r["key_id"], Scope(r["scope"]), r["label"], r["actor"])
        for r in rows
    ]


async def _key_count(conn: Connection[Record]) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM api_keys"))


async def _audit(
    conn: Connection[Record], action: AuditAction, key: ApiKey, at: datetime, actor: str
) -> None:
    await conn.execute(_INSERT_AUDIT, at, action, key.key_id, key.scope.value, key.label, actor)


def _key_of(row: Record) -> ApiKey:
    return ApiKey(
        key_id=row["key_id"],
        label=row["label"],
        scope=Scope(row["scope"]),
        secret_hash=row["hash"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )
