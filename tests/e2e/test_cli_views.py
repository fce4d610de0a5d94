"""`ordergate orders | positions | tail` against `ordergate serve` as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import IO

import pytest
from click.testing import CliRunner
from tests.e2e.serve_support import BIN, Server
from tests.waiting import eventually_sync

from ordergate import Client, OrderStatus, OrderType, Side
from ordergate.cli.main import main

pytestmark = pytest.mark.slow

SYMBOL = "BTCUSDT"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("cli-views"))
    server.start()
    with Client(server.url, server.key) as og:
        og.place(SYMBOL, Side.BUY, Decimal("0.02"), strategy="cli-filled")
        og.place(SYMBOL, Side.BUY, Decimal("0.01"), OrderType.LIMIT, price=Decimal("30000.0"))
    yield server
    server.stop()


def run(server: Server, *args: str) -> str:
    env = {"ORDERGATE_CLIENT_URL": server.url, "ORDERGATE_CLIENT_KEY": server.key}
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_cli_orders_open_shows_resting_limit_only(server: Server) -> None:
    lines = run(server, "orders").splitlines()
    assert lines[0].split()[:3] == ["ID", "CREATED", "SYMBOL"]
    assert len(lines) == 2, lines
    assert "ACCEPTED" in lines[1]
    assert "30000.0" in lines[1]
    # aligned: every row's status starts where the header's STATUS does
    column = lines[0].index("STATUS")
    assert lines[1][column:].startswith("ACCEPTED")


def test_cli_orders_all_and_symbol_json(server: Server) -> None:
    orders = json.loads(run(server, "orders", "--status", "all", "--symbol", SYMBOL, "--json"))
    assert {o["status"] for o in orders} == {"FILLED", "ACCEPTED"}
    filled = next(o for o in orders if o["status"] == "FILLED")
    assert filled["filled_qty"] == "0.02"  # decimals stay strings
    assert (
        json.loads(run(server, "orders", "--status", "all", "--symbol", "EURUSD", "--json")) == []
    )


def test_cli_positions_table_and_json(server: Server) -> None:
    lines = run(server, "positions").splitlines()
    assert lines[0].split()[:3] == ["ACCOUNT", "SYMBOL", "SIDE"]
    (row,) = (line for line in lines[1:] if SYMBOL in line)
    assert row.split()[2:4] == ["LONG", "0.02"]
    (position,) = json.loads(run(server, "positions", "--json"))
    assert position["position"]["qty"] == "0.02"
    assert position["currency"] == "USDT"


def test_cli_orders_bad_key_exits_with_the_reason(server: Server) -> None:
    result = CliRunner().invoke(
        main, ["orders", "--url", server.url, "--key", "og_nosuchkey_secret"]
    )
    assert result.exit_code == 1
    assert "API_KEY_INVALID" in result.stderr


def test_cli_tail_shows_order_placed_after_it_started(server: Server) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERGATE_")}
    env |= {"ORDERGATE_CLIENT_URL": server.url, "ORDERGATE_CLIENT_KEY": server.key}
    with subprocess.Popen(
        [str(BIN), "tail", "--json", "--backlog", "0", "--interval", "0.1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as tail:
        assert tail.stdout is not None
        assert tail.stderr is not None
        lines: list[str] = []
        notes: list[str] = []
        readers = [
            threading.Thread(target=_collect, args=(tail.stdout, lines)),
            threading.Thread(target=_collect, args=(tail.stderr, notes)),
        ]
        for reader in readers:
            reader.start()
        try:
            _follow_one_order(server, lines, notes)
        finally:
            tail.terminate()
            tail.wait(10)
            for reader in readers:
                reader.join(10)


def _collect(stream: IO[str], into: list[str]) -> None:
    for line in stream:  # one at a time: the test reads `into` while lines come
        into.append(line)  # noqa: PERF402


def _follow_one_order(server: Server, lines: list[str], notes: list[str]) -> None:
    eventually_sync(lambda: any("following" in n for n in notes), message=lambda: str(notes))
    assert lines == []  # --backlog 0: nothing from before it started
    with Client(server.url, server.key) as og:
        placed = og.place(SYMBOL, Side.SELL, Decimal("0.01"), strategy="cli-tail")

    def seen(status: OrderStatus) -> bool:
        events = [json.loads(line) for line in lines]
        return any(
            e["kind"] == "order" and e["order_id"] == placed.order_id and e["status"] == status
            for e in events
        )

    eventually_sync(lambda: seen(OrderStatus.FILLED), message=lambda: "".join(lines + notes))
    events = [json.loads(line) for line in lines]
    assert any(e["kind"] == "fill" and e["order_id"] == placed.order_id for e in events)
    assert {e["order_id"] for e in events} == {placed.order_id}  # nothing from before
