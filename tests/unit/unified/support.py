"""Views as the engine journals them, for the unified interface's unit tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ordergate.domain.values import OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.views import OrderView


def order_view(**changes: Any) -> OrderView:
    """A filled 0.5 EURUSD buy, with `changes` (a status given by name is kept a string,
    as one the engine may not have yet)."""
    fields: dict[str, Any] = {
        "order_id": "o-1",
        "client_order_id": "c-1",
        "account": "default",
        "symbol": "EURUSD",
        "side": Side.BUY,
        "type": OrderType.MARKET,
        "qty": Decimal("0.5"),
        "price": None,
        "stop_price": None,
        "time_in_force": TimeInForce.GTC,
        "reduce_only": False,
        "stop_loss": None,
        "take_profit": None,
        "strategy": None,
        "idempotency_key": "ref-1",
        "parent_order_id": None,
        "trace_id": None,
        "status": OrderStatus.FILLED,
        "filled_qty": Decimal("0.5"),
        "overfill_qty": Decimal(0),
        "avg_fill_price": Decimal("1.0951"),
        "venue_order_id": "v-1",
        "reason_code": None,
        "reason": None,
        "flags": (),
        "created_ts": 1,
        "updated_ts": 2,
    }
    fields.update(changes)
    return OrderView(**fields)
