"""The PostgreSQL read models answer every query exactly as SQLite's do.

The same events go into a SqliteStore file and a PostgreSQL schema: the unit-test session on
partition 0 and a smaller one on partition 1 whose timestamps tie with it, so that sort keys
need the partition to break ties. Every query is then put to both stores, page by page:
items, their order, the cursors and where paging ends must all be equal.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import msgspec
import pytest
from tests.fakes import BTC, EURUSD
from tests.integration.store.pg_rigs import unique
from tests.pg_support import isolated_schema
from tests.unit.store.scenario import fill_for, load, order_init

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.events import (
    BalanceAdjusted,
    Event,
    InstrumentUpdated,
    OrderAccepted,
    OrderApproved,
    OrderSubmitted,
)
from ordergate.domain.values import OrderStatus, Side
from ordergate.engine.queries import FillFilter, OrderFilter, OrderSort, Page, PageRequest
from ordergate.engine.views import BalanceView, FillView, OrderView, PositionView
from ordergate.store.postgres import PostgresStore
from ordergate.store.postgres.columns import (
    BALANCE_COLUMNS,
    FILL_COLUMNS,
    ORDER_COLUMNS,
    POSITION_COLUMNS,
)
from ordergate.store.sqlite import SqliteStore

V = TypeVar("V")
D = Decimal
S = OrderStatus


def partition_one_batches() -> list[list[Event]]:
    """Orders 1-1..1-8 of account b1, created and filled at the partition-0 session's times."""
    inits = [
        msgspec.structs.replace(
            order_init(n),
            order_id=f"1-{n}",
            client_order_id=f"p1-coid-{n}",
            account="b1",
            idempotency_key=f"p1-key-{n}",
        )
        for n in range(1, 9)
    ]
    batches: list[list[Event]] = [
        [
            InstrumentUpdated(BTC, 1),
            InstrumentUpdated(EURUSD, 1),
            BalanceAdjusted("b1", "USDT", D("2500.250"), "deposit", 2),
            BalanceAdjusted("b1", "USD", D("10.10"), "deposit", 3),
        ]
    ]
    batches.extend(
        [e for o in pair for e in (o, OrderApproved(o.order_id, o.price or D(1), o.ts))]
        for pair in (inits[i : i + 2] for i in range(0, len(inits), 2))
    )
    answers: list[Event] = []
    for n, order in enumerate(inits, start=1):
        ts = 2_000 + (n // 2) * 5
        answers.append(OrderSubmitted(order.order_id, f"W{n}", ts))
        if n % 2:
            answers.append(fill_for(order, 1, order.qty, ts))
        else:
            answers.append(OrderAccepted(order.order_id, f"W{n}", ts))
    batches.extend(answers[i : i + 5] for i in range(0, len(answers), 5))
    return batches


async def load_everywhere(dsn: str, sqlite: SqliteStore, sqlite_p1: SqliteStore) -> None:
    """The same appends in the same order into both stores (fill numbers follow it)."""
    pg = await PostgresStore.open(dsn, owner=unique("p0"))
    pg_p1 = await PostgresStore.open(dsn, partition=1, owner=unique("p1"))
    try:
        await load(pg)
        await load(sqlite)
        await load(pg_p1, partition_one_batches())
        await load(sqlite_p1, partition_one_batches())
    finally:
        await pg.close()
        await pg_p1.close()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, SqliteStore]]:
    """A PostgreSQL schema and a SQLite file holding the same two partitions."""
    with asyncio.Runner() as runner:
        schema = isolated_schema()
        dsn = runner.run(schema.__aenter__())
        path: Path = tmp_path_factory.mktemp("parity") / "journal.db"
        sqlite, sqlite_p1 = SqliteStore(path), SqliteStore(path, partition=1)
        try:
            runner.run(load_everywhere(dsn, sqlite, sqlite_p1))
            yield dsn, sqlite
        finally:
            runner.run(sqlite.close())
            runner.run(sqlite_p1.close())
            runner.run(schema.__aexit__(None, None, None))


@pytest.fixture
def sqlite(loaded: tuple[str, SqliteStore]) -> SqliteStore:
    return loaded[1]


@pytest.fixture
async def pg(loaded: tuple[str, SqliteStore]) -> AsyncIterator[PostgresStore]:
    store = await PostgresStore.open(loaded[0], owner=unique("reader"), take_over=False)
    yield store
    await store.close()


