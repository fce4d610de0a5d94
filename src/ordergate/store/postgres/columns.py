"""The columns of the read-model tables as the append sends them: each name with the
PostgreSQL type of the array its values travel in (`unnest($n::type[])`, see `writes.py`),
in the order of the row tuples of `ordergate.store.rows`.
"""

from __future__ import annotations

from typing import Final

Columns = tuple[tuple[str, str], ...]

ORDER_COLUMNS: Final[Columns] = (
    ("order_id", "text"),
    ("partition_id", "integer"),
    ("number", "bigint"),
    ("client_order_id", "text"),
    ("account", "text"),
    ("symbol", "text"),
    ("side", "text"),
    ("type", "text"),
    ("qty", "text"),
    ("price", "text"),
    ("stop_price", "text"),
    ("time_in_force", "text"),
    ("reduce_only", "boolean"),
    ("stop_loss", "text"),
    ("take_profit", "text"),
    ("strategy", "text"),
    ("idempotency_key", "text"),
    ("parent_order_id", "text"),
    ("trace_id", "text"),
    ("status", "text"),
    ("filled_qty", "text"),
    ("overfill_qty", "text"),
    ("avg_fill_price", "text"),
    ("venue_order_id", "text"),
    ("reason_code", "text"),
    ("reason", "text"),
    ("flags", "text"),
    ("created_ts", "bigint"),
    ("updated_ts", "bigint"),
    ("signal_id", "text"),
)
FILL_COLUMNS: Final[Columns] = (
    ("trade_id", "text"),
    ("order_id", "text"),
    ("account", "text"),
    ("symbol", "text"),
    ("side", "text"),
    ("qty", "text"),
    ("price", "text"),
    ("fee", "text"),
    ("fee_currency", "text"),
    ("liquidity", "text"),
    ("ts", "bigint"),
)
POSITION_COLUMNS: Final[Columns] = (
    ("account", "text"),
    ("symbol", "text"),
    ("qty", "text"),
    ("avg_price", "text"),
    ("realized_pnl", "text"),
    ("fees", "text"),
    ("updated_ts", "bigint"),
)
BALANCE_COLUMNS: Final[Columns] = (
    ("account", "text"),
    ("currency", "text"),
    ("balance", "text"),
    ("updated_ts", "bigint"),
)

RETIRED_SIGNAL_COLUMNS: Final[Columns] = (
    ("signal_id", "text"),
    ("partition_id", "integer"),
    ("account", "text"),
    ("record", "bytea"),
)
RETIRED_COLUMNS: Final[Columns] = (
    ("order_id", "text"),
    ("partition_id", "integer"),
    ("client_order_id", "text"),
    ("account", "text"),
    ("idempotency_key", "text"),
    ("snapshot", "bytea"),
)
