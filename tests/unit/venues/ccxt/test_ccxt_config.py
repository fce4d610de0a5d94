"""The adapter's config: validation, and the ccxt constructor settings it builds."""

from __future__ import annotations

import pytest

from ordergate.domain.errors import InvalidRequest
from ordergate.venues.ccxt.config import CcxtVenueConfig, merged
from ordergate.venues.ccxt.dialects import dialect_for


def config(**changes: object) -> CcxtVenueConfig:
    fields: dict[str, object] = {
        "exchange_id": "bybit",
        "account": "main",
        "symbols": ("BTCUSDT",),
        "market_type": "swap",
        "api_key": "key",
        "api_secret": "secret",
        "live": True,
    }
    fields.update(changes)
    return CcxtVenueConfig(**fields)  # type: ignore[arg-type]


def test_settings_lay_the_dialect_then_the_config_then_overrides():
    cfg = config(
        request_timeout=2.5,
        options={"recvWindow": 7000},
        urls={"api": {"public": "http://a"}},
        overrides={"options": {"recvWindow": 5000}, "enableRateLimit": False, "number": float},
    )
    dialect = dialect_for("bybit")

    settings = cfg.exchange_settings(dialect.constructor_defaults("swap"))

    assert (settings["apiKey"], settings["secret"], settings["timeout"]) == ("key", "secret", 2500)
    options = settings["options"]
    assert options["recvWindow"] == 5000  # overrides last
    assert options["defaultType"] == "swap"
    assert options["fetchMarkets"] == {"types": ["linear"]}
    assert settings["urls"] == {"api": {"public": "http://a"}}
    assert settings["enableRateLimit"] is False
    assert settings["number"] is str  # never overridable: numbers are read as strings
    assert "110072" in settings["exceptions"]["exact"]
    assert "password" not in settings


def test_password_and_uid_go_along_when_set():
    settings = config(password="pw", uid="42").exchange_settings({})

    assert (settings["password"], settings["uid"]) == ("pw", "42")


def test_secrets_stay_out_of_the_repr():
    text = repr(config(api_secret="s3cret", password="pw"))

    assert "s3cret" not in text
    assert "pw" not in text


@pytest.mark.parametrize(
    "changes",
    [
        {"symbols": ()},
        {"market_type": "option"},
        {"exchange_id": ""},
        {"poll_interval": 0},
        {"request_timeout": -1},
        {"max_payload_bytes": 0},
    ],
)
def test_a_config_that_cannot_work_is_refused(changes):
    with pytest.raises(InvalidRequest):
        config(**changes)


def test_merge_is_deep_and_leaves_its_inputs_alone():
    base = {"a": {"b": 1, "c": 2}, "d": 1}
    extra = {"a": {"c": 3}, "e": 4}

    assert merged(base, extra) == {"a": {"b": 1, "c": 3}, "d": 1, "e": 4}
    assert base == {"a": {"b": 1, "c": 2}, "d": 1}
