"""A target-weight rebalancer, in the spirit of seed 004's `NautilusRebalanceStrategy`.

Every `every` bars it sizes each symbol's position to its weight of the account's
equity, at the bar's close, and hands ordergate the targets: ordergate works the gaps
(open orders counted as filled, so a slow fill never doubles a position) and rounds them
to each instrument's step. Weights may be negative (short).

    ordergate run --engine paper --strategy examples/rebalance.py:Rebalancer \\
        --config examples/rebalance.toml --bars 30

Configuration (TOML or JSON):

    weights = { BTCUSDT = 0.5, EURUSD = 0.3 }   # fractions of equity, by symbol
    every = 5                                    # rebalance every N bars (default 1)

Equity is the account's in its main currency (`account_currency`); on the paper demo,
whose account holds USD and USDT, weights of USD and USDT instruments are both taken
against it, as if the two were at par: good enough for a demonstration.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal

from ordergate.unified.bars import Bar
from ordergate.unified.strategy import StrategyContext


class Rebalancer:
    """Hold each symbol at its target weight of equity."""

    def __init__(self) -> None:
        self.weights: dict[str, float] = {}
        self.every = 1

    def start(self, ctx: StrategyContext) -> None:
        self.weights = {str(s): float(w) for s, w in dict(ctx.config["weights"]).items()}
        self.every = int(ctx.config.get("every", 1))

    def on_bar(self, ctx: StrategyContext, bars: Mapping[str, Bar]) -> None:
        if (ctx.bar_count - 1) % self.every:
            return
        equity = ctx.engine.get_account_state().equity
        targets: dict[str, Decimal] = {}
        for symbol, weight in self.weights.items():
            bar = bars.get(symbol)
            if bar is None:
                continue  # no price this bar: leave the symbol as it is
            instrument = ctx.engine.get_instrument(symbol)
            # equity * weight is exact: a float weight is read through its shortest repr.
            qty = equity * weight / (bar.close * instrument.contract_size)
            targets[symbol] = qty.quantize(instrument.lot_step, rounding=ROUND_DOWN)
        if targets:
            ctx.set_targets(targets)

    def stop(self, ctx: StrategyContext) -> None:
        """Leave the positions as they are: a rebalancer's book outlives its process."""
