"""Queries over the PostgreSQL read models: every partition's rows, answered as SQLite answers.

Filters, offset and cursor paging, the sort keys and the cursors' encoding are those of
`SqliteStore` (`sqlite/reads.py`): one REST client may page through either. Text keys sort
in the "C" collation (see `schema.py`), which orders them as SQLite's BINARY does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final

from asyncpg import Connection, Pool, Record
from asyncpg.pool import PoolConnectionProxy

from ordergate.domain.errors import JournalError
from ordergate.engine.ids import order_number_of
from ordergate.engine.queries import (
    Cursor,
    FillFilter,
    OrderFilter,
    OrderSort,
    Page,
    PageRequest,
)
from ordergate.engine.views import (
    BalanceView,
    FillView,
    OrderView,
    PositionView,
    ReadModelChanges,
)
from ordergate.store.postgres.connection import DRIVER_ERRORS
from ordergate.store.rows import balance_view, fill_view, order_view, position_view

_POSITIONS: Final = (
    "SELECT * FROM positions WHERE ($1::text IS NULL OR account = $1) "
    "AND ($2::text IS NULL OR symbol = $2) ORDER BY account, symbol"
)
_BALANCES: Final = (
    "SELECT * FROM balances WHERE ($1::text IS NULL OR account = $1) ORDER BY account, currency"
)


@asynccontextmanager
async def translated(action: str) -> AsyncIterator[None]:
    """Turn the driver's errors into `JournalError`: nothing of asyncpg leaves the store."""
    try:
        yield
    except DRIVER_ERRORS as exc:
        raise JournalError(f"{action} failed: {exc!r}") from exc


class _Where:
    """WHERE clauses with numbered parameters ($1, $2, ...)."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.params: list[Any] = []

    def bind(self, value: Any, pg_type: str) -> str:
        self.params.append(value)
        return f"${len(self.params)}::{pg_type}"

    def equal(self, column: str, value: Any) -> None:
        if value is not None:
            self.clauses.append(f"{column} = {self.bind(value, 'text')}")

    def sql(self) -> str:
        return f"WHERE {' AND '.join(self.clauses)}" if self.clauses else ""


class PostgresReadModels:
    """The `ReadModels` queries (and the verification snapshot) over a pool of readers."""

    def __init__(self, pool: Pool[Record]) -> None:
        self._pool = pool

    async def order(self, order_id: str) -> OrderView | None:
        async with translated("reading an order"):
            row = await self._pool.fetchrow("SELECT * FROM orders WHERE order_id = $1", order_id)
        return None if row is None else order_view(row)

    async def orders(
        self, where: OrderFilter, page: PageRequest, sort: OrderSort = OrderSort.CREATED_TS
    ) -> Page[OrderView]:
        sql = _Where()
        sql.equal("account", where.account)
        sql.equal("symbol", where.symbol)
        sql.equal("strategy", where.strategy)
        sql.equal("side", None if where.side is None else where.side.value)
        if where.statuses is not None:
            statuses = sorted(s.value for s in where.statuses)
            sql.clauses.append(f"status = ANY({sql.bind(statuses, 'text[]')})")
        if where.since is not None:
            sql.clauses.append(f"created_ts >= {sql.bind(where.since, 'bigint')}")
        if where.until is not None:
            sql.clauses.append(f"created_ts < {sql.bind(where.until, 'bigint')}")
        key = (sort.value, "partition_id", "number")
        rows = await self._paged("orders", key, sql, page)
        items = [order_view(r) for r in rows[: page.limit]]
        next_cursor = None
        if len(rows) > page.limit:
            last = items[-1]
            ts = last.created_ts if sort is OrderSort.CREATED_TS else last.updated_ts
            partition = int(last.order_id.split("-", 1)[0])
            next_cursor = Cursor(ts, partition, order_number_of(last.order_id)).encode()
        return Page(items, next_cursor)

    async def fills(self, where: FillFilter, page: PageRequest) -> Page[FillView]:
        sql = _Where()
        sql.equal("account", where.account)
        sql.equal("symbol", where.symbol)
        sql.equal("order_id", where.order_id)
        if where.since is not None:
            sql.clauses.append(f"ts >= {sql.bind(where.since, 'bigint')}")
        if where.until is not None:
            sql.clauses.append(f"ts < {sql.bind(where.until, 'bigint')}")
        rows = await self._paged("fills", ("ts", "fill_no"), sql, page)
        items = [fill_view(r) for r in rows[: page.limit]]
        next_cursor = None
        if len(rows) > page.limit:
            last = rows[page.limit - 1]
            next_cursor = Cursor(last["ts"], 0, last["fill_no"]).encode()
        return Page(items, next_cursor)

    async def _paged(
        self, table: str, key: tuple[str, ...], sql: _Where, page: PageRequest
    ) -> list[Record]:
        """Rows ordered by `key` (ts first, the row's own number last), one page plus one.

        A cursor is the key of the last row of the previous page: (ts, partition, number)
        for orders, (ts, number) for fills, whose cursors carry partition 0.
        """
        direction = "DESC" if page.descending else "ASC"
        offset = page.offset
        if page.cursor is not None:
            cursor = Cursor.decode(page.cursor)  # InvalidRequest for a cursor not ours
            values: tuple[int, ...] = (cursor.ts, cursor.partition, cursor.number)
            if len(key) == 2:
                values = (cursor.ts, cursor.number)
            marks = ", ".join(sql.bind(v, "bigint") for v in values)
            comparison = "<" if page.descending else ">"
            sql.clauses.append(f"({', '.join(key)}) {comparison} ({marks})")
            offset = 0
        order_sql = ", ".join(f"{column} {direction}" for column in key)
        limit = sql.bind(page.limit + 1, "bigint")
        skip = sql.bind(offset, "bigint")
        query = (
            f"SELECT * FROM {table} {sql.sql()} ORDER BY {order_sql} LIMIT {limit} OFFSET {skip}"
        )
        async with translated(f"querying {table}"):
            return await self._pool.fetch(query, *sql.params)

    async def positions(
        self, account: str | None = None, symbol: str | None = None
    ) -> list[PositionView]:
        async with translated("reading positions"):
            rows = await self._pool.fetch(_POSITIONS, account, symbol)
        return [position_view(r) for r in rows]

    async def balances(self, account: str | None = None) -> list[BalanceView]:
        async with translated("reading balances"):
            rows = await self._pool.fetch(_BALANCES, account)
        return [balance_view(r) for r in rows]

    async def snapshot(self) -> ReadModelChanges:
        """Every read-model row, for verification against a replay: one consistent
        snapshot, though other partitions' writers keep committing meanwhile."""
        async with (
            translated("reading the read models"),
            self._pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            return await read_model_rows(conn)


async def read_model_rows(
    conn: Connection[Record] | PoolConnectionProxy[Record],
) -> ReadModelChanges:
    """Every read-model row, read on `conn` (in the caller's transaction, if it has one)."""
    orders = await conn.fetch("SELECT * FROM orders ORDER BY order_id")
    fills = await conn.fetch("SELECT * FROM fills ORDER BY fill_no")
    positions = await conn.fetch(_POSITIONS, None, None)
    balances = await conn.fetch(_BALANCES, None)
    return ReadModelChanges(
        orders=[order_view(r) for r in orders],
        fills=[fill_view(r) for r in fills],
        positions=[position_view(r) for r in positions],
        balances=[balance_view(r) for r in balances],
    )
