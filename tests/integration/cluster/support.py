"""What the in-process cluster tests share: a node's settings and waiting on a condition."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from ordergate.config.settings import Settings


def node_settings(accounts: Iterable[str]) -> Settings:
    """A node's settings: a still paper market, the accounts funded, no periodic reconcile."""
    return Settings(
        db=":memory:",  # unused by a node: it journals to PostgreSQL
        paper_bars_per_second=0,
        paper_balances={a: {"USDT": Decimal(100_000)} for a in accounts},
        reconcile_interval_seconds=3600,
    )
