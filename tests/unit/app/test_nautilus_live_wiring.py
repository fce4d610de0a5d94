"""The nautilus-live venue's settings: a simulator's URLs and key by default, a real
Bybit account only with its key, and the URLs derived from the REST one."""

from __future__ import annotations

import pytest

from ordergate.app.nautilus_live_wiring import nautilus_live_config
from ordergate.config.settings import Settings
from ordergate.domain.errors import ConfigurationError
from ordergate.simulators.bybit import DEFAULT_API_KEY, DEFAULT_API_SECRET

pytestmark = pytest.mark.usefixtures("isolated_environment")  # no stray configuration


def test_with_a_simulator_its_urls_and_key_are_the_defaults():
    config = nautilus_live_config(
        Settings(venue="nautilus-live", sim_url="http://127.0.0.1:8765", default_account="main")
    )

    assert (config.http_url, config.ws_private_url, config.ws_trade_url) == (
        "http://127.0.0.1:8765",
        "ws://127.0.0.1:8765/v5/private",
        "ws://127.0.0.1:8765/v5/trade",
    )
    assert (config.api_key, config.api_secret) == (DEFAULT_API_KEY, DEFAULT_API_SECRET)
    assert (config.account, config.symbols, config.live) == ("main", ("BTCUSDT",), False)
    assert config.instrument_ids == {"BTCUSDT-LINEAR.BYBIT": "BTCUSDT"}


def test_a_real_account_takes_its_key_and_derives_the_websockets_from_the_rest_url():
    config = nautilus_live_config(
        Settings(
            venue="nautilus-live",
            nautilus_bybit_api_key="k",
            nautilus_bybit_api_secret="s",
            nautilus_bybit_http_url="https://api.bybit.example/",
            nautilus_symbols="BTCUSDT,ETHUSDT",
            nautilus_live=True,
            venue_retry_max_attempts=4,
        )
    )

    assert (config.ws_private_url, config.ws_trade_url) == (
        "wss://api.bybit.example/v5/private",
        "wss://api.bybit.example/v5/trade",
    )
    assert (config.symbols, config.live, config.max_retries) == (("BTCUSDT", "ETHUSDT"), True, 3)


def test_without_a_url_nautilus_traders_defaults_are_left_in_place():
    config = nautilus_live_config(
        Settings(
            venue="nautilus-live",
            nautilus_bybit_api_key="k",
            nautilus_bybit_api_secret="s",
            nautilus_bybit_testnet=True,
        )
    )

    assert (config.http_url, config.ws_private_url, config.ws_trade_url) == (None, None, None)
    assert config.testnet


def test_a_real_account_without_its_key_is_refused():
    with pytest.raises(ConfigurationError, match="ORDERGATE_NAUTILUS_BYBIT_API_KEY"):
        nautilus_live_config(Settings(venue="nautilus-live", nautilus_bybit_api_key="k"))
