"""`ordergate serve` as a subprocess on a fresh SQLite journal, for tests that try it from
outside (hostile input, the OpenAPI fuzz run)."""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
from tests.waiting import eventually_sync

from ordergate.config.environment import SEED_002, ordergate_name

BIN = Path(sys.executable).parent / "ordergate"


# Below Linux's ephemeral range (32768-60999): a port chosen here is not also handed to
# some client socket of this or another test between the check and the server's bind.
PORT_RANGE = range(20_000, 32_000)
START_ATTEMPTS = 3


def free_ports(count: int) -> list[int]:
    """`count` different ports of `PORT_RANGE` nothing is bound to now."""
    chosen: list[int] = []
    while len(chosen) < count:
        port = random.choice(PORT_RANGE)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        if port not in chosen:
            chosen.append(port)
    return chosen


class Server:
    """`ordergate serve` on a fresh SQLite journal, its first admin key read off stderr."""

    def __init__(self, workdir: Path, env: dict[str, str] | None = None, **settings: str) -> None:
        """`settings`: ORDERGATE_ variables by their lower-case names, beside the defaults.
        `env`: more variables, verbatim (seed 002's ORDERMANAGER_ names, say); a default of
        this class whose seed 002 twin is among them is left out, as the two would conflict."""
        self.workdir = workdir
        self.settings = settings
        self.env = env or {}
        self.port, self.admin_port = free_ports(2)
        self.log = workdir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.key = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    def start(self) -> None:
        """Start the server and wait until it is ready. Should another process take a port
        between choosing and binding, it starts again on new ones (the same journal)."""
        for _ in range(START_ATTEMPTS - 1):
            if self._start():
                return
            self.port, self.admin_port = free_ports(2)
        assert self._start(), self.log.read_text()[-3000:]

    def _start(self) -> bool:
        """False if a port was taken; else True once ready."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ORDERGATE_", "OMS_"))}
        defaults = {
            "ORDERGATE_LOG_LEVEL": "WARNING",
            "ORDERGATE_API_RATE_PER_SECOND": "100000",  # the bot's own rate is not on trial
            "ORDERGATE_API_RATE_BURST": "100000",
        }
        twins = {ordergate_name(SEED_002[n]) for n in self.env if n in SEED_002}
        env |= {k: v for k, v in defaults.items() if k not in twins}
        env |= {
            **{f"ORDERGATE_{name.upper()}": value for name, value in self.settings.items()},
            **self.env,
        }
        command = [str(BIN), "serve", "--db", str(self.workdir / "og.db")]
        command += ["--port", str(self.port)]
        command += ["--admin-port", str(self.admin_port)]
        with self.log.open("ab") as log:
            written_before = log.tell()
            self.process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir
            )
        process = self.process

        def ready() -> bool:
            if process.poll() is not None:
                return True  # exited: decided below
            try:
                return httpx.get(f"{self.admin_url}/ready", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        eventually_sync(ready, interval=0.1, message=lambda: self.log.read_text()[-3000:])
        if process.poll() is not None:
            this_run = self.log.read_bytes()[written_before:].decode(errors="replace")
            assert "address already in use" in this_run, this_run[-3000:]
            return False
        if not self.key:
            found = re.search(r"og_[A-Za-z0-9]+_[A-Za-z0-9_-]+", self.log.read_text())
            assert found, self.log.read_text()
            self.key = found.group()
        return True

    def rss(self) -> int:
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024  # type: ignore[union-attr]

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
