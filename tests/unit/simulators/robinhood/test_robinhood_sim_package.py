"""The package's public surface, its configuration checks, wire formats and command."""

from __future__ import annotations

from decimal import Decimal

import pytest
from click.testing import CliRunner

import ordergate.simulators.robinhood as package
from ordergate.cli.simulate import simulate
from ordergate.domain.errors import InvalidRequest
from ordergate.protocols.robinhood.totp import totp_for
from ordergate.simulators.robinhood import RobinhoodSimConfig, RobinhoodSimulator
from ordergate.simulators.robinhood.wire import fixed, order_number, timestamp


def test_exported_names_are_exactly_the_public_api():
    exported = {name for name in dir(package) if not name.startswith("_")}
    modules = {name for name in exported if type(getattr(package, name)).__name__ == "module"}

    assert set(package.__all__) == exported - modules
    assert {"RobinhoodSimulator", "RobinhoodSimConfig"} <= exported


def test_numbers_and_times_are_written_as_robinhood_writes_them():
    assert order_number(Decimal("1")) == "1.00000000"
    assert order_number(Decimal("189.5")) == "189.50000000"
    assert order_number(None) is None
    assert fixed(Decimal("0.125"), 2) == "0.12"
    assert timestamp(1_710_255_600_123_456_789) == "2024-03-12T15:00:00.123456Z"


@pytest.mark.parametrize(
    "change",
    [
        {"symbols": ("AAPL", "TSLA")},
        {"symbols": ()},
        {"symbols": ("AAPL", "AAPL")},
        {"market": "live"},
        {"mfa": "sms"},
        {"hours": "asia"},
        {"cash": Decimal(-1)},
        {"password": ""},
        {"totp_secret": "not base32!"},
        {"totp_secret": "JBSWY3DP"},
        {"token_lifetime_s": 0},
        {"resting_liquidity": {"TSLA": Decimal(1)}},
        {"resting_liquidity": {"AAPL": Decimal(0)}},
        {"confirm_after_steps": -1},
        {"page_size": 0},
        {"bars_per_second": 0},
        {"account_number": "5RS-1"},
    ],
)
def test_inconsistent_configs_are_refused(change):
    with pytest.raises(InvalidRequest):
        RobinhoodSimConfig(**change)


def test_robinhoods_sixteen_character_secrets_are_accepted():
    assert len(totp_for("JBSWY3DPEHPK3PXP").now()) == 6


def test_the_simulator_points_each_robinhood_origin_at_its_port_once_started():
    sim = RobinhoodSimulator()

    assert set(sim.origins) == {"https://api.robinhood.com", "https://phoenix.robinhood.com"}
    assert sim.position("AAPL") == 0
    assert (sim.cash, sim.buying_power, sim.fired, sim.requests, sim.orders()) == (
        Decimal(100_000),
        Decimal(100_000),
        [],
        [],
        [],
    )
    with pytest.raises(InvalidRequest):
        sim.set_quote("TSLA", bid=Decimal(1), ask=Decimal(2))


@pytest.mark.parametrize("option", [["--cash", "lots"], ["--totp-secret", "short!"]])
def test_the_command_refuses_bad_options_before_serving(option):
    shown = CliRunner().invoke(simulate, ["robinhood", *option])

    assert shown.exit_code == 2
    assert "Invalid value" in shown.output
