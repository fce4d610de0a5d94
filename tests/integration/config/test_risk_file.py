"""Risk limits from configuration: the TOML file's four levels and `ORDERGATE_LIMITS__*`."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ordergate.config.risk_file import limits_from_mapping, load_limits
from ordergate.config.settings import Settings
from ordergate.domain.errors import InvalidRequest
from ordergate.domain.limits import LimitsBook, Rate, RiskLimits
from ordergate.domain.values import OrderType

D = Decimal

FOUR_LEVELS = """
[limits]
max_order_notional = "250000"
max_position_qty = 5
fat_finger_bps = 75.5
allowed_order_types = "market, limit"
instrument_submit_rate = "5/10"
spam_window_ms = 500
one_pending_order_per_side = false

[limits.accounts.default]
max_gross_exposure = "1000000"
account_cancel_rate = { per_second = 2, burst = 4 }
allowed_symbols = ["BTCUSDT", "ETHUSDT"]

[limits.instruments.BTCUSDT]
max_position_qty = "2"
fat_finger_bps = "50"
max_quote_age_ms = "1500"

[limits.strategies.bot-7]
allowed_order_types = ["LIMIT"]
limit_offset_bps = "5"
instrument_submit_rate = { per_second = "0.5", burst = 3 }
allowed_symbols = "BTCUSDT,  ETHUSDT ,"
one_pending_order_per_side = "yes"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "risk.toml"
    path.write_text(text)
    return path


def test_risk_config_file_with_four_levels_read_into_book(tmp_path):
    book = load_limits(write(tmp_path, FOUR_LEVELS))

    assert book.global_limits == RiskLimits(
        max_order_notional=D("250000"),
        max_position_qty=D("5"),
        fat_finger_bps=D("75.5"),
        allowed_order_types=frozenset({OrderType.MARKET, OrderType.LIMIT}),
        instrument_submit_rate=Rate(D("5"), 10),
        spam_window_ms=500,
        one_pending_order_per_side=False,
    )
    assert book.accounts == {
        "default": RiskLimits(
            max_gross_exposure=D("1000000"),
            account_cancel_rate=Rate(D("2"), 4),
            allowed_symbols=frozenset({"BTCUSDT", "ETHUSDT"}),
        )
    }
    assert book.instruments == {
        "BTCUSDT": RiskLimits(
            max_position_qty=D("2"), fat_finger_bps=D("50"), max_quote_age_ms=1500
        )
    }
    assert book.strategies == {
        "bot-7": RiskLimits(
            allowed_order_types=frozenset({OrderType.LIMIT}),
            limit_offset_bps=D("5"),
            instrument_submit_rate=Rate(D("0.5"), 3),
            allowed_symbols=frozenset({"BTCUSDT", "ETHUSDT"}),
            one_pending_order_per_side=True,
        )
    }


def test_risk_config_levels_resolve_most_specific_first(tmp_path):
    book = load_limits(write(tmp_path, FOUR_LEVELS))

    limits = book.resolve("default", "BTCUSDT", "bot-7")

    assert limits.max_position_qty == D("2")  # instrument over global
    assert limits.fat_finger_bps == D("50")  # instrument over global
    assert limits.max_gross_exposure == D("1000000")  # account
    assert limits.allowed_order_types == frozenset({OrderType.LIMIT})  # strategy
    assert limits.instrument_submit_rate == Rate(D("0.5"), 3)  # strategy over global
    assert limits.max_order_notional == D("250000")  # global, set nowhere else


def test_risk_config_decimal_numbers_keep_their_written_value(tmp_path):
    book = load_limits(write(tmp_path, "[limits]\nlimit_offset_abs = 0.1\nmax_order_qty = 3\n"))

    assert book.global_limits.limit_offset_abs == D("0.1")  # not 0.1000000000000000055...
    assert book.global_limits.max_order_qty == D("3")


