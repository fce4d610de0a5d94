"""Seed 003's stock-trading bot with ordergate as its order gateway.

Seed 003 is a bot whose `TradingBot.execute_trade` runs its safety checks, then had
nowhere to send the order. Here it sends through ordergate's Python API (`Oms`), and
ordergate's journaled events keep the bot's own bookkeeping true:

- `SafetyChecks` refuses a second order for a (symbol, side) that has one pending, from
  before the order is placed; the entry is released exactly once, when ordergate says
  the order ended (filled whole, canceled, rejected, denied or expired), whatever the
  venue did in between. The bot names each order with its own idempotency key, so the
  entry meets the order's events from its first (`OrderInitialized`) on, even those
  journaled before `place` returns.
- `AccountData` caches buying power and positions for a while; every fill invalidates
  both caches, once per fill.
- `TradeLog` writes one JSON line per decision and per outcome, with ordergate's order id.
- Orders are limit orders priced at the configured offset from the touch
  (`price_at_offset`: the risk limits' `limit_offset_bps` or `limit_offset_abs`, per
  strategy if set, within `max_slippage_bps`); a market or stop request comes back
  `DENIED` with `UNSUPPORTED_ORDER_TYPE` on the `robinhood` venue, naming LIMIT.
- `sync` asks ordergate to reconcile with the broker and rebuilds the pending entries
  from ordergate's own record.

Run it against the Robinhood simulator:

    ordergate simulate robinhood --port 8400 &
    ORDERGATE_VENUE=robinhood ORDERGATE_ROBINHOOD_URL=http://127.0.0.1:8400 \\
    ORDERGATE_ROBINHOOD_USERNAME=trader@example.com \\
    ORDERGATE_ROBINHOOD_PASSWORD=correct-horse \\
    ORDERGATE_LIMITS__LIMIT_OFFSET_BPS=5 python examples/stock_bot.py AAPL 1
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from ordergate.domain.events import (
    OrderCanceled,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderRejected,
)
from ordergate.domain.values import OrderType, Side
from ordergate.engine.subscriptions import JournaledEvent
from ordergate.engine.views import OrderView
from ordergate.oms import Oms

_ENDED = (OrderCanceled, OrderRejected, OrderDenied, OrderExpired)


@dataclass
class Pending:
    """One order the bot waits on."""

    symbol: str
    side: Side
    qty: Decimal
    filled: Decimal = Decimal(0)


class SafetyChecks:
    """Duplicate prevention: one pending order per (symbol, side)."""

    def __init__(self) -> None:
        self._placing: dict[str, Pending] = {}  # the bot's idempotency key -> entry
        self._pending: dict[str, Pending] = {}  # ordergate order id -> entry
        self.released: list[str] = []  # order ids, in the order they were released

    def may_trade(self, symbol: str, side: Side) -> bool:
        entries = [*self._placing.values(), *self._pending.values()]
        return not any(p.symbol == symbol and p.side is side for p in entries)

    def hold(self, key: str, entry: Pending) -> None:
        """An order about to be placed under idempotency key `key`."""
        self._placing[key] = entry

    def placed(self, key: str, order_id: str) -> None:
        """ordergate took the order keyed `key` as `order_id` (its first event)."""
        entry = self._placing.pop(key, None)
        if entry is not None:
            self._pending[order_id] = entry

    def not_placed(self, key: str) -> None:
        """The call failed before ordergate took the order."""
        self._placing.pop(key, None)

    def filled(self, order_id: str, qty: Decimal) -> None:
        """A fill of a pending order; the entry goes once the order is filled whole."""
        entry = self._pending.get(order_id)
        if entry is None:
            return
        entry.filled += qty
        if entry.filled >= entry.qty:
            self.release(order_id)

    def release(self, order_id: str) -> None:
        if self._pending.pop(order_id, None) is not None:
            self.released.append(order_id)

    def replace_all(self, entries: dict[str, Pending]) -> None:
        self._pending = dict(entries)

    @property
    def pending(self) -> dict[str, Pending]:
        return {**self._placing, **self._pending}


@dataclass
class AccountData:
    """Buying power and positions with a time-to-live, invalidated after trades."""

    oms: Oms
    ttl_seconds: float = 30.0
    clock: Callable[[], float] = time.monotonic
    invalidations: int = 0
    _buying_power: tuple[float, Decimal] | None = None
    _positions: tuple[float, dict[str, Decimal]] | None = None

    async def buying_power(self) -> Decimal:
        now = self.clock()
        if self._buying_power is None or now - self._buying_power[0] > self.ttl_seconds:
            margins = await self.oms.account()
            free = sum((m.free_margin for m in margins.values()), Decimal(0))
            self._buying_power = (now, free)
        return self._buying_power[1]

    async def positions(self) -> dict[str, Decimal]:
        now = self.clock()
        if self._positions is None or now - self._positions[0] > self.ttl_seconds:
            held = {p.symbol: p.qty for p in await self.oms.positions()}
            self._positions = (now, held)
        return dict(self._positions[1])

    def invalidate(self) -> None:
        self._buying_power = self._positions = None
        self.invalidations += 1


@dataclass
class TradeLog:
    """Seed 003's structured trade log: one JSON object a line."""

    out: IO[str]
    records: list[dict[str, Any]] = field(default_factory=list)

    def write(self, kind: str, **fields: Any) -> None:
        record = {"kind": kind, **{k: str(v) for k, v in fields.items()}}
        self.records.append(record)
        self.out.write(json.dumps(record) + "\n")


