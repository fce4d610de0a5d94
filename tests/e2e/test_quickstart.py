"""docs/quickstart.md, followed word for word: `make run`, the key it prints, the `curl`
that places an order, and the blotter showing that order filled in a real browser.

Two things differ from a newcomer's run, and only these: the port (`PORT`, which the
Makefile reads, and the same number in the commands and the address) and the journal
(`ORDERGATE_DB`, so the test never touches a developer's `./ordergate.db`). The key the
newcomer pastes in place of `og_...` is the one `make run` printed.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright
from tests.e2e.test_blotter_browser import chromium_path
from tests.waiting import TIMEOUT, eventually_sync

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "docs" / "quickstart.md"
DOCUMENTED = "127.0.0.1:8000"
WAIT_MS = 30_000


def shell_blocks(markdown: str) -> list[list[str]]:
    """The quickstart's ```sh blocks, as lists of command lines."""
    blocks = re.findall(r"```sh\n(.*?)```", markdown, re.DOTALL)
    return [[line for line in block.splitlines() if line.strip()] for block in blocks]


def free_port_pair() -> int:
    """A port whose next one is free too (`serve` opens its admin listener on port + 1)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        with socket.socket() as second:
            try:
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two free ports in a row")


class MakeRun:
    """`make run` as a newcomer runs it, in its own process group."""

    def __init__(self, port: int, db: Path) -> None:
        self.port = port
        self.output: list[str] = []
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ORDERGATE_", "OMS_"))}
        env |= {"PORT": str(port), "ORDERGATE_DB": str(db)}
        self.process = subprocess.Popen(
            ["make", "run"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    def key(self) -> str:
        """Read the output until the key it prints (or fail with what it printed)."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            found = re.search(r"\b(og_[A-Za-z0-9_\-]+)", line)
            if found:
                # Read on in the background: a full pipe would block the server's logging.
                self._drainer.start()
                return found.group(1)
        raise AssertionError("make run printed no key:\n" + "".join(self.output[-50:]))

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def ready(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/live", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        if self._drainer.is_alive():
            self._drainer.join(10)  # the output ends with the process
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[MakeRun]:
    running = MakeRun(free_port_pair(), tmp_path / "quickstart.db")
    yield running
    running.stop()


def test_quickstart_word_for_word_ends_with_a_filled_order_in_the_blotter(
    make_run: MakeRun,
) -> None:
    text = QUICKSTART.read_text()
    start, place = shell_blocks(text)
    assert start == ["make run"]
    assert place[0] == "KEY=og_..."
    here = f"127.0.0.1:{make_run.port}"

    key = make_run.key()  # printed as it starts: a newcomer reads it once it is up
    eventually_sync(lambda: make_run.ready(), message="make run to serve")
    commands = [f"KEY={key}", *(line.replace(DOCUMENTED, here) for line in place[1:])]
    curl = subprocess.run(
        ["bash", "-euc", "\n".join(commands)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert curl.returncode == 0, curl.stderr
    order = json.loads(curl.stdout)
    assert order["symbol"] == "EURUSD"
    assert order["status"] not in {"DENIED", "REJECTED"}, order

    address = f"http://{DOCUMENTED}/"
    assert address in text
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True)
        try:
            page = browser.new_page()
            page.goto(address.replace(DOCUMENTED, here))
            page.fill("#key", key)
            page.click("#login-form button[type=submit]")
            row = page.locator(f"#orders tr[data-order-id='{order['id']}']")
            expect(row).to_have_attribute("data-status", "FILLED", timeout=WAIT_MS)
            expect(page.locator(f"#fills tr[data-order-id='{order['id']}']")).to_have_count(
                1, timeout=WAIT_MS
            )
            expect(page.locator("#positions tr[data-symbol=EURUSD]")).to_have_count(
                1, timeout=WAIT_MS
            )
        finally:
            browser.close()
