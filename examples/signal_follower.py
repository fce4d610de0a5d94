"""A signal follower: long while a fast moving average of closes is above a slow one.

On each bar it updates both averages of each symbol's closes; when the fast one crosses
above the slow one it buys `qty` (if flat), when it crosses below it closes the
position. It acts through seed 004's own calls: `submit_order` and `close_position`.

    ordergate run --engine paper --strategy examples/signal_follower.py:SignalFollower \\
        --config examples/signal_follower.toml --bars 60

Configuration (TOML or JSON):

    symbols = ["BTCUSDT"]
    qty = { BTCUSDT = 0.01 }   # order size per symbol
    fast = 3                   # bars in the fast average (default 5)
    slow = 8                   # bars in the slow average (default 20)
    close_on_stop = true       # flatten when the run ends (default false)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from decimal import Decimal

from ordergate.unified import OrderSide, UnifiedOrderRequest
from ordergate.unified.bars import Bar
from ordergate.unified.strategy import StrategyContext


class SignalFollower:
    """A moving-average cross, long or flat."""

    def __init__(self) -> None:
        self.fast = 5
        self.slow = 20
        self.qty: dict[str, float] = {}
        self.closes: dict[str, deque[Decimal]] = {}
        self.above: dict[str, bool] = {}
        self.close_on_stop = False

    def start(self, ctx: StrategyContext) -> None:
        self.fast = int(ctx.config.get("fast", 5))
        self.slow = int(ctx.config.get("slow", 20))
        self.qty = {str(s): float(q) for s, q in dict(ctx.config["qty"]).items()}
        self.close_on_stop = bool(ctx.config.get("close_on_stop", False))
        self.closes = {s: deque(maxlen=self.slow) for s in self.qty}

    def on_bar(self, ctx: StrategyContext, bars: Mapping[str, Bar]) -> None:
        for symbol, bar in bars.items():
            closes = self.closes.get(symbol)
            if closes is None:
                continue
            closes.append(bar.close)
            if len(closes) < self.slow:
                continue
            fast = sum(list(closes)[-self.fast :]) / self.fast
            slow = sum(closes) / self.slow
            above = fast > slow
            was_above = self.above.get(symbol)
            self.above[symbol] = above
            if was_above is None or above == was_above:
                continue  # no cross
            if above:
                self._enter(ctx, symbol, bar)
            else:
                ctx.engine.close_position(symbol)

    def stop(self, ctx: StrategyContext) -> None:
        if self.close_on_stop:
            for position in ctx.engine.get_positions():
                if position.symbol in self.qty:
                    ctx.engine.close_position(position.symbol)

    def _enter(self, ctx: StrategyContext, symbol: str, bar: Bar) -> None:
        held = [p for p in ctx.engine.get_positions() if p.symbol == symbol]
        if held:
            return  # already long
        ctx.engine.submit_order(
            UnifiedOrderRequest(
                symbol=symbol,
                side=OrderSide.BUY,
                quantity=self.qty[symbol],
                # One order per cross: a restart that sees this bar again sends the
                # same key, and ordergate answers the order already placed.
                ref_id=f"{ctx.name}-{symbol}-{bar.start_ns}",
            )
        )
