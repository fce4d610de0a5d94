"""Seed 002's own environment block, dropped in: `ordergate serve` starts with every risk
limit in force and seed 002's API key accepted; a misspelt variable stops it, named.

The block is the one copied verbatim in `tests/unit/config/seed002_block.py`. The port
flags `Server` passes beat `ORDERMANAGER_PORT` (a flag beats the environment), so the
test never needs port 4600 free.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.e2e.serve_support import BIN, Server
from tests.unit.config.seed002_block import seed_002_variables
from tests.waiting import eventually_sync

SEED_KEY = "your-api-key-here"


@pytest.fixture
def seed_server(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path, env=seed_002_variables())
    try:
        server.start()
        yield server
    finally:
        server.stop()


def test_seed_002_block_serves_every_limit_at_risk_limits(seed_server):
    answer = httpx.get(
        f"{seed_server.url}/v1/risk/limits", headers={"X-API-Key": SEED_KEY}, timeout=10
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["global_limits"] == {
        "max_position_qty": "1.0",
        "max_gross_exposure": "50000.0",
        "max_order_size_ratio": "0.1",
        "unrealized_loss_warning_pct": "10.0",
    }


def test_seed_002_block_limits_deny_an_order_beyond_them(seed_server):
    order = {"symbol": "BTCUSDT", "side": "BUY", "qty": "2", "type": "MARKET"}

    answer = httpx.post(
        f"{seed_server.url}/v1/orders/preview",
        json=order,
        headers={"X-API-Key": SEED_KEY},
        timeout=10,
    )

    assert answer.status_code == 200, answer.text
    codes = {d["reason_code"] for d in answer.json()["denials"]}
    assert {"MAX_POSITION", "ORDER_SIZE_RATIO_EXCEEDED", "MAX_GROSS_EXPOSURE"} <= codes


def test_seed_002_api_key_is_a_key_and_others_are_not(seed_server):
    def status(key: str) -> int:
        return httpx.get(
            f"{seed_server.url}/api/v1/orders", headers={"X-API-Key": key}, timeout=10
        ).status_code

    assert status(SEED_KEY) == 200
    assert status(seed_server.key) == 200  # the issued first key works beside it
    assert status(SEED_KEY + "x") == 401


def test_seed_002_service_name_on_every_log_line(seed_server):
    def logged() -> bool:
        return '"service": "order-manager"' in seed_server.log.read_text()

    eventually_sync(logged, message=lambda: seed_server.log.read_text()[-2000:])
    json_lines = [line for line in seed_server.log.read_text().splitlines() if line.startswith("{")]
    assert json_lines
    assert all('"service": "order-manager"' in line for line in json_lines)


def serve_with(tmp_path: Path, extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ORDERGATE_", "OMS_", "ORDERMANAGER_"))
    }
    env |= {**seed_002_variables(), **extra}
    return subprocess.run(
        [str(BIN), "serve", "--db", str(tmp_path / "og.db"), "--port", "0"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_misspelt_variable_exits_naming_it(tmp_path):
    ran = serve_with(tmp_path, {"ORDERMANAGER_MAX_POSITON_SIZE": "1.0"})

    assert ran.returncode != 0
    assert "ORDERMANAGER_MAX_POSITON_SIZE" in ran.stderr
    assert "ORDERMANAGER_MAX_POSITION_SIZE" in ran.stderr  # the suggestion
    assert not (tmp_path / "og.db").exists()  # refused before anything was opened


def test_serve_conflicting_names_exit_naming_both(tmp_path):
    ran = serve_with(tmp_path, {"ORDERGATE_LIMITS__MAX_POSITION_QTY": "5"})

    assert ran.returncode != 0
    assert "ORDERGATE_LIMITS__MAX_POSITION_QTY" in ran.stderr
    assert "ORDERMANAGER_MAX_POSITION_SIZE" in ran.stderr
