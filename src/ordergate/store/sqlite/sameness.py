"""Whether the read models SQLite holds are exactly a replay's: the quick answer that
verification asks for before it compares view by view.

Comparing view by view builds a view of every stored row (a `Decimal` per number, an enum
per status) and looks each up by its key: ten seconds of a 19-second verification of a
journal of 220,000 orders. Here SQLite renders each table in C as one text (the JSON
array of each row, in key order, as `json_array` writes it) and the replay's rows, made by
the one mapping that writes them (`store/rows.py`), are rendered alike by msgspec, in one
call; equal texts are equal rows, column for column, as stored.

The answer can only cost time, never hide a difference: anything that renders apart (a
real difference, or one of rendering alone: a decimal kept as "0.010" that the replay
holds as "0.01", a row order a store chose) answers False, and verification then compares
view by view, which names what differs.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Final

import msgspec

from ordergate.engine.views import ReadModelChanges
from ordergate.store.rows import balance_row, fill_row, order_row, position_row

_ORDER_COLUMNS: Final = (
    "order_id, partition, number, client_order_id, account, symbol, side, type, qty, price, "
    "stop_price, time_in_force, "
    # SQLite keeps a bool as the integer 0 or 1; the row carries Python's bool.
    "CASE reduce_only WHEN 1 THEN json('true') WHEN 0 THEN json('false') ELSE reduce_only END, "
    "stop_loss, take_profit, strategy, idempotency_key, parent_order_id, trace_id, status, "
    "filled_qty, overfill_qty, avg_fill_price, venue_order_id, reason_code, reason, flags, "
    "created_ts, updated_ts, signal_id"
)
_FILL_COLUMNS: Final = (
    "trade_id, order_id, account, symbol, side, qty, price, fee, fee_currency, liquidity, ts"
)
_POSITION_COLUMNS: Final = "account, symbol, qty, avg_price, realized_pnl, fees, updated_ts"

# Each table as one JSON array of its rows' arrays, in the order the replay's are sorted.
_TABLES: Final = (
    f"SELECT json_group_array(json(r)) FROM (SELECT json_array({_ORDER_COLUMNS}) AS r "
    "FROM orders ORDER BY order_id)",
    f"SELECT json_group_array(json(r)) FROM (SELECT json_array({_FILL_COLUMNS}) AS r "
    "FROM fills ORDER BY fill_no)",
    f"SELECT json_group_array(json(r)) FROM (SELECT json_array({_POSITION_COLUMNS}) AS r "
    "FROM positions ORDER BY account, symbol)",
    "SELECT json_group_array(json(r)) FROM (SELECT json_array(account, currency, balance, "
    "updated_ts) AS r FROM balances ORDER BY account, currency)",
)
# Retired orders and signals are kept whole, as the JSON of their record (the codec's):
# their keys, and their records one per line, in key order.
_RETIRED: Final = (
    "SELECT json_group_array(order_id), CAST(group_concat(snapshot, x'0a') AS BLOB) FROM "
    "(SELECT order_id, snapshot FROM retired_orders ORDER BY order_id)"
)
_RETIRED_SIGNALS: Final = (
    "SELECT json_group_array(signal_id), CAST(group_concat(record, x'0a') AS BLOB) FROM "
    "(SELECT signal_id, record FROM retired_signals ORDER BY signal_id)"
)

_encode = msgspec.json.encode


def read_models_equal(con: sqlite3.Connection, expected: ReadModelChanges) -> bool:
    """Whether the read models hold exactly the rows of `expected` (a replay's every
    change), rendered alike; False on any difference, of content or of rendering, and
    when SQLite cannot render a table (a value JSON cannot hold, such as a BLOB where
    text belongs: the views then say which row)."""
    try:
        tables = [con.execute(query).fetchone()[0].encode() for query in _TABLES]
    except sqlite3.Error:
        return False
    orders = sorted(expected.orders, key=lambda o: o.order_id)
    if tables[0] != _encode([order_row(o) for o in orders]):
        return False
    if tables[1] != _encode([fill_row(f) for f in expected.fills]):
        return False
    positions = sorted(expected.positions, key=lambda p: (p.account, p.symbol))
    if tables[2] != _encode([position_row(p) for p in positions]):
        return False
    balances = sorted(expected.balances, key=lambda b: (b.account, b.currency))
    if tables[3] != _encode([balance_row(b) for b in balances]):
        return False
    # The newest snapshot of an order retired more than once (a recall, then again).
    retired = sorted({r.order_id: r for r in expected.retired}.items())
    if not _same_records(con.execute(_RETIRED).fetchone(), retired):
        return False
    signals = sorted({s.signal_id: s for s in expected.retired_signals}.items())
    return _same_records(con.execute(_RETIRED_SIGNALS).fetchone(), signals)


def _same_records(stored: tuple[str, bytes | None], expected: list[tuple[str, Any]]) -> bool:
    """`stored`: the keys as a JSON array, and the records one per line."""
    keys, records = stored
    return keys.encode() == _encode([k for k, _ in expected]) and (records or b"") == b"\n".join(
        _encode(r) for _, r in expected
    )
