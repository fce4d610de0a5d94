"""Both stores: the journal chain, verification, and the read-model queries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import msgspec
import pytest
from tests.fakes import BTC, EURUSD
from tests.unit.store.scenario import ORDER_COUNT, Session, load, session_batches

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.values import OrderStatus, Side
from ordergate.engine.chain import GENESIS, check_link
from ordergate.engine.digest import state_digest
from ordergate.engine.queries import FillFilter, OrderFilter, OrderSort, Page, PageRequest
from ordergate.engine.replay import verify_store
from ordergate.engine.views import (
    BalanceView,
    FillView,
    OrderView,
    PositionView,
    ReadModelChanges,
)
from ordergate.store.memory import MemoryStore
from ordergate.store.sqlite import SqliteStore

V = TypeVar("V")
Store = MemoryStore | SqliteStore
S = OrderStatus


def order_key(sort: OrderSort) -> Callable[[OrderView], tuple[int, int, int]]:
    def key(o: OrderView) -> tuple[int, int, int]:
        partition, number = o.order_id.split("-")
        ts = o.created_ts if sort is OrderSort.CREATED_TS else o.updated_ts
        return ts, int(partition), int(number)

    return key


def expected_orders(
    session: Session,
    where: OrderFilter,
    descending: bool = True,
    sort: OrderSort = OrderSort.CREATED_TS,
) -> list[OrderView]:
    rows = [
        o
        for o in session.orders()
        if (where.account is None or o.account == where.account)
        and (where.symbol is None or o.symbol == where.symbol)
        and (where.statuses is None or o.status in where.statuses)
        and (where.strategy is None or o.strategy == where.strategy)
        and (where.side is None or o.side is where.side)
        and (where.since is None or o.created_ts >= where.since)
        and (where.until is None or o.created_ts < where.until)
    ]
    return sorted(rows, key=order_key(sort), reverse=descending)


def expected_fills(session: Session, where: FillFilter, descending: bool = True) -> list[FillView]:
    numbered = [
        (f.ts, n, f)
        for n, f in enumerate(session.fills)
        if (where.account is None or f.account == where.account)
        and (where.symbol is None or f.symbol == where.symbol)
        and (where.order_id is None or f.order_id == where.order_id)
        and (where.since is None or f.ts >= where.since)
        and (where.until is None or f.ts < where.until)
    ]
    numbered.sort(key=lambda t: (t[0], t[1]), reverse=descending)
    return [f for _, _, f in numbered]


async def walk_by_cursor(
    query: Callable[[PageRequest], Awaitable[Page[V]]], limit: int, descending: bool
) -> list[V]:
    rows: list[V] = []
    cursor: str | None = None
    for _ in range(ORDER_COUNT * 4):
        page = await query(PageRequest(limit=limit, cursor=cursor, descending=descending))
        assert len(page.items) <= limit
        rows.extend(page.items)
        if page.next_cursor is None:
            return rows
        assert len(page.items) == limit
        cursor = page.next_cursor
    raise AssertionError("cursor paging did not end")


async def walk_by_offset(
    query: Callable[[PageRequest], Awaitable[Page[V]]], limit: int, descending: bool
) -> list[V]:
    rows: list[V] = []
    offset = 0
    while True:
        page = await query(PageRequest(limit=limit, offset=offset, descending=descending))
        rows.extend(page.items)
        if len(page.items) < limit:
            return rows
        offset += limit


# --- journal ----------------------------------------------------------------------------------


def test_store_records_contiguous_and_chained(store: Store, session: Session):
    records = list(store.records())

    assert [r.seq for r in records] == list(range(1, len(session.events) + 1))
    prev = GENESIS
    for record in records:
        assert record.partition == 0
        prev = check_link(record, prev, record.seq)
    assert store.count() == len(session.events)


def test_store_records_after_seq_starts_after_it(store: Store, session: Session):
    records = list(store.records(after_seq=10))

    assert records[0].seq == 11
    assert len(records) == len(session.events) - 10


def test_store_events_decode_to_appended_events(store: Store, session: Session):
    assert list(store.events()) == session.events


@pytest.mark.parametrize("after", [0, 10, 10_000])
async def test_store_records_after_streams_what_records_returns(
    store: Store, session: Session, after: int
):
    streamed = [record async for record in store.records_after(after)]

    assert streamed == list(store.records(after_seq=after))


async def test_store_outbox_cursor_starts_at_zero_and_never_moves_back(empty_store: Store):
    before = await empty_store.outbox_cursor()
    await empty_store.advance_outbox_cursor(7, 1)
    await empty_store.advance_outbox_cursor(3, 2)  # an older relay's late word

    assert (before, await empty_store.outbox_cursor()) == (0, 7)


async def test_store_append_returns_last_seq(empty_store: Store):
    store = empty_store
    first, second = session_batches()[:2]
    state = Session([]).state
    for event in first:
        state.apply(event)

    assert await store.append(first, state.take_changes()) == len(first)
    for event in second:
        state.apply(event)
    assert await store.append(second, state.take_changes()) == len(first) + len(second)


async def test_verify_store_loaded_store_ok_and_digest_of_live_state(
    store: Store, session: Session
):
    report = await verify_store(store)

    assert report.ok, report.problems
    assert report.events == len(session.events)
    assert report.head_seq == len(session.events)
    assert report.head_hash == list(store.records())[-1].hash.hex()
    assert report.digest == state_digest(session.state)


async def test_verify_store_memory_and_sqlite_same_digest_for_same_events(tmp_path: Path):
    memory = MemoryStore()
    sqlite = SqliteStore(tmp_path / "j.db")
    try:
        await load(memory)
        await load(sqlite)

        memory_report = await verify_store(memory)
        sqlite_report = await verify_store(sqlite)
        sqlite_hashes = [r.hash for r in sqlite.records()]
    finally:
        await sqlite.close()

    assert memory_report.ok
    assert sqlite_report.ok
    assert memory_report.digest == sqlite_report.digest
    assert memory_report.head_hash == sqlite_report.head_hash
    assert [r.hash for r in memory.records()] == sqlite_hashes


async def test_verify_store_empty_store_ok(empty_store: Store):
    store = empty_store
    report = await verify_store(store)

    assert report.ok
    assert report.events == 0
    assert report.head_hash == GENESIS.hex()


# --- read models: single rows -----------------------------------------------------------------


async def test_store_order_returns_committed_view(store: Store, session: Session):
    for order in session.orders():
        assert await store.order(order.order_id) == order
    assert await store.order("0-999") is None


async def test_store_order_keeps_decimal_text_and_flags(store: Store, session: Session):
    view = await store.order("0-3")  # partly filled then canceled

    assert view is not None
    assert view.status is S.CANCELED
    assert str(view.filled_qty) == "0.0025"
    assert str(view.price) == "50003.0"
    assert view.flags == ()
    assert view.idempotency_key == "key-3"
    assert view.trace_id == "trace-3"


@pytest.mark.parametrize(
    ("order_id", "flags"),
    [
        ("0-8", ("LATE_FILL",)),
        ("0-12", ("OVERFILL",)),
        ("0-18", ("FILL_AFTER_CANCEL_REQUEST",)),
    ],
)
async def test_store_order_flags_round_trip(store: Store, session: Session, order_id, flags):
    view = await store.order(order_id)

    assert view is not None
    assert view.flags == flags
    assert view == OrderView.of(session.state.orders[order_id])


async def test_store_snapshot_matches_replayed_rows(store: Store, session: Session):
    snapshot = await store.snapshot()

    assert sorted(snapshot.orders, key=lambda o: o.order_id) == sorted(
        session.orders(), key=lambda o: o.order_id
    )
    assert snapshot.fills == session.fills


async def test_store_positions_filter_by_account_and_symbol(store: Store, session: Session):
    everything = sorted(
        (PositionView.of(p) for p in session.state.book), key=lambda p: (p.account, p.symbol)
    )

    assert await store.positions() == everything
    assert await store.positions(account="a2") == [p for p in everything if p.account == "a2"]
    assert await store.positions(symbol=EURUSD.symbol) == [
        p for p in everything if p.symbol == EURUSD.symbol
    ]
    assert await store.positions("a1", BTC.symbol) == [
        p for p in everything if (p.account, p.symbol) == ("a1", BTC.symbol)
    ]
    assert await store.positions(account="nobody") == []


async def test_store_balances_filter_by_account(store: Store, session: Session):
    everything = [
        b
        for account in sorted(session.state.accounts)
        for b in BalanceView.all_of(session.state.accounts[account])
    ]

    assert await store.balances() == everything
    assert await store.balances("a2") == [b for b in everything if b.account == "a2"]
    assert await store.balances("nobody") == []


# --- read models: order queries ---------------------------------------------------------------

ORDER_FILTERS = {
    "all": OrderFilter(),
    "account": OrderFilter(account="a2"),
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


@pytest.mark.parametrize("name", list(ORDER_FILTERS))
async def test_store_orders_filter_matches_expected_rows(store: Store, session: Session, name):
    where = ORDER_FILTERS[name]

    page = await store.orders(where, PageRequest(limit=1000))

    assert page.items == expected_orders(session, where)
    assert page.next_cursor is None


def test_store_orders_filters_select_something(store: Store, session: Session):
    # Guards the filter table above: each filter but "nothing"/"no-status" selects some
    # rows and leaves some out, so a filter that is ignored would be noticed.
    for name, where in ORDER_FILTERS.items():
        count = len(expected_orders(session, where))
        if name in ("nothing", "no-status"):
            assert count == 0
        elif name != "all":
            assert 0 < count < ORDER_COUNT, name


@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
@pytest.mark.parametrize("limit", [1, 5, 8, 24, 100])
@pytest.mark.parametrize("name", ["all", "account", "statuses", "window"])
async def test_store_orders_cursor_walk_returns_every_row_once_in_order(
    store: Store, session: Session, name, limit, descending
):
    where = ORDER_FILTERS[name]

    rows = await walk_by_cursor(lambda page: store.orders(where, page), limit, descending)

    assert rows == expected_orders(session, where, descending)


@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
@pytest.mark.parametrize("limit", [1, 7, 24])
async def test_store_orders_offset_walk_returns_every_row_once_in_order(
    store: Store, session: Session, limit, descending
):
    where = OrderFilter(account="a1")

    rows = await walk_by_offset(lambda page: store.orders(where, page), limit, descending)

    assert rows == expected_orders(session, where, descending)


@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
async def test_store_orders_sorted_by_updated_ts_cursor_walk(
    store: Store, session: Session, descending
):
    where = OrderFilter()

    rows = await walk_by_cursor(
        lambda page: store.orders(where, page, OrderSort.UPDATED_TS), 5, descending
    )

    assert rows == expected_orders(session, where, descending, OrderSort.UPDATED_TS)
    assert rows != expected_orders(session, where, descending, OrderSort.CREATED_TS)


async def test_store_orders_cursor_wins_over_offset(store: Store, session: Session):
    first = await store.orders(OrderFilter(), PageRequest(limit=5))
    assert first.next_cursor is not None

    second = await store.orders(
        OrderFilter(), PageRequest(limit=5, offset=100, cursor=first.next_cursor)
    )

    assert second.items == expected_orders(session, OrderFilter())[5:10]


async def test_store_orders_last_full_page_has_no_cursor(store: Store, session: Session):
    page = await store.orders(OrderFilter(), PageRequest(limit=ORDER_COUNT))

    assert len(page.items) == ORDER_COUNT
    assert page.next_cursor is None


async def test_store_orders_bad_cursor_raises_invalid_request(store: Store, session: Session):
    with pytest.raises(InvalidRequest) as info:
        await store.orders(OrderFilter(), PageRequest(cursor="not-a-cursor"))

    assert info.value.code == "BAD_CURSOR"


# --- read models: fill queries ----------------------------------------------------------------


FILL_FILTERS = {
    "all": FillFilter(),
    "account": FillFilter(account="a2"),
    "symbol": FillFilter(symbol=BTC.symbol),
    "order": FillFilter(order_id="0-2"),
    "since": FillFilter(since=2_030),
    "until": FillFilter(until=2_030),
    "combined": FillFilter(account="a1", symbol=EURUSD.symbol, since=2_010, until=2_060),
}


@pytest.mark.parametrize("name", list(FILL_FILTERS))
async def test_store_fills_filter_matches_expected_rows(
    store: Store, session: Session, name, request
):
    where = FILL_FILTERS[name]
    expected = expected_fills(session, where)

    page = await store.fills(where, PageRequest(limit=1000))

    assert page.items == expected
    assert expected
    if name != "all":
        assert len(expected) < len(session.fills)


@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
@pytest.mark.parametrize("limit", [1, 3, 100])
@pytest.mark.parametrize("name", ["all", "combined"])
async def test_store_fills_cursor_walk_returns_every_row_once_in_order(
    store: Store, session: Session, name, limit, descending, request
):
    where = FILL_FILTERS[name]

    rows = await walk_by_cursor(lambda page: store.fills(where, page), limit, descending)

    assert rows == expected_fills(session, where, descending)


@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
@pytest.mark.parametrize("limit", [1, 4])
async def test_store_fills_offset_walk_returns_every_row_once_in_order(
    store: Store, session: Session, limit, descending, request
):
    rows = await walk_by_offset(lambda page: store.fills(FillFilter(), page), limit, descending)

    assert rows == expected_fills(session, FillFilter(), descending)


async def test_store_fills_ts_ties_keep_append_order(store: Store, session: Session, request):
    tied = [f for f in session.fills if sum(g.ts == f.ts for g in session.fills) > 1]
    assert tied  # the scenario has ties to break

    page = await store.fills(FillFilter(), PageRequest(limit=1000, descending=False))

    assert [f for f in page.items if f in tied] == tied


# --- read models behind the journal's back (memory) ---------------------------------------------


async def test_verify_store_memory_read_model_changed_reported():
    store = MemoryStore()
    await load(store)
    view = await store.order("0-4")
    assert view is not None

    store.apply_changes(ReadModelChanges(orders=[msgspec.structs.replace(view, status=S.FILLED)]))
    report = await verify_store(store)

    assert not report.ok
    assert report.problems == ["order 0-4: read model differs from the replay"]
