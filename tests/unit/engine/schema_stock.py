"""Schemas for the engine suite's PostgreSQL journals: each journal has one to itself, and a
schema a test has finished with is emptied and handed to a later journal of the run.

The suite starts about 800 journals (hypothesis starts one per example). Measured on a
local server: creating a schema and migrating it (in `PostgresStore.open`) takes ~40 ms and
dropping it ~20 ms, while emptying a used one takes ~5 ms on a connection that has emptied
others, ~20 ms on a new one. So schemas given back are emptied a batch at a time, on one
connection, when a journal needs one and none is ready.

An emptied schema is the freshly migrated one: no rows, identities restarted, migrations
recorded (the next `PostgresStore.open` applies none). A schema is used by one journal at
a time, and only given back once that journal's stores are closed; one whose test did not
end cleanly, or that cannot be emptied, is dropped at once. Every schema this process made
is dropped when the run ends (conftest.py).
"""

from __future__ import annotations

import secrets
from functools import cache
from typing import Final

import asyncpg
from tests.pg_support import PG_DSN, dsn_with_search_path, require_postgres

PREFIX: Final = "og_engine"
BATCH: Final = 8  # schemas given back before they are emptied, together

# The journal's triggers refuse deletes (it is append-only), so they are off for the one
# transaction that empties: `session_replication_role = replica` fires no ordinary trigger
# (superuser only). Every table but the migrations' record is emptied, every identity reset.
# `{schemas}` is an SQL array of schema names (ours: letters, digits and underscores).
_EMPTY: Final = """
BEGIN;
SET LOCAL lock_timeout = '10s';
SET LOCAL session_replication_role = replica;
DO $$
DECLARE
    item record;
BEGIN
    FOR item IN
        SELECT schemaname, tablename FROM pg_tables
        WHERE schemaname = ANY({schemas}) AND tablename <> 'schema_migrations'
    LOOP
        EXECUTE format('DELETE FROM %I.%I', item.schemaname, item.tablename);
    END LOOP;
    FOR item IN
        SELECT schemaname, sequencename FROM pg_sequences WHERE schemaname = ANY({schemas})
    LOOP
        PERFORM setval(format('%I.%I', item.schemaname, item.sequencename)::regclass, 1, false);
    END LOOP;
END
$$;
COMMIT;
"""


class SchemaStock:
    """The schemas of this process's journals: ready ones, and used ones to empty."""

    def __init__(self, dsn: str = PG_DSN) -> None:
        self.dsn = dsn
        self._ready: list[str] = []  # empty, for the next journals
        self._used: list[str] = []  # given back, not emptied yet
        self._made: set[str] = set()  # created here and not dropped yet
        self._reusable = True  # False once emptying failed (say, no superuser to do it)

    @property
    def made(self) -> frozenset[str]:
        """Every schema this stock created and has not dropped yet."""
        return frozenset(self._made)

    def dsn_of(self, schema: str) -> str:
        """A DSN whose connections work in `schema` alone."""
        return dsn_with_search_path(self.dsn, schema)

    async def take(self) -> str:
        """Name an empty schema for a new journal, no other journal's. Skips the test (fails
        it under CI=true) when PostgreSQL is not reachable."""
        await require_postgres(self.dsn)
        if not self._ready and len(self._used) >= BATCH:
            await self._empty_used()
        if self._ready:
            return self._ready.pop()
        schema = f"{PREFIX}_{secrets.token_hex(6)}"
        await self._run(f'CREATE SCHEMA "{schema}"')
        self._made.add(schema)
        return schema

    async def give_back(self, schema: str, *, reusable: bool) -> None:
        """Take `schema` back once every connection to it is closed: to be emptied for a
        later journal, or dropped now when it is not `reusable` (its test did not end
        cleanly)."""
        if reusable and self._reusable:
            self._used.append(schema)
        else:
            await self._drop([schema])

    async def drop_all(self) -> None:
        """Drop every schema this stock made (at the end of the run, when none is in use)."""
        await self._drop(sorted(self._made))
        self._ready.clear()
        self._used.clear()

    async def _empty_used(self) -> None:
        used, self._used = self._used, []
        names = ", ".join(f"'{schema}'" for schema in used)
        try:
            await self._run(_EMPTY.format(schemas=f"ARRAY[{names}]::name[]"))
        except asyncpg.PostgresError:
            self._reusable = False
            await self._drop(used)
        else:
            self._ready.extend(used)

    async def _drop(self, schemas: list[str]) -> None:
        if not schemas:
            return
        # A session a test left in a transaction would hold the drop up: fail instead.
        drops = "".join(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE;' for schema in schemas)
        await self._run(f"SET lock_timeout = '10s'; {drops}")
        self._made.difference_update(schemas)

    async def _run(self, sql: str) -> None:
        conn = await asyncpg.connect(self.dsn, timeout=10)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()


@cache
def schema_stock() -> SchemaStock:
    """The run's one stock (made at first use, so importing this module builds nothing)."""
    return SchemaStock()
