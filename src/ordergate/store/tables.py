"""The tables every journal store holds (SQLite and PostgreSQL alike), beside its API
keys: what a restore needs empty before it writes (`ordergate import`)."""

from __future__ import annotations

from typing import Final

# (table, what its rows are), in the order a refusal names them.
HELD_TABLES: Final = (
    ("journal", "journal records"),
    ("orders", "orders"),
    ("fills", "fills"),
    ("positions", "positions"),
    ("balances", "balances"),
    ("retired_orders", "retired orders"),
    ("retired_signals", "retired signals"),
    ("checkpoints", "checkpoints"),
    ("outbox_cursor", "relay cursors"),
)