def test_risk_config_no_file_gives_no_limits():
    assert load_limits(None) == LimitsBook()


def test_risk_config_file_without_limits_table_gives_no_limits(tmp_path):
    assert load_limits(write(tmp_path, "[other]\nx = 1\n")) == LimitsBook()


def test_risk_config_environment_globals_override_the_files(tmp_path):
    overrides = {"MAX_POSITION_QTY": "3", "fat_finger_bps": "20", "max_order_qty": "1"}

    book = load_limits(write(tmp_path, FOUR_LEVELS), overrides)

    assert book.global_limits.max_position_qty == D("3")
    assert book.global_limits.fat_finger_bps == D("20")
    assert book.global_limits.max_order_qty == D("1")
    assert book.global_limits.max_order_notional == D("250000")  # kept from the file
    # the file's more specific levels still win over the environment's globals
    assert book.resolve("default", "BTCUSDT", None).max_position_qty == D("2")
    assert book.resolve("default", "ETHUSDT", None).max_position_qty == D("3")


def test_risk_config_environment_variables_reach_the_global_limits(tmp_path, monkeypatch):
    monkeypatch.setenv("ORDERGATE_RISK_FILE", str(write(tmp_path, FOUR_LEVELS)))
    monkeypatch.setenv("ORDERGATE_LIMITS__MAX_POSITION_QTY", "3")
    monkeypatch.setenv("ORDERGATE_LIMITS__ACCOUNT_SUBMIT_RATE", "2/4")
    monkeypatch.setenv("ORDERGATE_LIMITS__ALLOWED_ORDER_TYPES", "limit,stop")

    book = Settings(_env_file=None).limits_book()

    assert book.global_limits.max_position_qty == D("3")
    assert book.global_limits.account_submit_rate == Rate(D("2"), 4)
    assert book.global_limits.allowed_order_types == frozenset({OrderType.LIMIT, OrderType.STOP})
    assert book.global_limits.max_order_notional == D("250000")
    assert book.instruments["BTCUSDT"].max_position_qty == D("2")


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("instrument_submit_rate", "5/10", Rate(D(5), 10)),
        ("instrument_submit_rate", {"per_second": "0.25", "burst": 1}, Rate(D("0.25"), 1)),
        ("allowed_symbols", "BTCUSDT, ETHUSDT", frozenset({"BTCUSDT", "ETHUSDT"})),
        ("allowed_symbols", ["BTCUSDT"], frozenset({"BTCUSDT"})),
        ("allowed_order_types", "stop_limit", frozenset({OrderType.STOP_LIMIT})),
        ("one_pending_order_per_side", "1", True),
        ("one_pending_order_per_side", "no", False),
        ("max_slippage_bps", 12, D(12)),
        ("max_slippage_bps", "12.5", D("12.5")),
        ("feed_stale_after_ms", "3000", 3000),
    ],
)
def test_risk_config_each_written_form_parsed(field, value, expected):
    limits = limits_from_mapping({field: value}, "limits")

    assert getattr(limits, field) == expected