class TradingBot:
    """`execute_trade` with ordergate as the gateway; ordergate's events do the rest."""

    def __init__(self, oms: Oms, safety: SafetyChecks, account: AccountData, log: TradeLog) -> None:
        self.oms, self.safety, self.account, self.log = oms, safety, account, log
        self.unsubscribe = oms.subscribe(self._on_event)
        self.idle = asyncio.Event()  # set while nothing is pending
        self.idle.set()

    async def execute_trade(
        self, symbol: str, side: Side, qty: Decimal, strategy: str | None = None
    ) -> OrderView | None:
        """Check, then place a limit at the configured offset; None when a check refused."""
        if not self.safety.may_trade(symbol, side):
            self.log.write("refused", symbol=symbol, side=side, why="an order is pending")
            return None
        if side is Side.SELL and (await self.account.positions()).get(symbol, Decimal(0)) < qty:
            self.log.write("refused", symbol=symbol, side=side, why="not enough shares")
            return None
        key = f"bot-{uuid.uuid4().hex}"
        self.safety.hold(key, Pending(symbol, side, qty))
        self.idle.clear()
        try:
            order = await self.oms.place(
                symbol,
                side,
                qty,
                OrderType.LIMIT,
                price_at_offset=True,
                strategy=strategy,
                idempotency_key=key,
            )
        except Exception:
            self.safety.not_placed(key)
            raise
        self.log.write(
            "placed",
            order_id=order.order_id,
            symbol=symbol,
            side=side,
            qty=qty,
            price=order.price,
            status=order.status,
        )
        return order

    async def sync(self) -> None:
        """Reconcile with the broker through ordergate, then rebuild the pending entries."""
        await self.oms.reconcile()
        pending = await self.oms.pending_orders()
        self.safety.replace_all(
            {o.order_id: Pending(o.symbol, o.side, o.qty, o.filled_qty) for o in pending}
        )
        self.account.invalidate()

    def _on_event(self, item: JournaledEvent) -> None:
        event = item.event
        if isinstance(event, OrderInitialized) and event.idempotency_key is not None:
            self.safety.placed(event.idempotency_key, event.order_id)
        elif isinstance(event, OrderFilled):
            self.safety.filled(event.order_id, event.qty)
            self.account.invalidate()
            self.log.write(
                "filled",
                order_id=event.order_id,
                trade_id=event.trade_id,
                qty=event.qty,
                price=event.price,
            )
        elif isinstance(event, _ENDED):
            self.safety.release(event.order_id)
            self.log.write("ended", order_id=event.order_id, event=type(event).__name__)
        if not self.safety.pending:
            self.idle.set()


async def main(symbol: str, qty: str) -> None:
    async with Oms() as oms:
        bot = TradingBot(oms, SafetyChecks(), AccountData(oms), TradeLog(sys.stdout))
        await bot.sync()
        await bot.execute_trade(symbol, Side.BUY, Decimal(qty), strategy="example")
        await bot.idle.wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:3]))
