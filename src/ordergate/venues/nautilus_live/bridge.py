"""The bridge strategy: ordergate's hands and ears inside a NautilusTrader `TradingNode`.

It has no logic. ordergate's venue calls its `place`, `cancel` and `modify` on the event
loop's thread; NautilusTrader tells it about its orders in `on_order_event`, on whatever
thread it happens to call from (the exec engine hands events to the loop, but a timer or
a Rust websocket callback may not), so every event is handed to the loop with
`call_soon_threadsafe` (one FIFO, so their order is kept) and never handled in place.

It claims every instrument it trades (`external_order_claims`): after a restart the new
node's reconciliation gives the orders and positions it finds at the venue to this
strategy instead of to `EXTERNAL`, so their later events reach it too. Events are passed
on only once the strategy runs: what reconciliation generates at start-up describes the
past, which ordergate asks the venue about itself.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.trading.strategy import Strategy

STRATEGY_ID = "ORDERGATE-BRIDGE"


def bridge_config(instrument_ids: list[str]) -> StrategyConfig:
    """The bridge's config: a fixed id, and a claim on every instrument it trades."""
    return StrategyConfig(
        strategy_id=STRATEGY_ID,
        order_id_tag="BRIDGE",
        external_order_claims=[InstrumentId.from_str(i) for i in instrument_ids],
        manage_gtd_expiry=False,
    )


class BridgeStrategy(Strategy):  # type: ignore[misc]  # NautilusTrader's Cython class is untyped
    """Places, cancels and modifies as told; hands every order event to `sink` on `loop`."""

    def __init__(
        self,
        config: StrategyConfig,
        loop: asyncio.AbstractEventLoop,
        sink: Callable[[Any], None],
    ) -> None:
        super().__init__(config)
        self._loop = loop
        self._sink = sink
        self.running = threading.Event()

    def on_start(self) -> None:
        self.running.set()

    def on_stop(self) -> None:
        self.running.clear()

    def on_order_event(self, event: Any) -> None:
        if self.running.is_set() and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._sink, event)

    # --- requests, from the loop's thread --------------------------------------------------

    def place(self, order: Any) -> None:
        self.submit_order(order)

    def cancel(self, order: Any) -> None:
        self.cancel_order(order)

    def modify(self, order: Any, quantity: Any, price: Any, trigger_price: Any) -> None:
        self.modify_order(order, quantity=quantity, price=price, trigger_price=trigger_price)
