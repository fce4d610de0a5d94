"""The unified runner: a strategy over seed 004's interface, on any engine, in any mode.

    run_strategy(settings, load_strategy("examples/rebalance.py:Rebalancer"), options)

It connects an `OrdergateEngine` (the whole ordergate: risk, gates, journal), waits for
arming on a real-money venue as `serve` does, then feeds the strategy quotes and bars
until `--bars` bars have closed, `--duration` seconds have passed, the strategy asks to
stop, the paper data ends, or `stop` is set (SIGINT/SIGTERM in the CLI). The strategy's
`stop` is called and the engine disconnected however the run ends.

A held paper market (`paper_bars_per_second = 0`, not shadow) is stepped by the runner,
one feed step (a one-minute bar of the data) per turn, and the engine settled before the
strategy looks: the same run gives the same orders. Any other market moves by itself
and is polled every `poll_interval` seconds.

`mode` is the settings': `live` sends, `shadow` fills in a paper book fed by the venue's
quotes, `dry-run` journals each decision and its risk verdict and sends nothing.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
import threading
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ordergate.config.settings import Settings
from ordergate.domain.errors import ConfigurationError
from ordergate.unified.bars import BarBuilder
from ordergate.unified.blocking import OrdergateEngine
from ordergate.unified.engines import engine_name
from ordergate.unified.strategy import StrategyContext, StrategyHooks
from ordergate.unified.vocabulary import UnifiedQuote

ARMING_ACTOR = "ordergate run (operator at the console)"


@dataclass(frozen=True, slots=True)
class LoadedStrategy:
    """A strategy's factory and the name its orders carry."""

    name: str
    factory: Callable[[], object]


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How long to run, on what, and how the strategy is configured."""

    config: Mapping[str, Any] = field(default_factory=dict)
    symbols: tuple[str, ...] | None = None  # None: the config's `symbols`, else every one
    bar_seconds: float = 60.0
    bars: int | None = None
    duration: float | None = None
    poll_interval: float = 0.5


@dataclass(frozen=True, slots=True)
class RunSummary:
    """How a run ended: bars closed, why it stopped, and its strategy's orders by
    ordergate status (as journaled)."""

    strategy: str
    mode: str
    engine: str
    db: str
    bars: int
    stopped_by: str
    orders: Mapping[str, int]


def load_strategy(spec: str, name: str | None = None) -> LoadedStrategy:
    """Load `module:callable` (a module path, or a file `path/to/file.py:callable`).

    The orders carry `name`, by default the callable's own name. Raise
    `ConfigurationError` for a spec that does not load.
    """
    where, _, attribute = spec.rpartition(":")
    if not where or not attribute:
        raise ConfigurationError(f"--strategy takes module:callable, got {spec!r}")
    try:
        if where.endswith(".py") or "/" in where:
            module = _module_from_file(Path(where))
        else:
            module = importlib.import_module(where)
    except (ImportError, OSError, SyntaxError) as exc:
        raise ConfigurationError(f"cannot load {where!r}: {exc}") from exc
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise ConfigurationError(f"{where!r} has no callable {attribute!r}")
    return LoadedStrategy(name or attribute, factory)


def _module_from_file(path: Path) -> Any:
    if not path.is_file():
        raise ConfigurationError(f"no strategy file {str(path)!r}")
    module_name = f"ordergate_strategy_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConfigurationError(f"cannot load {str(path)!r} as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look their module up
    spec.loader.exec_module(module)
    return module


def load_config(path: Path | None) -> dict[str, Any]:
    """The strategy's configuration from a TOML or JSON file (empty without one)."""
    if path is None:
        return {}
    try:
        text = path.read_text()
        loaded: Any = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read the strategy's config {str(path)!r}: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ConfigurationError(f"the strategy's config {str(path)!r} is not a table")
    return loaded


