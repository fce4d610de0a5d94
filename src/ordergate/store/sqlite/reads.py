"""Queries over the SQLite read models, on the store's reader connection.

Filters, offset and cursor paging, the sort keys and the cursors are every store's
(`store/paging.py`; this module only writes its parameters as SQLite does), so one REST
client may page through either store. WAL lets these reads run beside the writer thread's
appends; each sees only committed transactions. A query runs in-line on the event loop:
the file is local and a page is at most `MAX_PAGE` rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

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
from ordergate.store.rows import (
    balance_view,
    fill_view,
    order_view,
    position_view,
    retired_signal,
    retired_snapshot,
)
from ordergate.store.sqlite.sameness import read_models_equal

# Bound parameters per `IN (...)`: SQLite allows 32,766 per statement since 3.32.
_IN_LIMIT = 500


class _SqliteWhere(Where):
    """Parameters as `?`, a set as `IN (?, ?, ...)`."""

    def bind(self, value: Any, pg_type: str) -> str:
        self.params.append(value)
        return "?"

    def one_of(self, column: str, values: list[str]) -> None:
        self.clauses.append(f"{column} IN ({', '.join(self.bind(v, 'text') for v in values)})")


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
        sql = _SqliteWhere()
        order_conditions(sql, where)
        query = page_query("orders", (sort.value, "partition", "number"), sql, page)
        return order_page(self._reader.execute(query, sql.params).fetchall(), page, sort)

    async def fills(self, where: FillFilter, page: PageRequest) -> Page[FillView]:
        sql = _SqliteWhere()
        fill_conditions(sql, where)
        query = page_query("fills", ("ts", "fill_no"), sql, page)
        return fill_page(self._reader.execute(query, sql.params).fetchall(), page)

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
            retired=[
                retired_snapshot(r[0])
                for r in con.execute("SELECT snapshot FROM retired_orders ORDER BY order_id")
            ],
            retired_signals=[
                retired_signal(r[0])
                for r in con.execute("SELECT record FROM retired_signals ORDER BY signal_id")
            ],
        )

    async def read_models_equal(self, expected: ReadModelChanges) -> bool:
        """Whether the read models are exactly `expected`, shown quickly (`sameness.py`):
        False is no verdict, only that the views must be compared one by one."""
        return read_models_equal(self._reader, expected)

    # --- RetiredOrders ---------------------------------------------------------------------

    async def retired_orders(self, client_order_ids: Sequence[str]) -> dict[str, OrderSnapshot]:
        found: dict[str, OrderSnapshot] = {}
        for start in range(0, len(client_order_ids), _IN_LIMIT):
            chunk = client_order_ids[start : start + _IN_LIMIT]
            rows = self._reader.execute(
                "SELECT client_order_id, snapshot FROM retired_orders "
                f"WHERE client_order_id IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            found.update((r[0], retired_snapshot(r[1])) for r in rows)
        return found

    async def retired_order_by_key(
        self, account: str, idempotency_key: str
    ) -> OrderSnapshot | None:
        row = self._reader.execute(
            "SELECT snapshot FROM retired_orders WHERE account = ? AND idempotency_key = ?",
            (account, idempotency_key),
        ).fetchone()
        return None if row is None else retired_snapshot(row[0])

    # --- RetiredSignals --------------------------------------------------------------------

    async def retired_signal(self, signal_id: str) -> SignalReceived | None:
        row = self._reader.execute(
            "SELECT record FROM retired_signals WHERE signal_id = ?", (signal_id,)
        ).fetchone()
        return None if row is None else retired_signal(row[0])
