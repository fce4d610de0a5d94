"""What `ordergate run` runs: a strategy, and the context it acts through.

A strategy is a plain Python object with any of these methods (each optional):

    start(ctx)              once, before the first bar
    on_quote(ctx, quote)    each new quote of a symbol (`UnifiedQuote`)
    on_bar(ctx, bars)       each closed interval: {symbol: Bar} of the symbols quoted in it
    stop(ctx)               once, at the end (bars done, duration up, a signal, an error)

It acts through `ctx.engine`, seed 004's `ExecutionEngine` over ordergate
(`submit_order`, `close_position`, ...), or by setting target positions with
`ctx.set_targets({symbol: quantity})`. `--strategy module:callable` names a class (or
any callable) that makes it, called with no arguments; its configuration (`--config`)
is `ctx.config`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ordergate.domain.errors import ConfigurationError
from ordergate.unified.bars import Bar
from ordergate.unified.blocking import OrdergateEngine
from ordergate.unified.numbers import NumberIn
from ordergate.unified.vocabulary import UnifiedOrderResult, UnifiedQuote


@dataclass
class StrategyContext:
    """What a strategy sees: the engine, its configuration, its symbols, the run's mode
    and name, and how many bars have closed."""

    engine: OrdergateEngine
    config: Mapping[str, Any]
    symbols: tuple[str, ...]
    mode: str
    name: str
    bar_count: int = 0
    _stop_requested: bool = field(default=False, repr=False)

    def set_targets(self, targets: Mapping[str, NumberIn]) -> list[UnifiedOrderResult]:
        """Take each position to its target ({symbol: signed quantity}, short negative);
        answer the orders placed toward them (`engine.set_targets`)."""
        return self.engine.set_targets(targets)

    def stop(self) -> None:
        """Ask the runner to end the run once this callback returns."""
        self._stop_requested = True

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested


class Strategy(Protocol):
    """The whole protocol; a strategy implements any part of it (see the module)."""

    def start(self, ctx: StrategyContext) -> None: ...

    def on_quote(self, ctx: StrategyContext, quote: UnifiedQuote) -> None: ...

    def on_bar(self, ctx: StrategyContext, bars: Mapping[str, Bar]) -> None: ...

    def stop(self, ctx: StrategyContext) -> None: ...


class StrategyHooks:
    """A strategy's methods, those it has; the missing ones do nothing."""

    def __init__(self, strategy: object) -> None:
        self.strategy = strategy
        hooks = ("start", "on_quote", "on_bar", "stop")
        if not any(callable(getattr(strategy, name, None)) for name in hooks):
            raise ConfigurationError(
                f"{type(strategy).__name__} has none of {', '.join(hooks)}: not a strategy"
            )

    def start(self, ctx: StrategyContext) -> None:
        if (hook := getattr(self.strategy, "start", None)) is not None:
            hook(ctx)

    def on_quote(self, ctx: StrategyContext, quote: UnifiedQuote) -> None:
        if (hook := getattr(self.strategy, "on_quote", None)) is not None:
            hook(ctx, quote)

    def on_bar(self, ctx: StrategyContext, bars: Mapping[str, Bar]) -> None:
        if (hook := getattr(self.strategy, "on_bar", None)) is not None:
            hook(ctx, bars)

    def stop(self, ctx: StrategyContext) -> None:
        if (hook := getattr(self.strategy, "stop", None)) is not None:
            hook(ctx)

    @property
    def wants_quotes(self) -> bool:
        return getattr(self.strategy, "on_quote", None) is not None
