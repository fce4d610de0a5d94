"""Queries over the SQLite read models, on the store's reader connection.

Filters, offset and cursor paging, the sort keys and the cursors' encoding are the ones
every store answers with (the PostgreSQL store's `reads.py` gives the same pages), so one
REST client may page through either. WAL lets these reads run beside the writer thread's
appends; each sees only committed transactions. A query runs in-line on the event loop:
the file is local and a page is at most `MAX_PAGE` rows.
"""

from __future__ import annotations

import sqlite3
from typing import Any

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
from ordergate.store.rows import balance_view, fill_view, order_view, position_view


class SqliteReadModels:
    """The `ReadModels` queries (and the verification snapshot) over one reader connection."""

    def __init__(self, reader: sqlite3.Connection) -> None:
        self._reader = reader

    async def order(self, order_id: str) -> OrderView | None:
        row = self._reader.execute(
            "SELECT * FROM orders WHERE order_id = ?", (order_id,)
        ).fetchone()
        return None if row is None else order_view(row)

    async def orders(
        self, where: OrderFilter, page: PageRequest, sort: OrderSort = OrderSort.CREATED_TS
    ) -> Page[OrderView]:
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("account", where.account),
            ("symbol", where.symbol),
            ("strategy", where.strategy),
            ("side", None if where.side is None else where.side.value),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if where.statuses is not None:
            statuses = sorted(s.value for s in where.statuses)
            clauses.append(f"status IN ({', '.join('?' * len(statuses))})")
            params.extend(statuses)
        if where.since is not None:
            clauses.append("created_ts >= ?")
            params.append(where.since)
        if where.until is not None:
            clauses.append("created_ts < ?")
            params.append(where.until)
        key = (sort.value, "partition", "number")
        rows = self._paged("orders", key, clauses, params, page)
        items = [order_view(r) for r in rows[: page.limit]]
        more = len(rows) > page.limit
        next_cursor = None
        if more:
            last = items[-1]
            ts = last.created_ts if sort is OrderSort.CREATED_TS else last.updated_ts
            partition = int(last.order_id.split("-", 1)[0])
            next_cursor = Cursor(ts, partition, order_number_of(last.order_id)).encode()
        return Page(items, next_cursor)

    async def fills(self, where: FillFilter, page: PageRequest) -> Page[FillView]:
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("account", where.account),
            ("symbol", where.symbol),
            ("order_id", where.order_id),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if where.since is not None:
            clauses.append("ts >= ?")
            params.append(where.since)
        if where.until is not None:
            clauses.append("ts < ?")
            params.append(where.until)
        rows = self._paged("fills", ("ts", "fill_no"), clauses, params, page)
        items = [fill_view(r) for r in rows[: page.limit]]
        next_cursor = None
        if len(rows) > page.limit:
            last = rows[page.limit - 1]
            next_cursor = Cursor(last["ts"], 0, last["fill_no"]).encode()
        return Page(items, next_cursor)

    def _paged(
        self,
        table: str,
        key: tuple[str, ...],
        clauses: list[str],
        params: list[Any],
        page: PageRequest,
    ) -> list[sqlite3.Row]:
        """Rows ordered by `key` (ts first, the row's own number last), one page plus one.

        A cursor is the key of the last row of the previous page: (ts, partition, number)
        for orders, (ts, number) for fills, whose cursors carry partition 0.
        """
        direction = "DESC" if page.descending else "ASC"
        offset = page.offset
        if page.cursor is not None:
            cursor = Cursor.decode(page.cursor)
            values: tuple[int, ...] = (cursor.ts, cursor.partition, cursor.number)
            if len(key) == 2:
                values = (cursor.ts, cursor.number)
            marks = ", ".join("?" * len(key))
            comparison = "<" if page.descending else ">"
            clauses = [*clauses, f"({', '.join(key)}) {comparison} ({marks})"]
            params = [*params, *values]
            offset = 0
        where_sql = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        order_sql = ", ".join(f"{column} {direction}" for column in key)
        sql = f"SELECT * FROM {table} {where_sql} ORDER BY {order_sql} LIMIT ? OFFSET ?"
        return self._reader.execute(sql, [*params, page.limit + 1, offset]).fetchall()

    async def positions(
        self, account: str | None = None, symbol: str | None = None
    ) -> list[PositionView]:
        rows = self._reader.execute(
            "SELECT * FROM positions WHERE (?1 IS NULL OR account = ?1) "
            "AND (?2 IS NULL OR symbol = ?2) ORDER BY account, symbol",
            (account, symbol),
        ).fetchall()
        return [position_view(r) for r in rows]

    async def balances(self, account: str | None = None) -> list[BalanceView]:
        rows = self._reader.execute(
            "SELECT * FROM balances WHERE (?1 IS NULL OR account = ?1) ORDER BY account, currency",
            (account,),
        ).fetchall()
        return [balance_view(r) for r in rows]

    async def snapshot(self) -> ReadModelChanges:
        """Every read-model row, for verification against a replay."""
        con = self._reader
        return ReadModelChanges(
            orders=[order_view(r) for r in con.execute("SELECT * FROM orders ORDER BY order_id")],
            fills=[fill_view(r) for r in con.execute("SELECT * FROM fills ORDER BY fill_no")],
            positions=await self.positions(),
            balances=await self.balances(),
        )
