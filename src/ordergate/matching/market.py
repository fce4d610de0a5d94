"""A paper market described by a TOML file: instruments, execution rules and data files.

The file looks like this (paths are relative to the TOML file; decimals are best
written as strings, so that no float ever holds them)::

    [feed]
    align_start = true          # shift every series to start at one common time
    loop = true                 # replay again, later, when the data end

    [instruments.BTCUSDT]
    base_currency = "BTC"
    quote_currency = "USDT"
    tick_size = "0.1"
    lot_step = "0.001"
    min_qty = "0.001"
    min_notional = "5"          # optional, like max_qty, contract_size, margin_rate,
    taker_fee_rate = "0.00055"  # maker_fee_rate, slippage_ticks, max_passive_qty_per_step
    bars = "btcusdt.csv.gz"     # or bid_bars + ask_bars, or quotes; bar_interval_seconds

`load_demo_market()` loads the demo bundled with the package (`data/demo.toml`).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.instruments import Instrument
from ordergate.matching.feed import ReplayFeed
from ordergate.matching.marketdata import (
    NS_PER_SECOND,
    MarketDataError,
    PriceSeries,
    load_bar_series,
    load_bid_ask_bar_series,
    load_quote_series,
)
from ordergate.matching.rules import ExecutionRules

DEMO_MARKET_FILE = "demo.toml"
_REQUIRED = ("base_currency", "quote_currency", "tick_size", "lot_step", "min_qty")
_DECIMALS = (
    "tick_size",
    "lot_step",
    "min_qty",
    "min_notional",
    "max_qty",
    "contract_size",
    "margin_rate",
    "maker_fee_rate",
    "taker_fee_rate",
)
_DATA_KEYS = ("bars", "bid_bars", "ask_bars", "quotes", "bar_interval_seconds")
_RULE_KEYS = ("slippage_ticks", "max_passive_qty_per_step")
_KNOWN = frozenset(("base_currency", "quote_currency", *_DECIMALS, *_DATA_KEYS, *_RULE_KEYS))


@dataclass(frozen=True, slots=True)
class PaperMarket:
    """What a paper venue trades: instruments (by symbol), their fill rules, and the feed."""

    instruments: tuple[Instrument, ...]
    rules: Mapping[str, ExecutionRules]
    feed: ReplayFeed


def load_market(
    path: str | os.PathLike[str],
    *,
    align_start: bool | None = None,
    loop: bool | None = None,
    symbols: Collection[str] | None = None,
) -> PaperMarket:
    """Load a market TOML file; `align_start` / `loop` override its `[feed]` settings.

    `symbols` loads only those instruments (and only their data files), so a venue that
    trades a subset replays it without the others' gaps and loop span.
    """
    spec = Path(path)
    return _load(spec, spec.parent, align_start=align_start, loop=loop, symbols=symbols)


def load_demo_market(
    *,
    align_start: bool | None = None,
    loop: bool | None = None,
    symbols: Collection[str] | None = None,
) -> PaperMarket:
    """Load the demo bundled with the package: EURUSD, GBPUSD and BTCUSDT, a few days each."""
    data = files("ordergate.matching").joinpath("data")
    return _load(
        data.joinpath(DEMO_MARKET_FILE), data, align_start=align_start, loop=loop, symbols=symbols
    )


def _load(
    spec: Traversable,
    base: Traversable,
    *,
    align_start: bool | None,
    loop: bool | None,
    symbols: Collection[str] | None,
) -> PaperMarket:
    try:
        with spec.open("rb") as stream:
            document = tomllib.load(stream)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MarketDataError(f"cannot read market file {spec.name}: {exc}") from exc
    feed_options = _table(document, "feed", spec.name)
    tables = _table(document, "instruments", spec.name)
    if not tables:
        raise MarketDataError(f"{spec.name}: no [instruments.<SYMBOL>] tables")
    if symbols is not None:
        missing = sorted(set(symbols) - set(tables))
        if missing:
            raise MarketDataError(f"{spec.name}: no instruments {missing}")
        tables = {symbol: tables[symbol] for symbol in symbols}
    instruments: list[Instrument] = []
    rules: dict[str, ExecutionRules] = {}
    series: dict[str, PriceSeries] = {}
    for symbol in sorted(tables):
        table = _table(tables, symbol, spec.name)
        where = f"{spec.name} [instruments.{symbol}]"
        unknown = sorted(set(table) - _KNOWN)
        if unknown:
            raise MarketDataError(f"{where}: unknown keys {unknown}")
        try:
            instruments.append(_instrument(symbol, table, where))
            rules[symbol] = _rules(table, where)
        except InvalidRequest as exc:
            raise MarketDataError(f"{where}: {exc.message}") from exc
        series[symbol] = _series(table, base, where)
    feed = ReplayFeed(
        series,
        align_start=_flag(feed_options, "align_start", align_start),
        loop=_flag(feed_options, "loop", loop),
    )
    return PaperMarket(tuple(instruments), rules, feed)


def _instrument(symbol: str, table: Mapping[str, Any], where: str) -> Instrument:
    missing = [key for key in _REQUIRED if key not in table]
    if missing:
        raise MarketDataError(f"{where}: missing {missing}")
    decimals = {key: _decimal(table[key], key, where) for key in _DECIMALS if key in table}
    return Instrument(
        symbol=symbol,
        base_currency=str(table["base_currency"]),
        quote_currency=str(table["quote_currency"]),
        **decimals,
    )


def _rules(table: Mapping[str, Any], where: str) -> ExecutionRules:
    slippage = table.get("slippage_ticks", 0)
    if not isinstance(slippage, int) or isinstance(slippage, bool):
        raise MarketDataError(f"{where}: slippage_ticks must be an integer")
    cap = table.get("max_passive_qty_per_step")
    return ExecutionRules(
        slippage_ticks=slippage,
        max_passive_qty_per_step=None
        if cap is None
        else _decimal(cap, "max_passive_qty_per_step", where),
    )


def _series(table: Mapping[str, Any], base: Traversable, where: str) -> PriceSeries:
    seconds = table.get("bar_interval_seconds")
    if seconds is not None and (not isinstance(seconds, int) or seconds <= 0):
        raise MarketDataError(f"{where}: bar_interval_seconds must be a positive integer")
    interval = None if seconds is None else seconds * NS_PER_SECOND
    sources = tuple(key for key in ("bars", "bid_bars", "ask_bars", "quotes") if key in table)
    if sources == ("bars",):
        return load_bar_series(base.joinpath(str(table["bars"])), interval_ns=interval)
    if sources == ("bid_bars", "ask_bars"):
        bid = base.joinpath(str(table["bid_bars"]))
        ask = base.joinpath(str(table["ask_bars"]))
        return load_bid_ask_bar_series(bid, ask, interval_ns=interval)
    if sources == ("quotes",):
        return load_quote_series(base.joinpath(str(table["quotes"])), interval_ns=interval)
    raise MarketDataError(f"{where}: give exactly one of bars, bid_bars + ask_bars, quotes")


def _table(document: Mapping[str, Any], key: str, name: str) -> dict[str, Any]:
    value = document.get(key, {})
    if not isinstance(value, dict):
        raise MarketDataError(f"{name}: {key} must be a table")
    return value


def _flag(options: Mapping[str, Any], key: str, override: bool | None) -> bool:
    if override is not None:
        return override
    value = options.get(key, False)
    if not isinstance(value, bool):
        raise MarketDataError(f"[feed] {key} must be true or false")
    return value


def _decimal(value: object, key: str, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MarketDataError(f"{where}: {key} must be a number")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise MarketDataError(f"{where}: {key} = {value!r} is not a number") from exc
