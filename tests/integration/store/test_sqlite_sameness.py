"""The quick comparison of SQLite's read models with a replay's (`sameness.py`): rows as
stored render exactly as the replay's rows do, whatever their text holds, so a journal
whose read models match is shown equal without building a view per row; and any
difference answers False, after which verification names it view by view."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.store.scenario import load

from ordergate.domain.events import Event
from ordergate.domain.values import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.replay import verify_store
from ordergate.engine.state import OmsState
from ordergate.engine.views import BalanceView, FillView, OrderView, PositionView, ReadModelChanges
from ordergate.store.sqlite import SqliteStore

# Text as anything may hold it: quotes, backslashes, control characters, non-ASCII (no
# lone surrogates: they are not text a database can store).
texts = st.text(st.characters(codec="utf-8"), max_size=12)
decimals = st.decimals(min_value=-(10**6), max_value=10**6, places=4, allow_nan=False)
maybe = st.none


@st.composite
def orders(draw: st.DrawFn, n: int) -> OrderView:
    return OrderView(
        order_id=f"0-{n}",
        client_order_id=draw(texts),
        account=draw(texts),
        symbol=draw(texts),
        side=draw(st.sampled_from(Side)),
        type=draw(st.sampled_from(OrderType)),
        qty=draw(decimals),
        price=draw(maybe() | decimals),
        stop_price=draw(maybe() | decimals),
        time_in_force=draw(st.sampled_from(TimeInForce)),
        reduce_only=draw(st.booleans()),
        stop_loss=draw(maybe() | decimals),
        take_profit=draw(maybe() | decimals),
        strategy=draw(maybe() | texts),
        idempotency_key=draw(maybe() | texts),
        parent_order_id=draw(maybe() | texts),
        trace_id=draw(maybe() | texts),
        status=draw(st.sampled_from(OrderStatus)),
        filled_qty=draw(decimals),
        overfill_qty=draw(decimals),
        avg_fill_price=draw(maybe() | decimals),
        venue_order_id=draw(maybe() | texts),
        reason_code=draw(maybe() | texts),
        reason=draw(maybe() | texts),
        flags=tuple(draw(st.lists(st.sampled_from(["LATE_FILL", "OVERFILL"]), unique=True))),
        created_ts=draw(st.integers(0, 2**62)),
        updated_ts=draw(st.integers(0, 2**62)),
        signal_id=draw(maybe() | texts),
    )


@st.composite
def changes(draw: st.DrawFn) -> ReadModelChanges:
    count = draw(st.integers(0, 6))
    views = [draw(orders(n)) for n in range(1, count + 1)]
    fills = [
        FillView(
            f"T{k}",
            draw(texts),
            draw(texts),
            draw(texts),
            draw(st.sampled_from(Side)),
            draw(decimals),
            draw(decimals),
            draw(decimals),
            draw(texts),
            draw(st.sampled_from(LiquiditySide)),
            draw(st.integers(0, 2**62)),
        )
        for k in range(draw(st.integers(0, 4)))
    ]
    positions = [
        PositionView(
            f"a{k}",
            draw(texts),
            draw(decimals),
            draw(decimals),
            draw(decimals),
            draw(decimals),
            draw(st.integers(0, 2**62)),
        )
        for k in range(draw(st.integers(0, 3)))
    ]
    balances = [
        BalanceView(f"a{k}", draw(texts), draw(decimals), draw(st.integers(0, 2**62)))
        for k in range(draw(st.integers(0, 3)))
    ]
    return ReadModelChanges(views, fills, positions, balances)


def stored_then_compared(written: ReadModelChanges, expected: ReadModelChanges) -> bool:
    async def run(path: Path) -> bool:
        store = SqliteStore(path)
        try:
            await store.append([], written)
            return await store.read_models_equal(expected)
        finally:
            await store.close()

    with tempfile.TemporaryDirectory() as directory:
        return asyncio.run(run(Path(directory) / "j.db"))


@settings(max_examples=60, deadline=None)
@given(changes())
def test_rows_as_stored_render_as_the_replays_whatever_their_text(written):
    assert stored_then_compared(written, written)


def _other_text(value: str | None) -> str | None:
    return "x" if value is None else None if value == "" else value + "x"


def _other_decimal(value: Decimal | None) -> Decimal | None:
    return Decimal(1) if value is None else value + 1


CHANGES = {
    "client_order_id": lambda v: v + "x",
    "side": lambda v: Side.SELL if v is Side.BUY else Side.BUY,
    "qty": lambda v: v + 1,
    "price": _other_decimal,
    "reduce_only": lambda v: not v,
    "strategy": _other_text,
    "status": lambda v: OrderStatus.FILLED if v is not OrderStatus.FILLED else OrderStatus.NEW,
    "avg_fill_price": _other_decimal,
    "reason": _other_text,
    "flags": lambda v: (*v, "STALE"),
    "updated_ts": lambda v: v + 1,
    "signal_id": _other_text,
}


@settings(max_examples=30, deadline=None)
@given(changes().filter(lambda c: bool(c.orders)), st.data())
def test_any_field_of_any_order_changed_answers_false(written, data):
    index = data.draw(st.integers(0, len(written.orders) - 1))
    name = data.draw(st.sampled_from(sorted(CHANGES)))
    order = written.orders[index]
    altered = msgspec.structs.replace(order, **{name: CHANGES[name](getattr(order, name))})
    expected = ReadModelChanges(
        [*written.orders[:index], altered, *written.orders[index + 1 :]],
        written.fills,
        written.positions,
        written.balances,
    )

    assert not stored_then_compared(written, expected)


async def test_a_session_replayed_is_shown_equal_and_a_changed_row_is_not(tmp_path):
    store = SqliteStore(tmp_path / "j.db")
    try:
        await load(store)
        replayed = OmsState.replay(
            [e async for e in _events(store)], partition=store.partition
        ).take_changes()
        equal = await store.read_models_equal(replayed)
        raw = sqlite3.connect(tmp_path / "j.db", isolation_level=None)
        raw.execute("UPDATE positions SET fees = fees || '0'")  # "0.5" -> "0.50": same value
        raw.close()
        after_edit = await store.read_models_equal(replayed)
        report = await verify_store(store)
    finally:
        await store.close()

    assert equal
    assert not after_edit
    assert report.ok, report.problems  # equal in value: view by view, nothing differs


async def _events(store: SqliteStore) -> AsyncIterator[Event]:
    from ordergate.engine.codec import decode

    async for record in store.records_after(0, check_elsewhere=False):
        yield decode(record.type, record.version, record.payload)