async def walk(
    query: Callable[[PageRequest], Awaitable[Page[V]]],
    limit: int,
    descending: bool,
    by_cursor: bool,
) -> list[Page[V]]:
    """Every page of a query, following cursors or offsets to the end."""
    pages: list[Page[V]] = []
    request = PageRequest(limit=limit, descending=descending)
    for _ in range(200):
        page = await query(request)
        pages.append(page)
        if by_cursor:
            if page.next_cursor is None:
                return pages
            request = PageRequest(limit=limit, cursor=page.next_cursor, descending=descending)
        else:
            if len(page.items) < limit:
                return pages
            request = PageRequest(limit=limit, offset=request.offset + limit, descending=descending)
    raise AssertionError("paging did not end")


ORDER_FILTERS = {
    "all": OrderFilter(),
    "account": OrderFilter(account="a2"),
    "other-partition": OrderFilter(account="b1"),
    "symbol": OrderFilter(symbol=EURUSD.symbol),
    "statuses": OrderFilter(statuses=frozenset({S.CANCELED, S.FILLED})),
    "open": OrderFilter(statuses=frozenset({S.ACCEPTED, S.SUBMITTED, S.PENDING_SUBMIT})),
    "no-status": OrderFilter(statuses=frozenset()),
    "strategy": OrderFilter(strategy="s2"),
    "side": OrderFilter(side=Side.SELL),
    "since": OrderFilter(since=1_040),
    "until": OrderFilter(until=1_040),
    "window": OrderFilter(since=1_020, until=1_060),
    "combined": OrderFilter(account="a1", symbol=BTC.symbol, side=Side.BUY, since=1_010),
    "nothing": OrderFilter(account="a1", strategy="s1", until=1_000),
}
FILL_FILTERS = {
    "all": FillFilter(),
    "account": FillFilter(account="a2"),
    "other-partition": FillFilter(account="b1"),
    "symbol": FillFilter(symbol=BTC.symbol),
    "order": FillFilter(order_id="0-2"),
    "since": FillFilter(since=2_030),
    "until": FillFilter(until=2_030),
    "combined": FillFilter(account="a1", symbol=EURUSD.symbol, since=2_010, until=2_060),
}


def test_row_columns_cover_every_view_field():
    def names(columns: tuple[tuple[str, str], ...]) -> set[str]:
        return {name for name, _ in columns}

    assert names(ORDER_COLUMNS) - {"partition_id", "number"} == set(OrderView.__struct_fields__)
    assert names(FILL_COLUMNS) == set(FillView.__struct_fields__)
    assert names(POSITION_COLUMNS) == set(PositionView.__struct_fields__)
    assert names(BALANCE_COLUMNS) == set(BalanceView.__struct_fields__)


async def test_text_sort_keys_use_the_c_collation(loaded: tuple[str, SqliteStore]):
    # Sorted as bytes, as SQLite's BINARY collation does, whatever the database's locale
    # (this database's may sort like C already, so the columns themselves are checked).
    conn = await asyncpg.connect(loaded[0])
    try:
        rows = await conn.fetch(
            "SELECT table_name, column_name, collation_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND column_name = ANY($1::text[]) "
            "AND table_name = ANY($2::text[])",
            ["order_id", "account", "symbol", "currency", "trade_id"],
            ["orders", "fills", "positions", "balances"],
        )
    finally:
        await conn.close()

    assert len(rows) == 11
    assert {(r["table_name"], r["column_name"], r["collation_name"]) for r in rows} == {
        (r["table_name"], r["column_name"], "C") for r in rows
    }


async def test_scenario_ties_across_partitions(sqlite: SqliteStore):
    # Guards the data: without ties between partitions the tie-breaks go untested.
    orders = (await sqlite.orders(OrderFilter(), PageRequest(limit=1000))).items
    created = {(o.created_ts, o.order_id.split("-")[0]) for o in orders}
    assert {ts for ts, p in created if p == "0"} & {ts for ts, p in created if p == "1"}
    fills = (await sqlite.fills(FillFilter(), PageRequest(limit=1000))).items
    by_ts: dict[int, set[str]] = {}
    for f in fills:
        by_ts.setdefault(f.ts, set()).add(f.account)
    assert any("b1" in accounts and len(accounts) > 1 for accounts in by_ts.values())
    assert len(orders) == 32


@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
@pytest.mark.parametrize("sort", list(OrderSort))
async def test_orders_every_filter_answers_as_sqlite(
    pg: PostgresStore, sqlite: SqliteStore, sort: OrderSort, descending: bool
):
    request = PageRequest(limit=1000, descending=descending)
    for name, where in ORDER_FILTERS.items():
        expected = await sqlite.orders(where, request, sort)

        assert await pg.orders(where, request, sort) == expected, name
        assert name in ("nothing", "no-status") or expected.items, name


