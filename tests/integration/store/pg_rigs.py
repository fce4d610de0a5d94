"""Rigs for the PostgreSQL store tests: deterministic interleavings, network faults, batches.

`Gate` holds another session's statement inside its transaction (at a trigger) until the
test opens it: an append in flight, a takeover not yet committed. `PgProxy` sits between a
store and PostgreSQL, counts the server's ReadyForQuery messages (one per round trip) and can
swallow the answers of the connections open at that moment: a commit whose answer is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from ordergate.domain.events import Event
from ordergate.engine.state import OmsState
from ordergate.engine.views import ReadModelChanges
from ordergate.store.postgres import PostgresStore

OpenStore = Callable[..., Coroutine[Any, Any, PostgresStore]]


def with_changes(
    batches: list[list[Event]], partition: int = 0
) -> list[tuple[list[Event], ReadModelChanges]]:
    """Each batch with the read-model changes applying it gives, as the engine appends."""
    state = OmsState(partition)
    prepared = []
    for batch in batches:
        for event in batch:
            state.apply(event)
        prepared.append((batch, state.take_changes()))
    return prepared


def unique(name: str) -> str:
    """An owner name no other test run uses at the same time (writers are found by it)."""
    return f"{name}-{secrets.token_hex(4)}"


def writer_name(owner: str, partition: int = 0) -> str:
    """The application_name of a store's writer connection (see store/postgres/store.py)."""
    return f"ordergate {owner} p{partition} writer"


class Gate:
    """A trigger on `table` that makes the firing statement wait, inside its transaction,
    while the gate is shut. `when` is the trigger's WHEN condition (optional)."""

    def __init__(self, dsn: str, table: str, event: str, when: str | None = None) -> None:
        self._dsn = dsn
        self._table = table
        self._event = event
        self._when = when
        self._key = secrets.randbits(62)
        self._name = f"gate_{secrets.token_hex(4)}"
        self._holder: asyncpg.Connection | None = None

    async def __aenter__(self) -> Gate:
        self._holder = await asyncpg.connect(self._dsn)
        await self._holder.execute(
            f"CREATE FUNCTION {self._name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN PERFORM pg_advisory_xact_lock_shared({self._key}); RETURN NULL; END $$"
        )
        when = f"WHEN ({self._when})" if self._when else ""
        await self._holder.execute(
            f"CREATE TRIGGER {self._name} AFTER {self._event} ON {self._table} "
            f"FOR EACH ROW {when} EXECUTE FUNCTION {self._name}()"
        )
        await self._holder.execute("SELECT pg_advisory_lock($1)", self._key)
        return self

    async def open(self) -> None:
        assert self._holder is not None
        await self._holder.execute("SELECT pg_advisory_unlock_all()")

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._holder is not None
        with contextlib.suppress(asyncpg.PostgresError):
            await self._holder.execute("SELECT pg_advisory_unlock_all()")
            await self._holder.execute(f"DROP TRIGGER {self._name} ON {self._table}")
        await self._holder.close()


_APPLICATION_NAME = re.compile(rb"application_name\x00([^\x00]*)\x00")


class PgProxy:
    """A TCP relay to PostgreSQL. Connect through `dsn_via(dsn)` (TLS off, so the protocol
    can be read)."""

    def __init__(self, dsn: str) -> None:
        parts = urlsplit(dsn)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self._server: asyncio.Server | None = None
        self._relays: set[asyncio.Task[None]] = set()
        self._silenced: set[asyncio.StreamWriter] = set()
        self._clients: dict[asyncio.StreamWriter, str] = {}  # -> its application_name
        self.ready_for_query = 0  # server messages 'Z', over every connection

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    def dsn_via(self, dsn: str) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        parts = urlsplit(dsn)
        netloc = parts.netloc.rsplit("@", 1)
        userinfo = f"{netloc[0]}@" if len(netloc) == 2 else ""
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "sslmode"]
        query.append(("sslmode", "disable"))
        return urlunsplit(
            parts._replace(netloc=f"{userinfo}127.0.0.1:{port}", query=urlencode(query))
        )

    def silence(self, application_name: str) -> None:
        """From now on, the open connections named `application_name` (in their startup
        message) hear nothing more from the server; the server still hears them."""
        self._silenced |= {c for c, name in self._clients.items() if name == application_name}

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        self._clients[writer] = ""
        for task in (
            asyncio.create_task(self._pipe(reader, up_writer, writer, upstream=True)),
            asyncio.create_task(self._pipe(up_reader, writer, writer, upstream=False)),
        ):
            self._relays.add(task)
            task.add_done_callback(self._relays.discard)

    async def _pipe(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        client: asyncio.StreamWriter,
        *,
        upstream: bool,
    ) -> None:
        buffer = b""
        try:
            while data := await source.read(65536):
                if upstream:
                    if not self._clients[client]:  # the startup message names the session
                        found = _APPLICATION_NAME.search(data)
                        self._clients[client] = found.group(1).decode() if found else "?"
                else:
                    buffer = self._count(buffer + data)
                    if client in self._silenced:
                        continue
                sink.write(data)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            sink.close()

    def _count(self, buffer: bytes) -> bytes:
        """Count whole server messages of type 'Z'; return the incomplete rest."""
        while len(buffer) >= 5:
            length = int.from_bytes(buffer[1:5], "big")
            if len(buffer) < 1 + length:
                break
            if buffer[:1] == b"Z":
                self.ready_for_query += 1
            buffer = buffer[1 + length :]
        return buffer

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in self._clients:
            writer.close()
        for task in list(self._relays):
            task.cancel()
        await asyncio.gather(*self._relays, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
