"""API keys in PostgreSQL: the key store contract, hashed at rest and append-only audit,
shared by nodes (keys and revocations), safe concurrent first opens, the CLI on a
`postgresql://` URL, reconnects and timeouts, and cache misses that leave the event loop
free. Each test works in a PostgreSQL schema of its own (`tests/pg_support.py`)."""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest
import structlog
from tests.fakes import FakeClock
from tests.integration.api.support import make_settings
from tests.integration.auth.auth_support import cli, headers, key_id_of, refusal
from tests.integration.auth.test_auth_key_stores import (  # the contract, run on PostgreSQL
    Ticking,
    test_store_audit_create_and_revoke_with_actor,  # noqa: F401
    test_store_create_bad_label_invalid_request_nothing_stored,  # noqa: F401
    test_store_create_get_returns_record_with_hash_of_secret,  # noqa: F401
    test_store_get_unknown_id_none,  # noqa: F401
    test_store_keys_oldest_first_revoked_included,  # noqa: F401
    test_store_many_keys_ids_unique,  # noqa: F401
    test_store_revoke_sets_revoked_at_and_get_sees_it,  # noqa: F401
    test_store_revoke_twice_conflict_already_revoked,  # noqa: F401
    test_store_revoke_unknown_not_found,  # noqa: F401
)
from tests.pg_support import isolated_schema, terminate_sessions, wait_until_blocked
from tests.waiting import eventually

from ordergate.api.app import create_app
from ordergate.app.key_stores import open_key_store
from ordergate.auth import KeyVerifier, Scope, ensure_first_key, split_key
from ordergate.auth.keys import IssuedKey, hash_secret, issue_key
from ordergate.auth.verifier import CACHE_SECONDS, reads_over_network
from ordergate.domain.errors import InvalidApiKey, JournalError
from ordergate.store.postgres.keys import PostgresKeyStore, _insert_key, _revoke_key

OpenStore = Callable[..., PostgresKeyStore]
T = TypeVar("T")


@pytest.fixture
async def pg_dsn() -> AsyncIterator[str]:
    async with isolated_schema(prefix="og_keys") as dsn:
        yield dsn


@pytest.fixture
def open_store(pg_dsn: str) -> Iterator[OpenStore]:
    """Open `PostgresKeyStore`s on the test's schema (`dsn=` to go another way); every one
    is closed after the test, before its schema is dropped."""
    stores: list[PostgresKeyStore] = []

    def open_(**options: Any) -> PostgresKeyStore:
        dsn = options.pop("dsn", pg_dsn)
        store = PostgresKeyStore(dsn, **options)
        stores.append(store)
        return store

    yield open_
    for store in stores:
        store.close()


@pytest.fixture
def store(open_store: OpenStore) -> PostgresKeyStore:
    """The store the contract tests imported from test_auth_key_stores.py run on."""
    return open_store(now=Ticking())


def app_name() -> str:
    """A session name no other test uses at the same time: its backends are found by it."""
    return f"og keys test {secrets.token_hex(4)}"


async def sessions(dsn: str, application_name: str) -> int:
    admin = await asyncpg.connect(dsn)
    try:
        count: int = await admin.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
            application_name,
        )
    finally:
        await admin.close()
    return count


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def at_once(work: Callable[..., T], count: int, *args: Sequence[Any]) -> list[T]:
    """Run `work` on `count` threads of their own (a barrier in `work` starts them
    together; the default executor may have fewer threads than that)."""
    with ThreadPoolExecutor(max_workers=count) as threads:
        loop = asyncio.get_running_loop()
        calls = [
            loop.run_in_executor(threads, work, *(arg[i] for arg in args)) for i in range(count)
        ]
        return list(await asyncio.gather(*calls))


@asynccontextmanager
async def table_locked(dsn: str, table: str) -> AsyncIterator[None]:
    """Hold an ACCESS EXCLUSIVE lock on `table`: every read of it waits until the exit."""
    conn = await asyncpg.connect(dsn)
    try:
        transaction = conn.transaction()
        await transaction.start()
        await conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            await transaction.rollback()
    finally:
        await conn.close()


def key_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "ordergate-keys"]


# --- at rest ------------------------------------------------------------------------------------


