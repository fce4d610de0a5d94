"""`ordergate serve` creates a local admin key on a store with no key, and prints it once."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
from pathlib import Path

import httpx
import pytest
import uvicorn
from click.testing import CliRunner
from tests.integration.auth.auth_support import ORDERGATE, cli
from tests.waiting import eventually_sync

from ordergate.api.edge.server import ApiServer
from ordergate.cli import serve as cli_module
from ordergate.cli.main import main as cli_main

KEY = re.compile(r"og_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(db: Path, output: Path, *requests: tuple[str, dict[str, str]]) -> list[int]:
    """Start `ordergate serve` (debug logs), make `requests` (path, headers), stop it."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORDERGATE_", "OMS_"))}
    env |= {"ORDERGATE_LOG_LEVEL": "DEBUG", "ORDERGATE_PAPER_BARS_PER_SECOND": "0"}
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [
                str(ORDERGATE),
                "serve",
                "--db",
                str(db),
                "--port",
                str(port),
                "--admin-port",
                str(free_port()),
            ],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=db.parent,
        )
    try:
        base = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            assert process.poll() is None, output.read_text()
            try:
                return httpx.get(f"{base}/ready", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        eventually_sync(ready, interval=0.05, message=lambda: f"/ready\n{output.read_text()}")
        return [httpx.get(base + path, headers=h, timeout=5).status_code for path, h in requests]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)


def test_serve_fresh_db_prints_admin_key_once_later_starts_print_none(tmp_path: Path) -> None:
    db = tmp_path / "og.db"
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    serve(db, first_log)
    first = first_log.read_text()
    keys = KEY.findall(first)
    assert keys, first
    key = keys[0]
    auth = {"X-API-Key": key}

    statuses = serve(db, second_log, ("/v1/account", auth), ("/v1/orders", auth), ("/v1/fills", {}))
    second = second_log.read_text()

    assert keys == [key, key]  # the key line, and the curl line with its header
    assert f"X-API-Key: {key}" in first
    assert statuses == [200, 200, 401]
    assert KEY.search(second) is None, second
    assert "API key" not in second
    listed = cli("keys", "list", "--db", str(db)).stdout.splitlines()[1:]
    assert len(listed) == 1
    assert listed[0].split()[1] == "admin"
    assert listed[0].endswith("local-admin")


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> list[uvicorn.Config]:
    """`serve` without a server (its uvicorn settings are recorded), logging set-up or GC
    tuning."""
    calls: list[uvicorn.Config] = []
    monkeypatch.setattr(ApiServer, "run", lambda server, *a, **kw: calls.append(server.config))
    monkeypatch.setattr(cli_module, "configure_logging", lambda *a, **kw: None)
    monkeypatch.setattr(cli_module, "tune_garbage_collector", lambda: None)
    return calls


def test_serve_in_memory_every_start_prints_a_fresh_admin_key(
    no_server: list[uvicorn.Config],
) -> None:
    runs = [CliRunner().invoke(cli_main, ["serve", "--db", ":memory:"]) for _ in range(2)]

    keys = [KEY.findall(r.stderr) for r in runs]
    assert [r.exit_code for r in runs] == [0, 0], runs[0].output
    assert all(len(found) == 2 and found[0] == found[1] for found in keys), keys
    assert keys[0][0] != keys[1][0]
    assert all(r.stdout == "" for r in runs)


def test_serve_access_log_off_and_uvicorn_never_at_trace(
    no_server: list[uvicorn.Config], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERGATE_LOG_LEVEL", "TRACE")

    result = CliRunner().invoke(cli_main, ["serve", "--db", ":memory:"])

    assert result.exit_code == 0, result.output
    assert no_server[0].access_log is False
    assert no_server[0].log_level == "debug"


def test_serve_on_an_unreachable_database_says_so_and_exits_1(
    no_server: list[uvicorn.Config],
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    result = CliRunner().invoke(
        cli_main, ["serve", "--db", f"postgresql://postgres@127.0.0.1:{port}/test"]
    )

    assert result.exit_code == 1
    assert "cannot start" in result.stderr
    assert f"127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.output
    assert no_server == []  # the server never started
