"""Whether PostgreSQL's read models are exactly the replays': the quick answer that
verification asks for before it compares view by view (decision 0027; SQLite's is
`sqlite/sameness.py`).

The rows are read as stored, in key order ("C" collation: code point order, as Python
sorts), each a tuple of its values as asyncpg's binary protocol gives them (text, integers,
booleans, None), and compared with the rows the one mapping that writes them
(`store/rows.py`) makes of the replays' views; retired orders and signals, kept as the JSON
of their record, as those bytes. No view is built per row: asyncpg's tuples beside a
`Decimal` and an enum per value, which is most of what the comparison cost. (Rendering the
tables as JSON on the server, as SQLite does, was slower here: PostgreSQL builds it at
0.26 s for 55,000 orders, against 0.17 s to send the rows.)

As with SQLite, the answer can only cost time: any difference, of content or of form (a
decimal kept as "0.10" where the replay has "0.1"), answers False, and verification then
compares view by view, which names it.
"""

from __future__ import annotations

from typing import Final

from asyncpg import Connection, Record
from asyncpg.pool import PoolConnectionProxy

from ordergate.engine.views import ReadModelChanges
from ordergate.store.rows import replay_rows

_ORDERS: Final = (
    "SELECT order_id, partition_id, number, client_order_id, account, symbol, side, type, "
    "qty, price, stop_price, time_in_force, reduce_only, stop_loss, take_profit, strategy, "
    "idempotency_key, parent_order_id, trace_id, status, filled_qty, overfill_qty, "
    "avg_fill_price, venue_order_id, reason_code, reason, flags, created_ts, updated_ts, "
    "signal_id FROM orders ORDER BY order_id"
)
# Fills in key order: a cluster's partitions append theirs interleaved.
_FILLS: Final = (
    "SELECT trade_id, order_id, account, symbol, side, qty, price, fee, fee_currency, "
    "liquidity, ts FROM fills ORDER BY account, order_id, trade_id"
)
_POSITIONS: Final = (
    "SELECT account, symbol, qty, avg_price, realized_pnl, fees, updated_ts FROM positions "
    "ORDER BY account, symbol"
)
_BALANCES: Final = (
    "SELECT account, currency, balance, updated_ts FROM balances ORDER BY account, currency"
)
_RETIRED: Final = "SELECT order_id, snapshot FROM retired_orders ORDER BY order_id"
_RETIRED_SIGNALS: Final = "SELECT signal_id, record FROM retired_signals ORDER BY signal_id"


async def read_models_equal(
    conn: Connection[Record] | PoolConnectionProxy[Record], expected: ReadModelChanges
) -> bool:
    """Whether the read models hold exactly the rows of `expected` (the replays' every
    change), in the caller's transaction; False on any difference, of content or form."""
    rows = replay_rows(expected)
    for query, replayed in (
        (_ORDERS, rows.orders),
        (_FILLS, rows.fills),
        (_POSITIONS, rows.positions),
        (_BALANCES, rows.balances),
        (_RETIRED, rows.retired),
        (_RETIRED_SIGNALS, rows.retired_signals),
    ):
        if [tuple(r) for r in await conn.fetch(query)] != replayed:
            return False
    return True
