"""The embedded journal: SQLite in WAL mode, read models in the same transaction.

One writer thread owns the write connection, so an append (encode, chain, insert, fsync)
runs off the event loop while the engine and the API keep going; SQLite releases the GIL
while it writes. Reads use their own connection; WAL lets them run beside the writer and
they only ever see committed transactions. The journal table is append-only at the
storage level too (`schema.py`).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final

from ordergate.domain.events import Event
from ordergate.engine.chain import GENESIS, seal
from ordergate.engine.codec import decode
from ordergate.engine.ids import order_number_of
from ordergate.engine.queries import (
    Cursor,
    FillFilter,
    OrderFilter,
    OrderSort,
    Page,
    PageRequest,
)
from ordergate.engine.records import JournalRecord
from ordergate.engine.views import (
    BalanceView,
    FillView,
    OrderView,
    PositionView,
    ReadModelChanges,
)
from ordergate.store.rows import (
    balance_view,
    fill_view,
    journal_record,
    order_view,
    position_view,
)
from ordergate.store.sqlite.connection import SYNCHRONOUS_MODES, Synchronous, connect
from ordergate.store.sqlite.schema import migrate
from ordergate.store.sqlite.writes import write_batch, write_outbox_cursor

_PAGE: Final = 2048  # journal records read at a time


class SqliteStore:
    """Journal + read models in one SQLite file. Open it with `SqliteStore(path)`."""

    def __init__(
        self, path: str | Path, *, partition: int = 0, synchronous: Synchronous = "FULL"
    ) -> None:
        self.path = Path(path)
        self.partition = partition
        if synchronous not in SYNCHRONOUS_MODES:
            raise ValueError(f"bad synchronous mode {synchronous!r}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = connect(self.path, synchronous)
        migrate(self._writer, self.path)
        self._reader = connect(self.path, synchronous)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-journal")
        row = self._reader.execute(
            "SELECT seq, hash FROM journal WHERE partition = ? ORDER BY seq DESC LIMIT 1",
            (partition,),
        ).fetchone()
        self._head_seq: int = 0 if row is None else row["seq"]
        self._head_hash: bytes = GENESIS if row is None else row["hash"]

    @property
    def head_seq(self) -> int:
        return self._head_seq

    # --- Journal ---------------------------------------------------------------------------

    async def append(self, events: Sequence[Event], changes: ReadModelChanges) -> int:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._write, events, changes)

    def _write(self, events: Sequence[Event], changes: ReadModelChanges) -> int:
        records = seal(events, self.partition, self._head_seq, self._head_hash)
        write_batch(self._writer, records, changes)
        if records:
            self._head_seq = records[-1].seq
            self._head_hash = records[-1].hash
        return self._head_seq

    def records(self, after_seq: int = 0) -> Iterator[JournalRecord]:
        cursor = self._reader.execute(
            "SELECT partition, seq, ts, stream, type, version, payload, prev_hash, hash "
            "FROM journal WHERE partition = ? AND seq > ? ORDER BY seq",
            (self.partition, after_seq),
        )
        while rows := cursor.fetchmany(2048):
            for r in rows:
                yield journal_record(r)

    def events(self) -> Iterator[Event]:
        return (decode(r.type, r.version, r.payload) for r in self.records())

    async def records_after(self, after_seq: int = 0) -> AsyncIterator[JournalRecord]:
        """The records after `after_seq`, a page at a time (the file is local: each page is
        read in-line, between the event loop's other work)."""
        seq = after_seq
        while True:
            page = self._reader.execute(
                "SELECT partition, seq, ts, stream, type, version, payload, prev_hash, hash "
                "FROM journal WHERE partition = ? AND seq > ? ORDER BY seq LIMIT ?",
                (self.partition, seq, _PAGE),
            ).fetchall()
            for r in page:
                yield journal_record(r)
            if len(page) < _PAGE:
                return
            seq = page[-1]["seq"]
            await asyncio.sleep(0)

    async def outbox_cursor(self) -> int:
        """The last seq the event relay has had confirmed (0: none)."""
        row = self._reader.execute(
            "SELECT seq FROM outbox_cursor WHERE partition = ?", (self.partition,)
        ).fetchone()
        return 0 if row is None else int(row["seq"])

    async def advance_outbox_cursor(self, seq: int, updated_ts: int) -> None:
        """Move the relay's cursor to `seq`; a lower seq than the stored one changes nothing."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(
            self._executor, write_outbox_cursor, self._writer, self.partition, seq, updated_ts
        )

    def count(self) -> int:
        row = self._reader.execute(
            "SELECT count(*) FROM journal WHERE partition = ?", (self.partition,)
        ).fetchone()
        return int(row[0])

    async def close(self) -> None:
        self._executor.shutdown(wait=True)
        self._writer.close()
        self._reader.close()

    # --- ReadModels ------------------------------------------------------------------------

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
