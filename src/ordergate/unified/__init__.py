"""Seed 004's unified OMS interface, over ordergate: code written against it runs
unchanged on any venue ordergate trades.

    from ordergate.unified import OrderSide, OrderType, UnifiedOrderRequest, connect

    engine = connect(engine="paper")            # or "bybit-sim", "ccxt:bybit"
    state = engine.get_account_state()
    result = engine.submit_order(UnifiedOrderRequest("BTCUSDT", OrderSide.BUY, 0.01))
    engine.close_all()
    engine.disconnect()

The vocabulary (`OrderSide`, `OrderType`, the `Unified*` dataclasses and the
`ExecutionEngine` Protocol) is the seed's; `connect` answers an `OrdergateEngine`
(blocking) and `connect_async` an `AsyncOrdergateEngine`. docs/unified.md has the
mapping tables; docs/decisions/0028-unified-interface.md says why.

The vocabulary loads at once; the engines (and the adapters behind them) on first use,
so a strategy module that only names the types stays cheap to import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ordergate.unified.numbers import ExactNumber
from ordergate.unified.vocabulary import (
    ExecutionEngine,
    OrderSide,
    OrderType,
    UnifiedAccountState,
    UnifiedInstrument,
    UnifiedOrderRequest,
    UnifiedOrderResult,
    UnifiedPosition,
    UnifiedQuote,
)

if TYPE_CHECKING:
    from ordergate.unified.blocking import OrdergateEngine, connect
    from ordergate.unified.engine import AsyncOrdergateEngine, connect_async

_LAZY: dict[str, str] = {
    "OrdergateEngine": "ordergate.unified.blocking",
    "connect": "ordergate.unified.blocking",
    "AsyncOrdergateEngine": "ordergate.unified.engine",
    "connect_async": "ordergate.unified.engine",
}

__all__ = [
    "AsyncOrdergateEngine",
    "ExactNumber",
    "ExecutionEngine",
    "OrderSide",
    "OrderType",
    "OrdergateEngine",
    "UnifiedAccountState",
    "UnifiedInstrument",
    "UnifiedOrderRequest",
    "UnifiedOrderResult",
    "UnifiedPosition",
    "UnifiedQuote",
    "connect",
    "connect_async",
]


def __getattr__(name: str) -> Any:
    home = _LAZY.get(name)
    if home is None:
        raise AttributeError(f"module 'ordergate.unified' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
