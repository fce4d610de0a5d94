"""The SQLite journal through the API: what one app answered, the next app on the file
answers too; the CLI verifies the journal and replays it to the same digest."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.integration.api.support import Api, make_settings, running

ORDERGATE = Path(sys.executable).with_name("ordergate")
RESTING = {"symbol": "EURUSD", "side": "BUY", "qty": "0.10", "type": "LIMIT", "price": "1.09800"}
KEYED = {"symbol": "EURUSD", "side": "BUY", "qty": "0.10", "idempotency_key": "restart-1"}


@dataclass
class Snapshot:
    """Everything the read endpoints answered before the app stopped."""

    orders: list[dict[str, Any]]
    fills: list[dict[str, Any]]
    positions: dict[str, dict[str, Any]]
    account: dict[str, dict[str, Any]]
    ids: dict[str, str]


async def snapshot(api: Api, ids: dict[str, str]) -> Snapshot:
    return Snapshot(
        orders=await api.orders(),
        fills=await api.fills(),
        positions=await api.positions(include_flat="true"),
        account=await api.account(),
        ids=ids,
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "og.db"


@pytest.fixture
async def first_session(market: Path, db: Path) -> Snapshot:
    """One app on `db`: a keyed market buy, a BTC buy, a resting limit, a denial; stopped."""
    async with running(make_settings(market, db=str(db))) as api:
        ids = {
            "keyed": (await api.place(**KEYED))["id"],
            "btc": (await api.place(symbol="BTCUSDT", side="BUY", qty="0.010"))["id"],
            "resting": (await api.place(**RESTING))["id"],
            "denied": (await api.place(symbol="XAUUSD", side="BUY", qty="1"))["id"],
        }
        await api.settle()
        return await snapshot(api, ids)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ORDERGATE), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith(("ORDERGATE_", "OMS_"))},
        check=False,
    )


def digest_of(output: str) -> str:
    match = re.search(r"^digest\s+(\S+)$", output, re.MULTILINE)
    assert match is not None, output
    return match.group(1)


async def test_restart_orders_fills_positions_account_still_listed(
    market: Path, db: Path, first_session: Snapshot
) -> None:
    async with running(make_settings(market, db=str(db))) as api:
        after = await snapshot(api, first_session.ids)

    assert after == first_session
    statuses = {o["id"]: o["status"] for o in after.orders}
    ids = first_session.ids
    assert statuses[ids["keyed"]] == statuses[ids["btc"]] == "FILLED"
    assert statuses[ids["resting"]] == "ACCEPTED"
    assert statuses[ids["denied"]] == "DENIED"
    assert len(after.fills) == 2


async def test_restart_same_idempotency_key_200_same_order_no_new_fill(
    market: Path, db: Path, first_session: Snapshot
) -> None:
    async with running(make_settings(market, db=str(db))) as api:
        response = await api.http.post("/v1/orders", json=KEYED)
        await api.settle()
        fills = await api.fills()
        orders = await api.orders()

    assert response.status_code == 200
    assert response.json()["id"] == first_session.ids["keyed"]
    assert response.json()["status"] == "FILLED"
    assert fills == first_session.fills
    assert len(orders) == len(first_session.orders)


async def test_restart_same_key_different_body_still_409(
    market: Path, db: Path, first_session: Snapshot
) -> None:
    async with running(make_settings(market, db=str(db))) as api:
        response = await api.http.post("/v1/orders", json={**KEYED, "side": "SELL"})

    assert response.status_code == 409
    assert response.json()["reason_code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_restart_new_order_gets_fresh_id_and_fills(
    market: Path, db: Path, first_session: Snapshot
) -> None:
    async with running(make_settings(market, db=str(db))) as api:
        order = await api.place(symbol="EURUSD", side="BUY", qty="0.10")
        fills = await api.fills()

    assert order["id"] not in {o["id"] for o in first_session.orders}
    assert order["status"] == "FILLED"
    assert len({f["trade_id"] for f in fills}) == 3
    assert order["client_order_id"] not in {o["client_order_id"] for o in first_session.orders}


async def test_restart_resting_limit_still_fills_when_market_reaches_it(
    market: Path, db: Path, first_session: Snapshot
) -> None:
    async with running(make_settings(market, db=str(db))) as api:
        await api.advance(3)  # 1.10200, 1.10400, 1.09800
        order = await api.order(first_session.ids["resting"])
        eur = (await api.positions())["EURUSD"]

    assert order["status"] == "FILLED"
    assert Decimal(order["avg_fill_price"]) == Decimal("1.09800")
    assert Decimal(eur["qty"]) == Decimal("0.20")


async def test_restart_resting_limit_cancel_answers_canceled(
    market: Path, db: Path, first_session: Snapshot
) -> None:
    async with running(make_settings(market, db=str(db))) as api:
        response = await api.http.post(f"/v1/orders/{first_session.ids['resting']}/cancel")
        usd = (await api.account())["USD"]

    assert response.status_code == 200
    assert response.json()["status"] == "CANCELED"
    assert Decimal(usd["order_margin"]) == 0


async def test_restart_twice_state_still_the_same(
    market: Path, db: Path, first_session: Snapshot
) -> None:
    for _ in range(2):
        async with running(make_settings(market, db=str(db))) as api:
            after = await snapshot(api, first_session.ids)

    assert after == first_session


async def test_cli_verify_journal_after_api_session_exit_0(
    db: Path, first_session: Snapshot
) -> None:
    result = cli("verify-journal", "--db", str(db))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "verified" in result.stdout
    assert "PROBLEM" not in result.stdout


async def test_cli_replay_twice_same_digest_as_verify(db: Path, first_session: Snapshot) -> None:
    first = cli("replay", "--db", str(db))
    second = cli("replay", "--db", str(db))
    verify = cli("verify-journal", "--db", str(db))

    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert digest_of(first.stdout) == digest_of(second.stdout) == digest_of(verify.stdout)
    assert re.search(r"^orders\s+4 \(1 open\)$", first.stdout, re.MULTILINE), first.stdout
    assert re.search(r"^positions\s+2 open$", first.stdout, re.MULTILINE), first.stdout


async def test_cli_verify_journal_after_restart_and_more_orders_exit_0(
    market: Path, db: Path, first_session: Snapshot
) -> None:
    async with running(make_settings(market, db=str(db))) as api:
        await api.place(200, **KEYED)
        await api.advance(3)
        await api.place(symbol="BTCUSDT", side="SELL", qty="0.010")
        await api.http.post("/v1/admin/close-all")
        await api.settle()

    result = cli("verify-journal", "--db", str(db))

    assert result.returncode == 0, result.stdout + result.stderr


async def test_cli_verify_journal_missing_file_fails(tmp_path: Path) -> None:
    result = cli("verify-journal", "--db", str(tmp_path / "missing.db"))

    assert result.returncode != 0
    assert not (tmp_path / "missing.db").exists()