# --- refusals name where ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where"),
    [
        pytest.param(
            "[limits]\nmax_postion_qty = 1\n", "limits: unknown limit 'max_postion_qty'", id="typo"
        ),
        pytest.param(
            "[limits.strategies.bot-7]\nfat_finger = 1\n",
            "limits.strategies.bot-7: unknown limit",
            id="unknown-in-strategy",
        ),
        pytest.param(
            '[limits.accounts.a]\nmax_order_qty = "lots"\n',
            "limits.accounts.a.max_order_qty",
            id="not-a-number",
        ),
        pytest.param(
            '[limits]\nfat_finger_bps = "inf"\n', "limits.fat_finger_bps", id="not-finite"
        ),
        pytest.param(
            '[limits.instruments.BTCUSDT]\ninstrument_submit_rate = "5"\n',
            "limits.instruments.BTCUSDT.instrument_submit_rate",
            id="rate-without-burst",
        ),
        pytest.param(
            "[limits]\naccount_submit_rate = { per_second = 1 }\n",
            "limits.account_submit_rate",
            id="rate-missing-key",
        ),
        pytest.param(
            '[limits]\naccount_submit_rate = "x/2"\n',
            "limits.account_submit_rate",
            id="rate-not-a-number",
        ),
        pytest.param(
            '[limits.strategies.s]\nallowed_order_types = ["LIMIT", "ICEBERG"]\n',
            "limits.strategies.s.allowed_order_types: unknown order type",
            id="bad-order-type",
        ),
        pytest.param(
            "[limits]\nallowed_symbols = [1, 2]\n", "limits.allowed_symbols", id="symbols-not-names"
        ),
        pytest.param(
            '[limits]\none_pending_order_per_side = "maybe"\n',
            "limits.one_pending_order_per_side",
            id="bad-bool",
        ),
        pytest.param("[limits]\naccounts = 3\n", "limits.accounts must be a table", id="level"),
    ],
)
def test_risk_config_bad_entry_refused_naming_where(tmp_path, text, where):
    with pytest.raises(InvalidRequest) as caught:
        load_limits(write(tmp_path, text))

    assert where in str(caught.value)


def test_risk_config_bad_environment_value_refused_naming_environment(tmp_path):
    with pytest.raises(InvalidRequest, match=r"environment\.max_position_qty"):
        load_limits(None, {"max_position_qty": "five"})


def test_risk_config_unknown_environment_limit_refused():
    with pytest.raises(InvalidRequest, match="environment: unknown limit"):
        load_limits(None, {"max_positions": "5"})


def test_risk_config_missing_file_refused(tmp_path):
    with pytest.raises(InvalidRequest, match="cannot read the risk file"):
        load_limits(tmp_path / "absent.toml")


def test_risk_config_malformed_toml_refused(tmp_path):
    with pytest.raises(InvalidRequest, match="cannot read the risk file"):
        load_limits(write(tmp_path, "[limits\nmax_order_qty = 1\n"))


@pytest.mark.parametrize(
    "text",
    [
        '[limits]\nmax_order_qty = "-1"\n',
        "[limits.instruments.BTCUSDT]\nmax_position_qty = -2\n",
        "[limits.strategies.s]\nspam_window_ms = -5\n",
    ],
)
def test_risk_config_negative_value_refused(tmp_path, text):
    with pytest.raises(InvalidRequest, match="must not be negative"):
        load_limits(write(tmp_path, text))


def test_risk_config_negative_value_refused_naming_where(tmp_path):
    text = "[limits.instruments.BTCUSDT]\nmax_position_qty = -2\n"

    with pytest.raises(InvalidRequest, match=r"limits\.instruments\.BTCUSDT"):
        load_limits(write(tmp_path, text))


@pytest.mark.parametrize("rate", ['"0/5"', '"1/0"', "{ per_second = -1, burst = 2 }"])
def test_risk_config_rate_out_of_range_refused(tmp_path, rate):
    with pytest.raises(InvalidRequest, match="rate"):
        load_limits(write(tmp_path, f"[limits.strategies.s]\ninstrument_submit_rate = {rate}\n"))


def test_risk_config_rate_out_of_range_refused_naming_where(tmp_path):
    text = '[limits.strategies.s]\ninstrument_submit_rate = "0/5"\n'

    with pytest.raises(InvalidRequest, match=r"limits\.strategies\.s\.instrument_submit_rate"):
        load_limits(write(tmp_path, text))


@pytest.mark.parametrize(
    ("field", "value"),
    [("spam_window_ms", "1.5"), ("max_quote_age_ms", 0.5), ("instrument_submit_rate", "5/2.5")],
)
def test_risk_config_fractional_integer_limit_refused(field, value):
    with pytest.raises(InvalidRequest, match=field):
        limits_from_mapping({field: value}, "limits")
