"""The package's public surface, its ccxt settings, and Bybit's number formats."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

import ordergate.simulators.bybit as package
from ordergate.domain.errors import InvalidRequest
from ordergate.simulators.bybit import SimulatorConfig, ccxt_settings
from ordergate.simulators.bybit.config import BTCUSDT, ETHUSDT
from ordergate.simulators.bybit.formats import fixed, money, plain, price, qty


def test_exported_names_are_exactly_the_public_api():
    exported = {name for name in dir(package) if not name.startswith("_")}
    modules = {name for name in exported if type(getattr(package, name)).__name__ == "module"}

    assert set(package.__all__) == exported - modules
    assert {"BybitSimulator", "SimulatorConfig", "ccxt_settings", "FaultRule"} <= exported


@dataclass
class Endpoints:
    rest_url: str = "http://127.0.0.1:9"
    ws_private_url: str = "ws://127.0.0.1:9/v5/private"
    api_credentials: tuple[str, str] = ("k", "s")


def _strings(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def test_ccxt_settings_point_every_url_at_the_simulator():
    settings = ccxt_settings(Endpoints(), timeout_ms=500)

    urls = list(_strings(settings["urls"]))
    assert len(urls) == 14
    assert all(url.split("://")[1].startswith("127.0.0.1:9") for url in urls)
    assert settings["urls"]["api"]["ws"]["private"]["contract"] == Endpoints.ws_private_url
    assert (settings["apiKey"], settings["secret"], settings["timeout"]) == ("k", "s", 500)
    assert settings["options"]["fetchMarkets"] == {"types": ["linear"]}
    assert settings["has"] == {"fetchCurrencies": False}


def test_numbers_are_written_as_bybit_writes_them():
    assert (qty(BTCUSDT, Decimal("0.01")), qty(ETHUSDT, Decimal(1))) == ("0.010", "1.00")
    assert price(BTCUSDT, Decimal("30000.5")) == "30000.50"
    assert (plain(Decimal("0.0150")), plain(Decimal("1E+3")), plain(Decimal(0))) == (
        "0.015",
        "1000",
        "0",
    )
    assert money(Decimal("1.123456789")) == "1.12345679"
    assert fixed(Decimal("0.1234565"), 6) == "0.123456"


@pytest.mark.parametrize(
    "change",
    [
        {"api_key": ""},
        {"market": "live"},
        {"replay_bars_per_second": 0},
        {"rate_limits": {"/v5/order/create": 0}},
        {"execution_rules": {"DOGEUSDT": None}},
        {"balances": {"USDT": Decimal(-1)}},
        {"instruments": ()},
    ],
)
def test_inconsistent_configs_are_refused(change):
    with pytest.raises(InvalidRequest):
        SimulatorConfig(**change)
