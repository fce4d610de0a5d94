"""Queries over the PostgreSQL read models: every partition's rows, answered as SQLite answers.

Filters, offset and cursor paging, the sort keys and the cursors are every store's
(`store/paging.py`; this module only writes its parameters as PostgreSQL does): one REST
client may page through either store. Text keys sort in the "C" collation (see
`schema.py`), which orders them as SQLite's BINARY does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Final

from asyncpg import Connection, Pool, Record
from asyncpg.pool import PoolConnectionProxy

from ordergate.domain.errors import JournalError
from ordergate.domain.events import OrderSnapshot, SignalReceived
from ordergate.engine.queries import (
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
from ordergate.store.paging import (
    Where,
    fill_conditions,
    fill_page,
    order_conditions,
    order_page,
    page_query,
)
from ordergate.store.postgres.connection import DRIVER_ERRORS
from ordergate.store.rows import (
    balance_view,
    fill_view,
    order_view,
    position_view,
    retired_signal,
    retired_snapshot,
)

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


class _PostgresWhere(Where):
    """Parameters as `$1::type`, `$2::type`...; a set as one array: `= ANY($n::text[])`."""

    def bind(self, value: Any, pg_type: str) -> str:
        self.params.append(value)
        return f"${len(self.params)}::{pg_type}"

    def one_of(self, column: str, values: list[str]) -> None:
        self.clauses.append(f"{column} = ANY({self.bind(values, 'text[]')})")


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
        sql = _PostgresWhere()
        order_conditions(sql, where)
        query = page_query("orders", (sort.value, "partition_id", "number"), sql, page)
        async with translated("querying orders"):
            rows = await self._pool.fetch(query, *sql.params)
        return order_page(rows, page, sort)

    async def fills(self, where: FillFilter, page: PageRequest) -> Page[FillView]:
        sql = _PostgresWhere()
        fill_conditions(sql, where)
        query = page_query("fills", ("ts", "fill_no"), sql, page)
        async with translated("querying fills"):
            rows = await self._pool.fetch(query, *sql.params)
        return fill_page(rows, page)

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

    async def retired_orders(self, client_order_ids: Sequence[str]) -> dict[str, OrderSnapshot]:
        async with translated("reading retired orders"):
            rows = await self._pool.fetch(
                "SELECT client_order_id, snapshot FROM retired_orders "
                "WHERE client_order_id = ANY($1::text[])",
                list(client_order_ids),
            )
        return {r["client_order_id"]: retired_snapshot(r["snapshot"]) for r in rows}

    async def retired_order_by_key(
        self, account: str, idempotency_key: str
    ) -> OrderSnapshot | None:
        async with translated("reading a retired order"):
            payload = await self._pool.fetchval(
                "SELECT snapshot FROM retired_orders WHERE account = $1 AND idempotency_key = $2",
                account,
                idempotency_key,
            )
        return None if payload is None else retired_snapshot(payload)

    async def retired_signal(self, signal_id: str) -> SignalReceived | None:
        async with translated("reading a retired signal"):
            payload = await self._pool.fetchval(
                "SELECT record FROM retired_signals WHERE signal_id = $1", signal_id
            )
        return None if payload is None else retired_signal(payload)

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
    retired = await conn.fetch("SELECT snapshot FROM retired_orders ORDER BY order_id")
    signals = await conn.fetch("SELECT record FROM retired_signals ORDER BY signal_id")
    return ReadModelChanges(
        orders=[order_view(r) for r in orders],
        fills=[fill_view(r) for r in fills],
        positions=[position_view(r) for r in positions],
        balances=[balance_view(r) for r in balances],
        retired=[retired_snapshot(r["snapshot"]) for r in retired],
        retired_signals=[retired_signal(r["record"]) for r in signals],
    )