@pytest.mark.parametrize("by_cursor", [True, False], ids=["cursor", "offset"])
@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
@pytest.mark.parametrize("limit", [1, 5, 32, 100])
async def test_orders_pages_as_sqlite(
    pg: PostgresStore, sqlite: SqliteStore, limit: int, descending: bool, by_cursor: bool
):
    for sort in OrderSort:
        for name in ("all", "statuses", "window", "other-partition"):
            where = ORDER_FILTERS[name]

            def query(store: Any) -> Callable[[PageRequest], Awaitable[Page[OrderView]]]:
                return lambda request: store.orders(where, request, sort)  # noqa: B023

            expected = await walk(query(sqlite), limit, descending, by_cursor)
            assert await walk(query(pg), limit, descending, by_cursor) == expected, (sort, name)


@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
async def test_fills_every_filter_answers_as_sqlite(
    pg: PostgresStore, sqlite: SqliteStore, descending: bool
):
    request = PageRequest(limit=1000, descending=descending)
    for name, where in FILL_FILTERS.items():
        expected = await sqlite.fills(where, request)

        assert await pg.fills(where, request) == expected, name
        assert expected.items, name


@pytest.mark.parametrize("by_cursor", [True, False], ids=["cursor", "offset"])
@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
@pytest.mark.parametrize("limit", [1, 3, 100])
async def test_fills_pages_as_sqlite(
    pg: PostgresStore, sqlite: SqliteStore, limit: int, descending: bool, by_cursor: bool
):
    for name in ("all", "combined", "other-partition"):
        where = FILL_FILTERS[name]
        expected = await walk(lambda r: sqlite.fills(where, r), limit, descending, by_cursor)  # noqa: B023

        assert await walk(lambda r: pg.fills(where, r), limit, descending, by_cursor) == expected  # noqa: B023


async def test_a_cursor_wins_over_an_offset_as_in_sqlite(pg: PostgresStore, sqlite: SqliteStore):
    first = await sqlite.orders(OrderFilter(), PageRequest(limit=5))
    assert first.next_cursor is not None
    request = PageRequest(limit=5, offset=100, cursor=first.next_cursor)

    assert await pg.orders(OrderFilter(), request) == await sqlite.orders(OrderFilter(), request)


async def test_an_offset_past_the_end_answers_an_empty_last_page(
    pg: PostgresStore, sqlite: SqliteStore
):
    for offset in (32, 1_000, 2**63 - 1):
        request = PageRequest(limit=10, offset=offset)

        assert await pg.orders(OrderFilter(), request) == Page([], None)
        assert await sqlite.orders(OrderFilter(), request) == Page([], None)
        assert await pg.fills(FillFilter(), request) == Page([], None)


def raw_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "bad",
    ["not-a-cursor", raw_cursor("[1, -2, 3]"), raw_cursor("[1, 2]"), raw_cursor('"x"')],
    ids=["junk", "negative-partition", "two-numbers", "not-a-list"],
)
async def test_a_cursor_not_issued_here_is_refused_as_in_sqlite(
    pg: PostgresStore, sqlite: SqliteStore, bad: str
):
    request = PageRequest(cursor=bad)
    queries: tuple[Callable[[Any], Awaitable[object]], ...] = (
        lambda store: store.orders(OrderFilter(), request),
        lambda store: store.fills(FillFilter(), request),
    )
    for query in queries:
        with pytest.raises(InvalidRequest) as refused:
            await query(pg)
        with pytest.raises(InvalidRequest):
            await query(sqlite)

        assert refused.value.code == "BAD_CURSOR"


async def test_order_by_id_answers_as_sqlite(pg: PostgresStore, sqlite: SqliteStore):
    everything = (await sqlite.orders(OrderFilter(), PageRequest(limit=1000))).items
    for order in everything:
        assert await pg.order(order.order_id) == order
    assert await pg.order("0-999") is None
    assert await pg.order("") is None


async def test_positions_and_balances_answer_as_sqlite(pg: PostgresStore, sqlite: SqliteStore):
    for account in (None, "a1", "a2", "b1", "nobody"):
        assert await pg.balances(account) == await sqlite.balances(account), account
        for symbol in (None, BTC.symbol, EURUSD.symbol, "NOPE"):
            expected = await sqlite.positions(account, symbol)
            assert await pg.positions(account, symbol) == expected, (account, symbol)
    assert len(await sqlite.positions()) > 2
    assert {b.account for b in await sqlite.balances()} == {"a1", "a2", "b1"}


async def test_snapshot_is_sqlite_snapshot(pg: PostgresStore, sqlite: SqliteStore):
    assert await pg.snapshot() == await sqlite.snapshot()
