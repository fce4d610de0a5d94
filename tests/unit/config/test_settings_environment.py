"""Seed 002's environment block as a drop-in, and the refusal of unknown or conflicting
variables (`ordergate.config.environment`). Settings read the environment only: each
test starts from an environment with no ORDERGATE_/ORDERMANAGER_/OMS_ variable and an
empty working directory (no `.env`), unless it writes one."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from tests.unit.config.seed002_block import seed_002_variables

from ordergate.config.environment import SEED_002, KnownNames, ordergate_name, same_value
from ordergate.config.settings import Settings
from ordergate.domain.errors import ConflictingSettings, UnknownSetting
from ordergate.domain.limits import RiskLimits

D = Decimal


@pytest.fixture(autouse=True)
def clean(isolated_environment: Path) -> Path:
    return isolated_environment


def with_seed_block(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in seed_002_variables().items():
        monkeypatch.setenv(name, value)


def test_seed_002_block_every_variable_honoured(monkeypatch):
    with_seed_block(monkeypatch)

    settings = Settings()

    limits = settings.limits_book().global_limits
    assert limits == RiskLimits(
        max_position_qty=D("1.0"),
        max_gross_exposure=D("50000.0"),
        max_order_size_ratio=D("0.1"),
        unrealized_loss_warning_pct=D("10.0"),
    )
    assert settings.port == 4600
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == "your-api-key-here"
    assert settings.api_key_is_placeholder
    assert (settings.log_level, settings.service_name) == ("INFO", "order-manager")
    retry = settings.venue_retry
    assert (retry.max_attempts, retry.base_delay, retry.max_delay, retry.multiplier) == (
        3,
        1.0,
        30.0,
        2.0,
    )
    watch = settings.watch_policy()
    assert (
        watch.position_snapshot_interval,
        watch.position_validation_interval,
        watch.order_execution_timeout,
    ) == (300.0, 3600.0, 30.0)
    policy = settings.signal_policy
    assert policy.dry_run is False
    assert policy.max_single_order_size == D("10000.0")
    assert policy.enable_order_splitting is False
    assert policy.market_order_confidence_threshold == D("0.9")
    assert policy.market_order_spread_threshold == D("0.1")
    assert policy.limit_order_price_offset_ratio == D("0.5")
    assert policy.cancel_opposite_orders_only is False
    assert policy.cancel_stale_order_timeout == 3600


def test_seed_002_table_names_only_existing_settings_and_limits():
    for name, path in SEED_002.items():
        assert name.startswith("ORDERMANAGER_")
        assert path[0] in Settings.model_fields
        if path[0] == "limits":
            assert path[1] in RiskLimits.__dataclass_fields__
    block = {n for n in seed_002_variables() if n.startswith("ORDERMANAGER_")}
    assert block == set(SEED_002)


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("ORDERMANAGER_MAX_POSITON_SIZE", "ORDERMANAGER_MAX_POSITION_SIZE"),
        ("ORDERGATE_LIMITS__MAX_POSITON_QTY", "ORDERGATE_LIMITS__MAX_POSITION_QTY"),
        ("ORDERGATE_API_RATE_PER_SECON", "ORDERGATE_API_RATE_PER_SECOND"),
        ("ordergate_reconcile__position_mismach", "ORDERGATE_RECONCILE__POSITION_MISMATCH"),
    ],
)
def test_settings_misspelt_variable_refused_with_its_name_and_a_suggestion(
    monkeypatch, typo, meant
):
    monkeypatch.setenv(typo, "1")

    with pytest.raises(UnknownSetting) as refused:
        Settings()

    assert refused.value.name == typo.upper()
    assert refused.value.suggestion == meant
    assert typo.upper() in refused.value.message
    assert refused.value.code == "UNKNOWN_SETTING"


def test_settings_unknown_variable_far_from_any_name_refused_without_suggestion(monkeypatch):
    monkeypatch.setenv("ORDERMANAGER_SOMETHING_ELSE_ENTIRELY", "1")

    with pytest.raises(UnknownSetting) as refused:
        Settings()

    assert refused.value.suggestion is None


def test_settings_unknown_variable_in_dotenv_refused(clean):
    (clean / ".env").write_text("ORDERMANAGER_MAX_EXPOSRE=5\n")

    with pytest.raises(UnknownSetting, match=r"ORDERMANAGER_MAX_EXPOSRE \(in the \.env file\)"):
        Settings()


@pytest.mark.parametrize(
    "name",
    [
        "ORDERGATE_TEST_ENGINE_STORE",
        "ORDERGATE_TEST_PG_DSN",
        "ORDERGATE_TEST_AMQP_URL",
        "ORDERGATE_CLIENT_URL",
        "OMS_SOMETHING_UNRELATED",
        "ORDERGATE_PAPER_BALANCES__BOT7",  # a free-form nested key
        "WS_GATEWAY_HOST",
    ],
)
def test_settings_reserved_and_foreign_variables_ignored(monkeypatch, name):
    monkeypatch.setenv(name, "x" if "BALANCES" not in name else '{"USDT": "5"}')

    Settings()


def test_settings_a_client_key_in_the_environment_never_configures_the_server(monkeypatch):
    """The CLI views' key (`ORDERGATE_CLIENT_KEY`) is the caller's, maybe a read key: a
    server started from the same shell must not accept it as its configured admin key."""
    monkeypatch.setenv("ORDERGATE_CLIENT_KEY", "og_abcdefgh_secret-of-a-read-key")

    assert Settings().api_key is None


def test_settings_every_variable_the_repository_uses_is_known():
    """The ORDERGATE_/OMS_ names used in docs, tests, bench and the Makefile still work."""
    known = KnownNames(Settings)
    for name in [
        "ORDERGATE_PAPER_BARS_PER_SECOND",
        "ORDERGATE_LOG_LEVEL",
        "ORDERGATE_DB",
        "OMS_MIN_QTY",
        "OMS_ALLOWED_SYMBOLS",
        "ORDERGATE_AMQP_URL",
        "ORDERGATE_API_RATE_PER_SECOND",
        "ORDERGATE_ADMIN_PORT",
        "ORDERGATE_LIMITS__MAX_POSITION_QTY",
        "ORDERGATE_LIMITS__ACCOUNT_SUBMIT_RATE",
        "ORDERGATE_RECONCILE__POSITION_MISMATCH",
        "ORDERGATE_RECONCILE__ORDER_UNKNOWN",
        "ORDERGATE_VENUE_RETRY_MAX_ATTEMPTS",
        "ORDERGATE_CCXT_OPTIONS",
        "ORDERGATE_API_BODY_LIMITS",
    ]:
        assert not known.policed(name) or known.known(name), name


def test_settings_both_names_with_different_values_refused(monkeypatch):
    monkeypatch.setenv("ORDERGATE_LIMITS__MAX_POSITION_QTY", "2")
    monkeypatch.setenv("ORDERMANAGER_MAX_POSITION_SIZE", "1")

    with pytest.raises(ConflictingSettings) as refused:
        Settings()

    assert "ORDERGATE_LIMITS__MAX_POSITION_QTY" in refused.value.message
    assert "ORDERMANAGER_MAX_POSITION_SIZE" in refused.value.message


def test_settings_both_names_with_equal_values_accepted(monkeypatch):
    monkeypatch.setenv("ORDERGATE_PORT", "4600")
    monkeypatch.setenv("ORDERMANAGER_PORT", "4600")
    monkeypatch.setenv("ORDERGATE_VENUE_RETRY_BASE_DELAY", "1")
    monkeypatch.setenv("ORDERMANAGER_BYBIT_API_RETRY_BASE_DELAY", "1.0")

    settings = Settings()

    assert (settings.port, settings.venue_retry_base_delay) == (4600, 1.0)


def test_settings_environment_beats_dotenv_across_names(monkeypatch, clean):
    (clean / ".env").write_text("ORDERGATE_PORT=8000\n")
    monkeypatch.setenv("ORDERMANAGER_PORT", "4600")

    assert Settings().port == 4600


def test_settings_flag_beats_both_names(monkeypatch):
    monkeypatch.setenv("ORDERMANAGER_PORT", "4600")

    assert Settings(port=9000).port == 9000


def test_settings_seed_limit_merges_with_other_environment_limits(monkeypatch):
    monkeypatch.setenv("ORDERMANAGER_MAX_POSITION_SIZE", "1.5")
    monkeypatch.setenv("ORDERGATE_LIMITS__MAX_ORDER_QTY", "0.5")

    limits = Settings().limits_book().global_limits

    assert (limits.max_position_qty, limits.max_order_qty) == (D("1.5"), D("0.5"))


def test_settings_placeholder_api_key_refused_on_a_live_venue(monkeypatch):
    monkeypatch.setenv("ORDERMANAGER_API_KEY", "your-api-key-here")

    with pytest.raises(ValueError, match="placeholder"):
        Settings(venue="ccxt", ccxt_live=True, ccxt_exchange="bybit")


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [("1", "1.0", True), ("true", "1", True), ("false", "yes", False), ("INFO", "INFO", True)],
)
def test_same_value_compares_numbers_and_booleans_by_meaning(a, b, same):
    assert same_value(a, b) is same


def test_ordergate_name_of_a_nested_limit():
    assert ordergate_name(("limits", "max_position_qty")) == "ORDERGATE_LIMITS__MAX_POSITION_QTY"