async def test_pg_keys_hashed_at_rest_no_secret_in_any_table(
    open_store: OpenStore, pg_dsn: str
) -> None:
    store = open_store()
    keys = [store.create(scope, "k", actor="tests").plaintext for scope in Scope]
    store.revoke(key_id_of(keys[0]), actor="tests")

    conn = await asyncpg.connect(pg_dsn)
    try:
        rows = await conn.fetch("SELECT * FROM api_keys")
        audit = await conn.fetch("SELECT * FROM api_key_audit")
    finally:
        await conn.close()
    hashes = {row["key_id"]: row["hash"] for row in rows}

    for key in keys:
        parts = split_key(key)
        assert parts is not None
        assert parts[1] not in repr(rows) + repr(audit)
        assert hashes[parts[0]] == hash_secret(parts[1])


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE api_key_audit SET actor = 'x'",
        "DELETE FROM api_key_audit",
        "TRUNCATE api_key_audit",
        "DELETE FROM api_keys",
        "TRUNCATE api_keys",
        "UPDATE api_keys SET revoked_at = NULL",
        "UPDATE api_keys SET label = 'renamed'",
        "UPDATE api_keys SET scope = 'admin', revoked_at = now() WHERE revoked_at IS NULL",
    ],
)
async def test_pg_audit_and_keys_cannot_be_rewritten(
    open_store: OpenStore, pg_dsn: str, statement: str
) -> None:
    store = open_store()
    store.create(Scope.READ, "k", actor="tests")
    revoked = store.create(Scope.READ, "gone", actor="tests").key
    store.revoke(revoked.key_id, actor="tests")
    conn = await asyncpg.connect(pg_dsn)
    try:
        with pytest.raises(asyncpg.RestrictViolationError):
            await conn.execute(statement)
    finally:
        await conn.close()

    listed = store.keys()
    assert [a.action for a in store.audit()] == ["create", "create", "revoke"]
    assert [(k.scope, k.label, k.revoked) for k in listed] == [
        (Scope.READ, "k", False),
        (Scope.READ, "gone", True),
    ]


def test_pg_key_store_reopened_keeps_keys(open_store: OpenStore) -> None:
    first = open_store()
    key = first.create(Scope.TRADE, "k", actor="tests").key
    first.close()

    again = open_store()

    assert again.get(key.key_id) == key


def test_pg_open_key_store_postgres_urls_open_postgres_store(pg_dsn: str) -> None:
    for url in (pg_dsn, pg_dsn.replace("postgresql://", "postgres://", 1)):
        store = open_key_store(url)
        try:
            assert isinstance(store, PostgresKeyStore)
            assert reads_over_network(store)
        finally:
            store.close()


# --- several nodes ------------------------------------------------------------------------------


def test_pg_two_stores_see_each_others_keys_and_revocations(open_store: OpenStore) -> None:
    node_a, node_b = open_store(), open_store()

    issued = node_a.create(Scope.TRADE, "bot", actor="node-a")
    seen = node_b.get(issued.key.key_id)
    revoked = node_b.revoke(issued.key.key_id, actor="node-b")

    assert seen == issued.key
    assert node_a.get(issued.key.key_id) == revoked
    assert [(a.action, a.actor) for a in node_a.audit()] == [
        ("create", "node-a"),
        ("revoke", "node-b"),
    ]


async def test_pg_key_revoked_on_one_node_refused_by_another_within_cache_time(
    open_store: OpenStore,
) -> None:
    node_a, node_b = open_store(), open_store()
    issued = node_a.create(Scope.ADMIN, "doomed", actor="tests")
    verifier_b = KeyVerifier(node_b)
    assert await verifier_b.averify(issued.plaintext) == issued.key  # now cached on node b

    await asyncio.to_thread(node_a.revoke, issued.key.key_id, actor="tests")
    revoked_at = time.monotonic()

    async def refused() -> bool:
        try:
            await verifier_b.averify(issued.plaintext)
        except InvalidApiKey:
            return True
        return False

    await eventually(
        refused,
        timeout=CACHE_SECONDS + 0.5,  # the promise under test
        interval=0.02,
        message="the key revoked on node a to be refused on node b",
    )

    assert time.monotonic() - revoked_at <= CACHE_SECONDS + 0.5


