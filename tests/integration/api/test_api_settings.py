"""Settings as the API sees them: the seed's OMS_* names, ORDERGATE_* names and `.env`.

The autouse fixture of this folder clears every ORDERGATE_* / OMS_* variable and runs
each test in an empty directory, so only what a test sets is read.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from tests.integration.api.support import BALANCES, Api, make_settings, running

from ordergate.config.settings import Settings


def env_settings(monkeypatch: pytest.MonkeyPatch, market: Path) -> Settings:
    """Settings() from the environment alone: a still, in-memory app on the test market."""
    monkeypatch.setenv("ORDERGATE_DB", ":memory:")
    monkeypatch.setenv("ORDERGATE_PAPER_BARS_PER_SECOND", "0")
    monkeypatch.setenv("ORDERGATE_PAPER_DATA", str(market))
    return Settings()


def write_dotenv(**values: str) -> None:
    """Write a `.env` file into the working directory (an empty one per test)."""
    Path(".env").write_text("".join(f"{name}={value}\n" for name, value in values.items()))


async def place(api: Api, symbol: str, qty: str) -> dict[str, str]:
    return await api.place(symbol=symbol, side="BUY", qty=qty)


@pytest.mark.parametrize("name", ["OMS_ALLOWED_SYMBOLS", "ORDERGATE_ALLOWED_SYMBOLS"])
async def test_settings_allowed_symbols_other_symbol_denied(
    market: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "EURUSD")

    async with running(env_settings(monkeypatch, market)) as api:
        btc = await place(api, "BTCUSDT", "0.010")
        eur = await place(api, "EURUSD", "0.10")

    assert btc["status"] == "DENIED"
    assert btc["reason_code"] == "SYMBOL_NOT_ALLOWED"
    assert eur["status"] == "FILLED"


@pytest.mark.parametrize("name", ["OMS_MIN_QTY", "ORDERGATE_MIN_QTY"])
async def test_settings_min_qty_smaller_order_denied(
    market: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "0.05")

    async with running(env_settings(monkeypatch, market)) as api:
        small = await place(api, "EURUSD", "0.01")
        enough = await place(api, "EURUSD", "0.05")

    assert small["status"] == "DENIED"
    assert small["reason_code"] == "QTY_BELOW_MIN"
    assert "0.05" in small["reason"]
    assert enough["status"] == "FILLED"


async def test_settings_allowed_symbols_comma_list_with_spaces_all_allowed(
    market: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMS_ALLOWED_SYMBOLS", "EURUSD, BTCUSDT")

    async with running(env_settings(monkeypatch, market)) as api:
        btc = await place(api, "BTCUSDT", "0.010")
        eur = await place(api, "EURUSD", "0.10")

    assert (btc["status"], eur["status"]) == ("FILLED", "FILLED")


async def test_settings_min_qty_below_instrument_minimum_instrument_wins(
    market: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMS_MIN_QTY", "0.001")

    async with running(env_settings(monkeypatch, market)) as api:
        order = await place(api, "EURUSD", "0.005")

    assert order["reason_code"] == "QTY_BELOW_MIN"


async def test_settings_min_qty_applies_to_every_symbol(
    market: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMS_MIN_QTY", "0.05")

    async with running(env_settings(monkeypatch, market)) as api:
        order = await place(api, "BTCUSDT", "0.010")

    assert order["reason_code"] == "QTY_BELOW_MIN"


async def test_settings_dotenv_file_in_working_directory_read(market: Path) -> None:
    write_dotenv(
        ORDERGATE_DB=":memory:",
        ORDERGATE_PAPER_BARS_PER_SECOND="0",
        ORDERGATE_PAPER_DATA=str(market),
        OMS_ALLOWED_SYMBOLS="EURUSD",
    )

    async with running(Settings()) as api:
        btc = await place(api, "BTCUSDT", "0.010")

    assert btc["reason_code"] == "SYMBOL_NOT_ALLOWED"


async def test_settings_allowed_order_types_other_type_denied(
    market: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERGATE_ALLOWED_ORDER_TYPES", "market")

    async with running(env_settings(monkeypatch, market)) as api:
        limit = await api.place(
            symbol="EURUSD", side="BUY", qty="0.10", type="LIMIT", price="1.09000"
        )

    assert limit["reason_code"] == "UNSUPPORTED_ORDER_TYPE"


async def test_settings_default_account_orders_without_account_go_there(
    market: Path,
) -> None:
    async with running(make_settings(market, default_account="alt")) as api:
        order = await place(api, "EURUSD", "0.10")
        account = await api.http.get("/v1/account")

    assert order["account"] == "alt"
    assert account.json()["account"] == "alt"


async def test_settings_paper_balances_fund_accounts(market: Path) -> None:
    balances = {**BALANCES, "small": {"USD": Decimal(1_000)}}
    async with running(make_settings(market, paper_balances=balances)) as api:
        small = await api.account(account="small")
        denied = await api.place(symbol="EURUSD", side="BUY", qty="1", account="small")

    assert Decimal(small["USD"]["balance"]) == Decimal(1_000)
    assert denied["reason_code"] == "INSUFFICIENT_MARGIN"  # needs 1,100 USD


async def test_settings_keyword_min_qty_and_allowed_symbols_applied(market: Path) -> None:
    settings = make_settings(market, min_qty=Decimal("0.05"), allowed_symbols=["EURUSD"])

    async with running(settings) as api:
        small = await place(api, "EURUSD", "0.01")
        btc = await place(api, "BTCUSDT", "0.010")

    assert small["reason_code"] == "QTY_BELOW_MIN"
    assert btc["reason_code"] == "SYMBOL_NOT_ALLOWED"