def run_strategy(
    settings: Settings,
    strategy: LoadedStrategy,
    options: RunOptions,
    *,
    stop: threading.Event | None = None,
    confirm: Callable[[], str | None] | None = None,
    say: Callable[[str], None] = print,
) -> RunSummary:
    """Run `strategy` on the engine `settings` name until the run ends (see the module).

    `confirm` reads one line from the operator (None at the end of input) when a live
    venue must be armed; `say` tells the operator what the run is doing.
    """
    stop = stop or threading.Event()
    engine = OrdergateEngine(settings, strategy=strategy.name)
    engine.connect()
    try:
        _arm_if_needed(engine, confirm, say, stop)
        symbols = _symbols(engine, options)
        ctx = StrategyContext(engine, options.config, symbols, settings.mode, strategy.name)
        hooks = StrategyHooks(strategy.factory())
        stopped_by = _drive(engine, hooks, ctx, options, stop)
        return RunSummary(
            strategy=strategy.name,
            mode=settings.mode,
            engine=engine_name(settings),
            db=settings.db,
            bars=ctx.bar_count,
            stopped_by=stopped_by,
            orders=_orders_by_status(engine, strategy.name),
        )
    finally:
        engine.disconnect()


def _drive(
    engine: OrdergateEngine,
    hooks: StrategyHooks,
    ctx: StrategyContext,
    options: RunOptions,
    stop: threading.Event,
) -> str:
    """Start the strategy, feed it until the run ends, stop it; answer why it ended."""
    builder = BarBuilder(options.bar_seconds)
    seen: dict[str, UnifiedQuote] = {}
    started = time.monotonic()
    hooks.start(ctx)
    try:
        while True:
            # A bar closes when the market is in a later interval: every bar is whole.
            closed = builder.advance(engine.market_time_ns())
            if closed:
                ctx.bar_count += 1
                hooks.on_bar(ctx, closed)
                if options.bars is not None and ctx.bar_count >= options.bars:
                    return "bars"
            for symbol, quote in engine.get_quotes(ctx.symbols).items():
                if seen.get(symbol) == quote:
                    continue
                seen[symbol] = quote
                builder.add(quote)
                hooks.on_quote(ctx, quote)
            if stop.is_set():
                return "signal"
            if ctx.stop_requested:
                return "strategy"
            if options.duration is not None and time.monotonic() - started >= options.duration:
                return "duration"
            stepped = engine.step_market()
            if stepped is False:
                return "end of data"
            if stepped is None and stop.wait(options.poll_interval):
                return "signal"
    finally:
        hooks.stop(ctx)


def _arm_if_needed(
    engine: OrdergateEngine,
    confirm: Callable[[], str | None] | None,
    say: Callable[[str], None],
    stop: threading.Event,
) -> None:
    """On a real-money venue whose account is not armed, ask the operator for the exact
    confirmation and arm with it, as `POST /v1/admin/arm` does under `serve`."""
    expected = engine.call(lambda e: e.arming_needed())
    if expected is None:
        return
    say(
        f"live trading on this venue is not armed. To arm it, type exactly:\n  {expected}\n"
        "(end of input, or a signal, stops the run with nothing sent)"
    )
    while not stop.is_set():
        line = None if confirm is None else confirm()
        if line is None:
            break
        if line.strip() == expected:
            engine.call(lambda e: e.arm(expected, ARMING_ACTOR))
            say(f"armed: {expected}")
            return
        say(f"that is not the confirmation; type exactly: {expected}")
    raise ConfigurationError("live trading was not armed; nothing was sent")


def _symbols(engine: OrdergateEngine, options: RunOptions) -> tuple[str, ...]:
    known = engine.symbols()
    configured = options.symbols or options.config.get("symbols")
    if configured is None:
        return tuple(known)
    symbols = tuple(str(s) for s in configured)
    unknown = sorted(set(symbols) - set(known))
    if unknown:
        raise ConfigurationError(
            f"symbols not traded on this venue: {', '.join(unknown)} (it has {', '.join(known)})"
        )
    return symbols


def _orders_by_status(engine: OrdergateEngine, strategy: str) -> dict[str, int]:
    """The strategy's orders (up to the listing's page) counted by ordergate status."""
    page = engine.call(lambda e: e.oms.orders(strategy=strategy, limit=1000))
    return dict(sorted(Counter(str(o.status) for o in page.items).items()))