async def test_pg_many_nodes_opening_a_fresh_database_at_once_create_tables_once(
    pg_dsn: str, open_store: OpenStore
) -> None:
    nodes = 8
    start = threading.Barrier(nodes, timeout=10)

    def open_node() -> PostgresKeyStore:
        start.wait()
        return open_store()

    stores = await at_once(open_node, nodes)
    for i, store in enumerate(stores):
        await asyncio.to_thread(store.create, Scope.READ, f"node {i}", actor="tests")

    conn = await asyncpg.connect(pg_dsn)
    try:
        versions = [r["version"] for r in await conn.fetch("SELECT version FROM api_key_schema")]
    finally:
        await conn.close()
    assert versions == [1]
    assert all(store.count() == nodes for store in stores)


async def test_pg_nodes_starting_together_on_empty_store_make_one_first_key(
    open_store: OpenStore,
) -> None:
    nodes = 6
    stores = [open_store() for _ in range(nodes)]
    start = threading.Barrier(nodes, timeout=10)

    def first_key(store: PostgresKeyStore) -> IssuedKey | None:
        start.wait()
        return ensure_first_key(store, actor="serve")

    issued = await at_once(first_key, nodes, stores)

    created = [i for i in issued if i is not None]
    assert len(created) == 1
    listed = stores[0].keys()
    assert [k.label for k in listed] == ["local-admin"]
    assert ensure_first_key(stores[1], actor="serve") is None


async def test_pg_key_schema_newer_than_ordergate_refused_and_thread_stopped(
    open_store: OpenStore, pg_dsn: str
) -> None:
    open_store().close()
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute("INSERT INTO api_key_schema (version) VALUES (2)")
    finally:
        await conn.close()
    threads_before = key_threads()

    with pytest.raises(JournalError) as raised:
        PostgresKeyStore(pg_dsn)

    assert raised.value.code == "KEY_SCHEMA_TOO_NEW"
    assert key_threads() == threads_before


# --- failures -----------------------------------------------------------------------------------


def test_pg_unreachable_database_journal_error_without_password() -> None:
    dsn = f"postgresql://ordergate:hunter2@127.0.0.1:{closed_port()}/test"
    threads_before = key_threads()
    started = time.monotonic()

    with pytest.raises(JournalError) as raised:
        PostgresKeyStore(dsn, timeout=2.0)

    assert time.monotonic() - started < 3.0
    assert "hunter2" not in str(raised.value)
    assert "127.0.0.1" in str(raised.value)
    assert key_threads() == threads_before


def test_pg_closed_store_refuses_calls(open_store: OpenStore) -> None:
    store = open_store()
    store.close()

    with pytest.raises(RuntimeError):
        store.count()


async def test_pg_connection_ended_by_server_next_call_reconnects(
    open_store: OpenStore, pg_dsn: str
) -> None:
    name = app_name()
    store = open_store(application_name=name)
    key = store.create(Scope.READ, "k", actor="tests").key

    assert await terminate_sessions(pg_dsn, name) == 1
    got = await asyncio.to_thread(store.get, key.key_id)

    assert got == key
    assert await sessions(pg_dsn, name) == 1


async def test_pg_connection_ended_mid_create_retried_on_new_connection_one_key(
    open_store: OpenStore, pg_dsn: str
) -> None:
    name = app_name()
    store = open_store(application_name=name, timeout=15)
    with structlog.testing.capture_logs() as logged:
        async with table_locked(pg_dsn, "api_key_audit"):
            creating = asyncio.create_task(
                asyncio.to_thread(store.create, Scope.TRADE, "bot", actor="tests")
            )
            await wait_until_blocked(pg_dsn, name)  # key row inserted, audit row waiting
            assert await terminate_sessions(pg_dsn, name) == 1
            await wait_until_blocked(pg_dsn, name)  # the retry, on a fresh connection
        issued = await creating

    assert store.keys() == [issued.key]
    assert [(a.action, a.key_id) for a in store.audit()] == [("create", issued.key.key_id)]
    retries = [e for e in logged if "retrying" in e["event"]]
    assert len(retries) == 1, logged
    assert issued.plaintext.split("_", 2)[2] not in repr(logged)


