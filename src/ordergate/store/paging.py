"""Filters and paging over the read models, as every store answers them.

Orders sort by (ts, partition, number): the created or updated ts the caller sorts by, then
the partition and the number of the order id, so that orders with one ts come in one order
in every store. Fills sort by (ts, fill number), the number a fill gets as it is stored;
their cursors carry partition 0. A cursor is the key of the last row of a page: the next
page starts after it (before it, descending), and an offset counts only without a cursor.

The memory store sorts and compares these keys in Python (`order_key`). SQLite and
PostgreSQL send the same filter and paging as one statement (`page_query`): the filter's
conditions, the key compared as a row value (`(ts, partition, number) > (...)`), and one
row beyond the page, which tells whether another page follows (`order_page`, `fill_page`).
The two write SQL differently in two places only, which `Where` leaves to each of them: a
parameter's placeholder (`?` or `$n::type`), and matching a set of statuses (`IN (?, ?)` or
`= ANY($n::text[])`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from ordergate.engine.ids import order_id_parts
from ordergate.engine.queries import Cursor, FillFilter, OrderFilter, OrderSort, Page, PageRequest
from ordergate.engine.views import FillView, OrderView
from ordergate.store.rows import Row, fill_view, order_view


def order_key(o: OrderView, sort: OrderSort) -> tuple[int, int, int]:
    """Where `o` stands in the orders sorted by `sort`: (ts, partition, number)."""
    ts = o.created_ts if sort is OrderSort.CREATED_TS else o.updated_ts
    return (ts, *order_id_parts(o.order_id))


class Where(ABC):
    """WHERE clauses and their parameters, in the SQL of one database."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.params: list[Any] = []

    @abstractmethod
    def bind(self, value: Any, pg_type: str) -> str:
        """Add a parameter and return its placeholder (`pg_type`: its PostgreSQL type)."""

    @abstractmethod
    def one_of(self, column: str, values: list[str]) -> None:
        """Add the condition that `column` is one of `values`."""

    def equal(self, column: str, value: str | None) -> None:
        """Add `column = value`, unless `value` is None (no condition)."""
        if value is not None:
            self.clauses.append(f"{column} = {self.bind(value, 'text')}")

    def compare(self, column: str, operator: str, value: int | None) -> None:
        """Add `column <operator> value`, unless `value` is None (no condition)."""
        if value is not None:
            self.clauses.append(f"{column} {operator} {self.bind(value, 'bigint')}")

    def sql(self) -> str:
        return f"WHERE {' AND '.join(self.clauses)}" if self.clauses else ""


def order_conditions(sql: Where, where: OrderFilter) -> None:
    """Add the conditions of `where` to `sql`."""
    sql.equal("account", where.account)
    sql.equal("symbol", where.symbol)
    sql.equal("strategy", where.strategy)
    sql.equal("side", None if where.side is None else where.side.value)
    if where.statuses is not None:
        sql.one_of("status", sorted(s.value for s in where.statuses))
    sql.compare("created_ts", ">=", where.since)
    sql.compare("created_ts", "<", where.until)


def fill_conditions(sql: Where, where: FillFilter) -> None:
    """Add the conditions of `where` to `sql`."""
    sql.equal("account", where.account)
    sql.equal("symbol", where.symbol)
    sql.equal("order_id", where.order_id)
    sql.compare("ts", ">=", where.since)
    sql.compare("ts", "<", where.until)


def page_query(table: str, key: tuple[str, ...], sql: Where, page: PageRequest) -> str:
    """Select the rows of `table` that `sql` admits, ordered by `key` (ts first, the row's
    own number last), one page plus one; the cursor's or offset's parameters join `sql`'s.

    `key` is (ts, partition, number) for orders and (ts, number) for fills. Raises
    `InvalidRequest` for a cursor this server did not issue.
    """
    direction = "DESC" if page.descending else "ASC"
    offset = page.offset
    if page.cursor is not None:
        cursor = Cursor.decode(page.cursor)
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
    return f"SELECT * FROM {table} {sql.sql()} ORDER BY {order_sql} LIMIT {limit} OFFSET {skip}"


def order_page(rows: Sequence[Row], page: PageRequest, sort: OrderSort) -> Page[OrderView]:
    """The page of `page_query`'s rows: the row beyond it only says that another follows."""
    items = [order_view(r) for r in rows[: page.limit]]
    more = len(rows) > page.limit
    return Page(items, Cursor(*order_key(items[-1], sort)).encode() if more else None)


def fill_page(rows: Sequence[Row], page: PageRequest) -> Page[FillView]:
    """The page of `page_query`'s rows: the row beyond it only says that another follows."""
    items = [fill_view(r) for r in rows[: page.limit]]
    next_cursor = None
    if len(rows) > page.limit:
        last = rows[page.limit - 1]
        next_cursor = Cursor(last["ts"], 0, last["fill_no"]).encode()
    return Page(items, next_cursor)
