"""An in-memory journal and read models: same chain and codec as SQLite, no durability.

For tests, benchmarks and throwaway paper sessions. Every record is encoded and chained
exactly as the durable stores do, so it verifies and exports the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import TypeVar

from ordergate.domain.events import Event, OrderSnapshot, SignalReceived
from ordergate.engine.chain import GENESIS, seal
from ordergate.engine.checkpoint import CHECKPOINTS_KEPT, StoredCheckpoint
from ordergate.engine.codec import decode
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
from ordergate.store.paging import order_key

V = TypeVar("V")


class MemoryStore:
    def __init__(self, partition: int = 0) -> None:
        self.partition = partition
        self._records: list[JournalRecord] = []
        self._head_hash = GENESIS
        self._orders: dict[str, OrderView] = {}
        self._fills: list[FillView] = []
        self._positions: dict[tuple[str, str], PositionView] = {}
        self._balances: dict[tuple[str, str], BalanceView] = {}
        self._retired: dict[str, OrderSnapshot] = {}
        self._retired_by_client_id: dict[str, OrderSnapshot] = {}
        self._retired_by_key: dict[tuple[str, str], OrderSnapshot] = {}
        self._retired_signals: dict[str, SignalReceived] = {}
        self._checkpoints: dict[int, StoredCheckpoint] = {}
        self._outbox_cursor = 0

    # --- Journal ---------------------------------------------------------------------------

    async def append(self, events: Sequence[Event], changes: ReadModelChanges) -> int:
        records = seal(events, self.partition, len(self._records), self._head_hash)
        self._records.extend(records)
        if records:
            self._head_hash = records[-1].hash
        self.apply_changes(changes)
        return len(self._records)

    def apply_changes(self, changes: ReadModelChanges) -> None:
        for order in changes.orders:
            self._orders[order.order_id] = order
        self._fills.extend(changes.fills)
        for position in changes.positions:
            self._positions[(position.account, position.symbol)] = position
        for balance in changes.balances:
            self._balances[(balance.account, balance.currency)] = balance
        for retired in changes.retired:
            self._retired[retired.order_id] = retired
            self._retired_by_client_id[retired.client_order_id] = retired
            if retired.idempotency_key is not None:
                self._retired_by_key[(retired.account, retired.idempotency_key)] = retired
        for received in changes.retired_signals:
            self._retired_signals[received.signal_id] = received

    # --- RetiredOrders ---------------------------------------------------------------------

    async def retired_orders(self, client_order_ids: Sequence[str]) -> dict[str, OrderSnapshot]:
        found = self._retired_by_client_id
        return {c: found[c] for c in client_order_ids if c in found}

    async def retired_order_by_key(
        self, account: str, idempotency_key: str
    ) -> OrderSnapshot | None:
        return self._retired_by_key.get((account, idempotency_key))

    # --- RetiredSignals --------------------------------------------------------------------

    async def retired_signal(self, signal_id: str) -> SignalReceived | None:
        return self._retired_signals.get(signal_id)

    # --- Checkpoints -------------------------------------------------------------------------

    async def write_checkpoint(self, seq: int, ts: int, payload: bytes) -> None:
        head_hash = self._records[seq - 1].hash if seq else GENESIS
        self._checkpoints[seq] = StoredCheckpoint(seq, head_hash, ts, payload)
        for old in sorted(self._checkpoints)[:-CHECKPOINTS_KEPT]:
            del self._checkpoints[old]

    async def checkpoint_seqs(self) -> list[int]:
        return sorted(self._checkpoints, reverse=True)

    async def checkpoint(self, seq: int) -> StoredCheckpoint | None:
        return self._checkpoints.get(seq)

    async def record_hash(self, seq: int) -> bytes | None:
        return self._records[seq - 1].hash if 0 < seq <= len(self._records) else None

    def records(self, after_seq: int = 0) -> Iterator[JournalRecord]:
        return iter(self._records[after_seq:])

    def events(self) -> Iterator[Event]:
        return (decode(r.type, r.version, r.payload) for r in self._records)

    async def records_after(self, after_seq: int = 0) -> AsyncIterator[JournalRecord]:
        for record in self._records[after_seq:]:
            yield record

    async def outbox_cursor(self) -> int:
        """The last seq the event relay has had confirmed (0: none)."""
        return self._outbox_cursor

    async def advance_outbox_cursor(self, seq: int, updated_ts: int) -> None:
        """Move the relay's cursor to `seq`; a lower seq than the held one changes nothing."""
        self._outbox_cursor = max(self._outbox_cursor, seq)

    def count(self) -> int:
        return len(self._records)

    @property
    def head_seq(self) -> int:
        return len(self._records)

    async def close(self) -> None:
        return None

    async def snapshot(self) -> ReadModelChanges:
        """Every read-model row, for verification against a replay."""
        return ReadModelChanges(
            orders=sorted(self._orders.values(), key=lambda o: o.order_id),
            fills=list(self._fills),
            positions=[p for _, p in sorted(self._positions.items())],
            balances=[b for _, b in sorted(self._balances.items())],
            retired=[r for _, r in sorted(self._retired.items())],
            retired_signals=[r for _, r in sorted(self._retired_signals.items())],
        )

    # --- ReadModels ------------------------------------------------------------------------

    async def order(self, order_id: str) -> OrderView | None:
        return self._orders.get(order_id)

    async def orders(
        self, where: OrderFilter, page: PageRequest, sort: OrderSort = OrderSort.CREATED_TS
    ) -> Page[OrderView]:
        rows = [o for o in self._orders.values() if _order_matches(o, where)]
        return _page(rows, lambda o: order_key(o, sort), page)

    async def fills(self, where: FillFilter, page: PageRequest) -> Page[FillView]:
        numbered = {id(f): n for n, f in enumerate(self._fills)}
        rows = [f for f in self._fills if _fill_matches(f, where)]
        return _page(rows, lambda f: (f.ts, 0, numbered[id(f)]), page)

    async def positions(
        self, account: str | None = None, symbol: str | None = None
    ) -> list[PositionView]:
        return [
            p
            for key, p in sorted(self._positions.items())
            if (account is None or p.account == account) and (symbol is None or p.symbol == symbol)
        ]

    async def balances(self, account: str | None = None) -> list[BalanceView]:
        return [
            b
            for key, b in sorted(self._balances.items())
            if account is None or b.account == account
        ]