async def test_pg_create_and_revoke_run_twice_take_effect_once(
    open_store: OpenStore, pg_dsn: str
) -> None:
    """What a retry after a commit whose answer was lost does: it finds its own work."""
    store = open_store()
    clock = Ticking()
    issued = issue_key("00000000abcd", Scope.READ, "k", clock())
    at = clock()
    conn = await asyncpg.connect(pg_dsn)
    try:
        created = [await _insert_key(conn, issued=issued, actor="t") for _ in range(2)]
        revoked = [await _revoke_key(conn, issued.key.key_id, at, "t") for _ in range(2)]
    finally:
        await conn.close()

    assert created == [True, True]
    assert revoked[0] == revoked[1]
    assert revoked[0].revoked_at == at
    assert [a.action for a in store.audit()] == ["create", "revoke"]
    assert store.count() == 1


async def test_pg_create_with_an_id_taken_by_another_key_not_stored(
    open_store: OpenStore, pg_dsn: str
) -> None:
    store = open_store()
    taken = store.create(Scope.ADMIN, "first", actor="t").key
    other = issue_key(taken.key_id, Scope.READ, "second", Ticking()())
    conn = await asyncpg.connect(pg_dsn)
    try:
        stored = await _insert_key(conn, issued=other, actor="t")
    finally:
        await conn.close()

    assert stored is False
    assert store.keys() == [taken]


async def test_pg_no_answer_within_timeout_journal_error_then_next_call_works(
    open_store: OpenStore, pg_dsn: str
) -> None:
    store = open_store(timeout=0.5)
    key = store.create(Scope.READ, "k", actor="t").key
    async with table_locked(pg_dsn, "api_keys"):
        started = time.monotonic()
        with pytest.raises(JournalError) as raised:
            await asyncio.to_thread(store.get, key.key_id)
        waited = time.monotonic() - started
    again = await asyncio.to_thread(store.get, key.key_id)

    assert raised.value.code == "KEY_STORE_TIMEOUT"
    assert 0.4 <= waited < 1.5, waited
    assert again == key


# --- not blocking the event loop ----------------------------------------------------------------


async def test_pg_verify_miss_waiting_on_database_leaves_event_loop_running(
    open_store: OpenStore, pg_dsn: str
) -> None:
    name = app_name()
    store = open_store(application_name=name)
    issued = store.create(Scope.READ, "k", actor="tests")
    verifier = KeyVerifier(store)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async with table_locked(pg_dsn, "api_keys"):
        verifying = asyncio.create_task(verifier.averify(issued.plaintext))
        await wait_until_blocked(pg_dsn, name)
        ticker = asyncio.create_task(tick())
        # The loop keeps running while the lookup waits on the database: the ticker ticks.
        await eventually(lambda: ticks >= 15, message="15 ticks while the lookup waits")
        ticker.cancel()
        assert not verifying.done()
    key = await verifying

    assert key == issued.key
    assert ticks >= 15, ticks


@asynccontextmanager
async def node(
    market: Path, keys: PostgresKeyStore, clock: Callable[[], float] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """An ordergate node (in-memory journal) whose API keys live in PostgreSQL; with a
    `clock`, its key cache keeps that time instead of the real one."""
    app = create_app(make_settings(market), keys)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://ordergate.test"
        ) as client,
    ):
        if clock is not None:
            app.state.edge.access.verifier = KeyVerifier(keys, clock=clock)
        yield client


async def test_pg_api_slow_key_lookup_does_not_hold_up_other_requests(
    open_store: OpenStore, pg_dsn: str, market: Path
) -> None:
    name = app_name()
    store = open_store(application_name=name)
    cached = store.create(Scope.READ, "cached", actor="tests").plaintext
    uncached = store.create(Scope.READ, "uncached", actor="tests").plaintext
    async with node(market, store) as api:
        assert (await api.get("/v1/orders", headers=headers(cached))).status_code == 200
        async with table_locked(pg_dsn, "api_keys"):
            slow = asyncio.create_task(api.get("/v1/orders", headers=headers(uncached)))
            await wait_until_blocked(pg_dsn, name)
            started = time.monotonic()
            health = await api.get("/health")
            fast = await api.get("/v1/account", headers=headers(cached))
            elapsed = time.monotonic() - started
            assert not slow.done()
        slow_response = await slow

    assert (health.status_code, fast.status_code, slow_response.status_code) == (200, 200, 200)
    assert elapsed < 0.5, elapsed


