"""SIGKILL the server in the middle of a stream of placements; nothing answered is lost.

The server runs as a real subprocess (`ordergate serve`) on a SQLite journal with
synchronous=FULL. Clients place orders with idempotency keys; the server is killed with
SIGKILL while requests are in flight, then restarted on the same file. Every order that
was answered 2xx must still be there under its key; a key sent again returns its order
(200) and never creates a second one; `verify-journal` passes; two replays agree.
The clients send an admin key made with `ordergate keys create` before the first start.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.waiting import eventually_sync

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent / "ordergate"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`ordergate serve` in a subprocess, with a clean environment."""

    def __init__(self, db: Path, port: int, log: Path) -> None:
        self.db = db
        self.port = port
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.key = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ORDERGATE_", "OMS_"))}
        env["ORDERGATE_LOG_LEVEL"] = "WARNING"
        # Hundreds of requests a second from one key: well over the default rate limit.
        env["ORDERGATE_API_RATE_PER_SECOND"] = "1000000"
        env["ORDERGATE_API_RATE_BURST"] = "1000000"
        # Checkpoints every few hundred events, so the kill lands while they are written,
        # and finished orders retired at once, so answered keys name retired orders.
        env["ORDERGATE_CHECKPOINT_EVERY_EVENTS"] = "300"
        env["ORDERGATE_RETENTION_MAX_FINISHED"] = "50"
        env["ORDERGATE_RETENTION_MAX_AGE_SECONDS"] = "0"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(BIN),
                    "serve",
                    "--db",
                    str(self.db),
                    "--port",
                    str(self.port),
                    "--admin-port",
                    str(free_port()),
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.db.parent,
            )
        process = self.process

        def ready() -> bool:
            assert process.poll() is None, self.log.read_text()[-2000:]
            try:
                return httpx.get(f"{self.url}/ready", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        eventually_sync(
            ready,
            interval=0.1,
            message=lambda: f"the server to be ready:\n{self.log.read_text()[-2000:]}",
        )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(20)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path / "og.db", free_port(), tmp_path / "server.log")
    yield server
    if server.process is not None and server.process.poll() is None:
        server.process.kill()
        server.process.wait(10)


def body(i: int) -> dict[str, object]:
    """Alternating market buys and sells, and limit orders that rest far from the market."""
    if i % 3 == 2:
        return {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "qty": "0.001",
            "type": "LIMIT",
            "price": "10000.0",
            "idempotency_key": f"crash-{i}",
        }
    return {
        "symbol": "EURUSD",
        "side": "BUY" if i % 2 == 0 else "SELL",
        "qty": "0.01",
        "type": "MARKET",
        "idempotency_key": f"crash-{i}",
    }


async def place_until_killed(server: Server, clients: int, kill_after: int) -> dict[str, str]:
    """Place orders from several clients; SIGKILL the server once `kill_after` answered."""
    answered: dict[str, str] = {}
    counter = iter(range(10**6))
    killed = asyncio.Event()

    async def client(http: httpx.AsyncClient) -> None:
        while not killed.is_set():
            i = next(counter)
            try:
                response = await http.post("/v1/orders", json=body(i), params={"wait": "false"})
            except httpx.TransportError:
                return  # the server died under this request: its fate is unknown to us
            if response.status_code in (200, 201):
                answered[f"crash-{i}"] = response.json()["id"]
            if len(answered) >= kill_after and not killed.is_set():
                killed.set()
                server.kill()

    async with httpx.AsyncClient(base_url=server.url, timeout=10, headers=server.headers) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    return answered


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=120)


def test_sigkill_mid_stream_loses_no_answered_order_and_journal_verifies(server: Server):
    created = run_cli("keys", "create", "--scope", "admin", "--db", str(server.db))
    assert created.returncode == 0, created.stderr
    server.key = created.stdout.strip()
    server.start()
    answered = asyncio.run(place_until_killed(server, clients=8, kill_after=400))
    assert len(answered) >= 400

    server.start()
    with httpx.Client(base_url=server.url, timeout=10, headers=server.headers) as http:
        health = http.get("/health").json()
        # The restart went on from a checkpoint, not from the first event.
        assert health["events_since_checkpoint"] < health["journal_events"], health
        resting = []
        for key, order_id in answered.items():
            got = http.get(f"/v1/orders/{order_id}")
            assert got.status_code == 200, (key, order_id)
            order = got.json()
            assert order["idempotency_key"] == key
            # Answered before the kill: settled by the venue, or (sent but unanswered by
            # the in-memory paper venue when it died) found missing by the restart's query.
            assert order["status"] in ("FILLED", "ACCEPTED", "REJECTED"), order
            if order["status"] == "REJECTED":
                assert order["reason_code"] == "VENUE_ORDER_NOT_FOUND", order
            if order["status"] == "ACCEPTED":
                resting.append(order_id)
        assert len(resting) > 100
        # The restarted paper venue was re-seeded with the resting orders: it can cancel one.
        canceled = http.post(f"/v1/orders/{resting[0]}/cancel")
        assert canceled.status_code == 200, canceled.text
        assert canceled.json()["status"] == "CANCELED"
        sent = max(int(key.split("-")[1]) for key in answered) + 8
        for i in range(sent + 1):
            again = http.post("/v1/orders", json=body(i), params={"wait": "false"})
            key = f"crash-{i}"
            if key in answered:
                assert again.status_code == 200, again.text
                assert again.json()["id"] == answered[key]
            else:
                assert again.status_code in (200, 201), again.text
        keys: list[str] = []
        cursor = None
        while True:
            page = http.get(
                "/v1/orders",
                params={"limit": 1000, "cursor": cursor} if cursor else {"limit": 1000},
            ).json()
            keys += [o["idempotency_key"] for o in page["items"] if o["idempotency_key"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert len(keys) == len(set(keys)), "an idempotency key maps to more than one order"
    assert set(keys) == {f"crash-{i}" for i in range(sent + 1)}
    server.stop()

    verified = run_cli("verify-journal", "--db", str(server.db))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    first = run_cli("replay", "--db", str(server.db))
    second = run_cli("replay", "--db", str(server.db))
    assert first.returncode == 0, first.stderr
    digest = [line for line in first.stdout.splitlines() if line.startswith("digest")]
    assert digest
    assert digest == [line for line in second.stdout.splitlines() if line.startswith("digest")]
    fast = run_cli("replay", "--from-checkpoint", "--db", str(server.db))
    assert fast.returncode == 0, fast.stderr
    assert "from checkpoint" in fast.stdout
    assert digest == [line for line in fast.stdout.splitlines() if line.startswith("digest")]
