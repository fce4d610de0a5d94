"""Engine names: what each means, and the engines later issues add."""

from __future__ import annotations

from pathlib import Path

import pytest

from ordergate.domain.errors import ConfigurationError
from ordergate.unified.engines import engine_name, engine_settings, settings_for


@pytest.mark.parametrize(
    ("engine", "expected"),
    [
        ("paper", {"venue": "paper"}),
        ("bybit-sim", {"venue": "bybit-sim"}),
        ("nautilus-live", {"venue": "nautilus-live"}),
        ("nautilus", {"venue": "nautilus"}),
        ("NAUTILUS", {"venue": "nautilus"}),
        ("mt5", {"venue": "mt5"}),
        ("MT5", {"venue": "mt5"}),
        ("robinhood", {"venue": "robinhood"}),
        ("PAPER", {"venue": "paper"}),
        ("ccxt:kraken", {"venue": "ccxt", "ccxt_exchange": "kraken"}),
        ("ccxt:binanceusdm", {"venue": "ccxt", "ccxt_exchange": "binanceusdm"}),
    ],
)
def test_engine_settings_of_an_available_engine(engine: str, expected: dict[str, str]) -> None:
    assert engine_settings(engine) == expected


@pytest.mark.parametrize("engine", ["ccxt", "ccxt:", "ccxt:Bad Name", "binance", ""])
def test_engine_settings_of_an_unknown_or_malformed_name_is_refused(engine: str) -> None:
    with pytest.raises(ConfigurationError):
        engine_settings(engine)


def test_settings_for_reads_the_environment_then_the_keywords(
    isolated_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERGATE_API_WAIT_MS", "123")
    monkeypatch.setenv("ORDERGATE_MODE", "dry-run")

    settings = settings_for("ccxt:kraken", db=":memory:")

    assert (settings.venue, settings.ccxt_exchange, settings.db) == ("ccxt", "kraken", ":memory:")
    assert (settings.api_wait_ms, settings.mode) == (123, "dry-run")
    assert settings_for("paper", "shadow").mode == "shadow"
    assert engine_name(settings) == "ccxt:kraken"


def test_settings_for_refuses_a_venue_keyword_that_disagrees(isolated_environment: Path) -> None:
    with pytest.raises(ConfigurationError, match="disagree"):
        settings_for("paper", venue="ccxt")
    assert settings_for("paper", venue="paper").venue == "paper"


def test_settings_for_unusable_settings_are_a_configuration_error(
    isolated_environment: Path,
) -> None:
    with pytest.raises(ConfigurationError, match="unusable settings"):
        settings_for("paper", api_wait_ms=-1)