def _order_matches(o: OrderView, w: OrderFilter) -> bool:
    return (
        (w.account is None or o.account == w.account)
        and (w.symbol is None or o.symbol == w.symbol)
        and (w.statuses is None or o.status in w.statuses)
        and (w.strategy is None or o.strategy == w.strategy)
        and (w.side is None or o.side is w.side)
        and (w.since is None or o.created_ts >= w.since)
        and (w.until is None or o.created_ts < w.until)
    )


def _fill_matches(f: FillView, w: FillFilter) -> bool:
    return (
        (w.account is None or f.account == w.account)
        and (w.symbol is None or f.symbol == w.symbol)
        and (w.order_id is None or f.order_id == w.order_id)
        and (w.since is None or f.ts >= w.since)
        and (w.until is None or f.ts < w.until)
    )


def _page(rows: list[V], key: Callable[[V], tuple[int, int, int]], page: PageRequest) -> Page[V]:
    rows.sort(key=key, reverse=page.descending)
    start = page.offset
    if page.cursor is not None:
        c = Cursor.decode(page.cursor)
        after = (c.ts, c.partition, c.number)
        rows = [r for r in rows if (key(r) < after if page.descending else key(r) > after)]
        start = 0
    items = rows[start : start + page.limit]
    more = len(rows) > start + page.limit
    return Page(items, Cursor(*key(items[-1])).encode() if more else None)
