"""Which venue `serve` opens: a ccxt venue refuses to start half-configured."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ordergate.app.venue_selection import open_venue
from ordergate.config.settings import Settings
from ordergate.domain.errors import InvalidRequest
from ordergate.engine.state import OmsState

pytestmark = pytest.mark.usefixtures("isolated_environment")  # no stray configuration


CCXT = {"venue": "ccxt", "ccxt_exchange": "bybit", "ccxt_symbols": "BTCUSDT"}
KEYS = {"ccxt_api_key": "k", "ccxt_api_secret": "s"}


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"venue": "ccxt", **KEYS}, "ORDERGATE_CCXT_EXCHANGE"),
        ({**CCXT, "ccxt_symbols": "", **KEYS}, "ORDERGATE_CCXT_SYMBOLS"),
        ({**CCXT, "ccxt_api_key": "k"}, "ORDERGATE_CCXT_API_SECRET"),
        ({**CCXT, **KEYS, "ccxt_live": True, "ccxt_sandbox": True}, "exclude each other"),
    ],
)
async def test_a_ccxt_venue_missing_what_it_needs_is_refused_before_connecting(fields, complaint):
    with pytest.raises(InvalidRequest, match=complaint):
        await open_venue(Settings(**fields), OmsState(), session="s0")


def test_ccxt_symbols_are_read_comma_separated(monkeypatch):
    monkeypatch.setenv("ORDERGATE_CCXT_SYMBOLS", " BTCUSDT, ETHUSDT ,")

    assert Settings().ccxt_symbols == ["BTCUSDT", "ETHUSDT"]


def test_retry_settings_become_the_venue_retry_policy(monkeypatch):
    monkeypatch.setenv("ORDERGATE_VENUE_RETRY_MAX_ATTEMPTS", "5")
    monkeypatch.setenv("ORDERGATE_VENUE_RETRY_BASE_DELAY", "0.5")
    monkeypatch.setenv("ORDERGATE_VENUE_RETRY_MAX_DELAY", "8")
    monkeypatch.setenv("ORDERGATE_VENUE_RETRY_MULTIPLIER", "3")

    policy = Settings().venue_retry

    assert (policy.max_attempts, policy.base_delay, policy.max_delay, policy.multiplier) == (
        5,
        0.5,
        8.0,
        3.0,
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"sim_bars_per_second": -1},
        {"venue_retry_max_attempts": 0},
        {"venue_retry_multiplier": 0.5},
        {"venue_max_payload_bytes": 1023},
        {"venue_max_payload_bytes": 1024**3 + 1},
        {"venue": "binance"},  # a ccxt exchange is named by ORDERGATE_CCXT_EXCHANGE
    ],
)
def test_impossible_venue_settings_are_refused(fields):
    with pytest.raises(ValidationError):
        Settings(**fields)


def test_the_venue_payload_limit_defaults_to_32_mib_and_is_read_from_the_environment(
    monkeypatch,
):
    assert Settings().venue_max_payload_bytes == 32 * 1024 * 1024
    monkeypatch.setenv("ORDERGATE_VENUE_MAX_PAYLOAD_BYTES", "65536")

    assert Settings().venue_max_payload_bytes == 65_536


def test_a_still_simulated_market_is_allowed():
    assert Settings(venue="bybit-sim", sim_bars_per_second=0).sim_bars_per_second == 0
