"""The runner's parts without an engine: loading a strategy and its configuration, the
hooks a strategy may leave out, and arming on a real-money venue."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from ordergate.domain.errors import ConfigurationError
from ordergate.unified.runner import _arm_if_needed, load_config, load_strategy
from ordergate.unified.strategy import StrategyHooks


def test_load_strategy_from_a_file_and_from_a_module(tmp_path: Path) -> None:
    source = tmp_path / "mine.py"
    source.write_text("class Mine:\n    def on_bar(self, ctx, bars):\n        pass\n")

    loaded = load_strategy(f"{source}:Mine")
    named = load_strategy("ordergate.unified.strategy:StrategyContext", "custom")

    assert (loaded.name, type(loaded.factory()).__name__) == ("Mine", "Mine")
    assert named.name == "custom"


@pytest.mark.parametrize(
    "spec",
    ["no-colon", "missing.module.here:X", "ordergate.unified.strategy:Nothing", "/no/file.py:X"],
)
def test_load_strategy_that_does_not_load_is_a_configuration_error(spec: str) -> None:
    with pytest.raises(ConfigurationError):
        load_strategy(spec)


def test_load_config_reads_toml_and_json(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text("every = 5\n[weights]\nBTCUSDT = 0.5\n")
    (tmp_path / "c.json").write_text('{"every": 5, "weights": {"BTCUSDT": 0.5}}')

    assert load_config(tmp_path / "c.toml") == load_config(tmp_path / "c.json")
    assert load_config(None) == {}


@pytest.mark.parametrize("text", ["[1, 2]", "{not json"])
def test_load_config_not_a_table_is_a_configuration_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "c.json"
    path.write_text(text)
    with pytest.raises(ConfigurationError):
        load_config(path)


def test_strategy_hooks_missing_hooks_do_nothing_and_none_at_all_is_refused() -> None:
    class OnlyStop:
        stopped = False

        def stop(self, ctx: Any) -> None:
            self.stopped = True

    only = OnlyStop()
    hooks = StrategyHooks(only)
    hooks.start(None)  # type: ignore[arg-type]
    hooks.on_bar(None, {})  # type: ignore[arg-type]
    hooks.stop(None)  # type: ignore[arg-type]
    assert only.stopped
    with pytest.raises(ConfigurationError, match="not a strategy"):
        StrategyHooks(object())


class ArmableEngine:
    """The two calls arming makes, on a real-money venue not yet armed."""

    def __init__(self) -> None:
        self.armed_with: list[str] = []

    async def arming_needed(self) -> str | None:
        return None if self.armed_with else "ARM default ON bybit"

    async def arm(self, confirmation: str, actor: str) -> None:
        self.armed_with.append(confirmation)


class Blocking:
    def __init__(self, engine: ArmableEngine) -> None:
        self.engine = engine

    def call(self, function: Callable[[Any], Coroutine[Any, Any, Any]]) -> Any:
        return asyncio.run(function(self.engine))


def test_arming_waits_for_the_exact_confirmation() -> None:
    engine = ArmableEngine()
    lines = iter(["yes\n", "ARM default ON bybit\n"])
    said: list[str] = []

    _arm_if_needed(Blocking(engine), lambda: next(lines), said.append, threading.Event())  # type: ignore[arg-type]

    assert engine.armed_with == ["ARM default ON bybit"]
    assert "ARM default ON bybit" in said[0]
    assert said[1].startswith("that is not the confirmation")


def test_arming_refused_at_the_end_of_input_sends_nothing() -> None:
    engine = ArmableEngine()
    with pytest.raises(ConfigurationError, match="not armed"):
        _arm_if_needed(Blocking(engine), lambda: None, lambda _: None, threading.Event())  # type: ignore[arg-type]
    assert engine.armed_with == []