async def test_pg_api_key_store_not_answering_503_revealing_nothing_of_the_database(
    open_store: OpenStore, pg_dsn: str, market: Path
) -> None:
    store = open_store(timeout=0.3)
    key = store.create(Scope.READ, "k", actor="tests").plaintext
    with structlog.testing.capture_logs() as logged:
        async with node(market, store) as api, table_locked(pg_dsn, "api_keys"):
            response = await api.get("/v1/orders", headers=headers(key))

    assert refusal(response) == (503, "KEY_STORE_UNAVAILABLE")
    assert store.where not in response.text
    assert "5432" not in response.text
    warnings = [e for e in logged if e["event"] == "api key store unavailable"]
    assert [w["reason_code"] for w in warnings] == ["KEY_STORE_TIMEOUT"]
    assert key not in repr(logged)


async def test_pg_two_nodes_accept_one_key_and_refuse_it_after_cli_revoke(
    open_store: OpenStore, pg_dsn: str, market: Path
) -> None:
    key = open_store().create(Scope.READ, "shared", actor="tests").plaintext
    clock = FakeClock()  # the nodes' key caches keep this time
    async with (
        node(market, open_store(), clock) as node_a,
        node(market, open_store(), clock) as node_b,
    ):
        before = [await n.get("/v1/orders", headers=headers(key)) for n in (node_a, node_b)]
        revoked = await asyncio.to_thread(cli, "keys", "revoke", key_id_of(key), "--db", pg_dsn)
        clock.now += CACHE_SECONDS + 0.1
        after = [await n.get("/v1/orders", headers=headers(key)) for n in (node_a, node_b)]

    assert [r.status_code for r in before] == [200, 200]
    assert revoked.returncode == 0, revoked.stderr
    assert [refusal(r) for r in after] == [(401, "API_KEY_INVALID")] * 2


# --- the CLI ------------------------------------------------------------------------------------


async def test_pg_cli_create_list_revoke_on_postgres_url(pg_dsn: str) -> None:
    created = await asyncio.to_thread(
        cli, "keys", "create", "--scope", "trade", "--label", "bot 7", "--db", pg_dsn
    )
    key = created.stdout.strip()
    listed = await asyncio.to_thread(cli, "keys", "list", "--db", pg_dsn)
    revoked = await asyncio.to_thread(cli, "keys", "revoke", key_id_of(key), "--db", pg_dsn)
    again = await asyncio.to_thread(cli, "keys", "revoke", key_id_of(key), "--db", pg_dsn)
    listed_after = await asyncio.to_thread(cli, "keys", "list", "--db", pg_dsn)

    assert created.returncode == 0, created.stderr
    assert split_key(key) is not None
    assert listed.returncode == 0, listed.stderr
    line = listed.stdout.splitlines()[1]
    assert line.split()[:2] == [key_id_of(key), "trade"]
    assert line.split()[3] == "-"
    assert line.endswith("bot 7")
    assert key.split("_", 2)[2] not in listed.stdout
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.startswith(f"revoked {key_id_of(key)}")
    assert again.returncode == 1
    assert "revoked at" in again.stderr
    assert listed_after.stdout.splitlines()[1].split()[3] != "-"
    store = PostgresKeyStore(pg_dsn)
    try:
        audit = store.audit()
    finally:
        store.close()
    assert [a.action for a in audit] == ["create", "revoke"]
    assert all(a.actor.startswith("cli") for a in audit)


@pytest.mark.parametrize("command", [("list",), ("create", "--scope", "read")])
async def test_pg_cli_unreachable_database_exit_1_message_no_traceback(
    command: tuple[str, ...],
) -> None:
    dsn = f"postgresql://ordergate:hunter2@127.0.0.1:{closed_port()}/test"

    result = await asyncio.to_thread(cli, "keys", *command, "--db", dsn)

    assert result.returncode == 1
    assert result.stdout == ""
    assert "127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr
    assert "hunter2" not in result.stderr
