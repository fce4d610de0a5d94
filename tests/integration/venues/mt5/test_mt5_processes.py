"""`ordergate serve --venue mt5` against `ordergate simulate mt5`, two processes as an
operator starts them: the simulator replays its bundled bars on wall-clock time, and an
order placed over REST is filled by the EA and booked, with no gate closed (the start's
reconciliation agreed, the feed is fresh). And `ordergate run --engine mt5` runs a
strategy on bars built from the EA's quotes."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.e2e.serve_support import BIN, Server, free_ports
from tests.waiting import eventually_sync


def clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("ORDERGATE_", "OMS_"))}


def stop(process: subprocess.Popen[bytes], signum: signal.Signals) -> None:
    if process.poll() is None:
        process.send_signal(signum)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`ordergate simulate mt5` on free ports, replaying fast; its two endpoints."""
    rep, pub = free_ports(2)
    output = tmp_path / "simulator.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [
                str(BIN),
                "simulate",
                "mt5",
                "--rep-port",
                str(rep),
                "--pub-port",
                str(pub),
                "--bars-per-second",
                "20",
                "--id-dir",
                str(tmp_path / "ids"),
            ],
            env=clean_environment(),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:

        def announced() -> bool:
            assert process.poll() is None, output.read_text()
            return "MT5 EA simulator" in output.read_text()

        eventually_sync(announced, interval=0.05, message=lambda: output.read_text())
        yield f"tcp://127.0.0.1:{rep}", f"tcp://127.0.0.1:{pub}"
    finally:
        stop(process, signal.SIGINT)


@dataclass
class Served:
    url: str
    headers: dict[str, str]


@pytest.fixture
def ordergate(simulator: tuple[str, str], tmp_path: Path) -> Iterator[Served]:
    """`ordergate serve --venue mt5` on the simulator."""
    rep_url, pub_url = simulator
    server = Server(
        tmp_path,
        venue="mt5",
        mt5_rep_url=rep_url,
        mt5_pub_url=pub_url,
        mt5_symbols="EURUSD",
        quote_poll_interval="0.1",
        log_level="INFO",
    )
    server.start()
    process = server.process
    assert process is not None
    try:
        yield Served(server.url, {"X-API-Key": server.key})
    finally:
        stop(process, signal.SIGTERM)
        # Shut down in order (uvicorn then lets the signal end the process).
        assert process.returncode in (0, -signal.SIGTERM), server.log.read_text()
        assert "checkpoint written" in server.log.read_text()


def test_an_order_over_rest_is_filled_by_the_ea_with_every_gate_left_open(ordergate: Served):
    placed = httpx.post(
        f"{ordergate.url}/v1/orders",
        json={"symbol": "EURUSD", "side": "BUY", "qty": "0.10", "idempotency_key": "p1"},
        headers=ordergate.headers,
        timeout=10,
    )
    assert placed.status_code in (200, 201, 202), placed.text
    order_id = placed.json()["id"]

    def filled() -> dict[str, object] | None:
        order = httpx.get(
            f"{ordergate.url}/v1/orders/{order_id}", headers=ordergate.headers, timeout=5
        ).json()
        return order if order["status"] == "FILLED" else None

    order = eventually_sync(filled, interval=0.05, message="the fill")
    assert order["filled_qty"] == "0.10"
    positions = httpx.get(
        f"{ordergate.url}/v1/positions", headers=ordergate.headers, timeout=5
    ).json()
    assert [(p["symbol"], p["qty"]) for p in positions] == [("EURUSD", "0.10")]
    health = httpx.get(
        f"{ordergate.url}/v1/health/trading", headers=ordergate.headers, timeout=5
    ).json()
    assert (health["trading_open"], health["closed_gates"]) == (True, []), health
    [feed] = health["feeds"]
    assert (feed["symbol"], feed["stale"]) == ("EURUSD", False)  # wall-clock ticks


RECORDER = """
import os
from pathlib import Path


class Recorder:
    def start(self, ctx):
        Path(os.environ["RECORD"]).write_text(f"start {ctx.mode} {','.join(ctx.symbols)}\\n")

    def on_bar(self, ctx, bars):
        with Path(os.environ["RECORD"]).open("a") as out:
            out.write(f"bar {ctx.bar_count} {bars['EURUSD'].close}\\n")
"""


def test_a_strategy_runs_on_the_mt5_engine(simulator: tuple[str, str], tmp_path: Path):
    rep_url, pub_url = simulator
    (tmp_path / "recorder.py").write_text(RECORDER)
    record = tmp_path / "record.txt"
    env = clean_environment() | {
        "ORDERGATE_MT5_REP_URL": rep_url,
        "ORDERGATE_MT5_PUB_URL": pub_url,
        "ORDERGATE_MT5_SYMBOLS": "EURUSD",
        "ORDERGATE_QUOTE_POLL_INTERVAL": "0.1",
        "ORDERGATE_LOG_LEVEL": "WARNING",
        "RECORD": str(record),
    }
    done = subprocess.run(
        [
            str(BIN),
            "run",
            "--engine",
            "mt5",
            "--strategy",
            "recorder.py:Recorder",
            "--bars",
            "2",
            "--bar-seconds",
            "1",
            "--db",
            str(tmp_path / "run.db"),
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    lines = record.read_text().splitlines()
    assert lines[0] == "start live EURUSD"
    assert [line.split()[:2] for line in lines[1:]] == [["bar", "1"], ["bar", "2"]]
