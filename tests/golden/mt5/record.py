"""Golden transcripts of the EA simulator: scripted sessions, recorded and replayed.

`SCENARIOS` are sessions of ticks, faults and requests. `python -m tests.golden.mt5.record`
runs each against a fresh simulated EA and writes every line (the tick or fault, the
request, its reply, each event) to `sim-<name>.jsonl`. The tests replay the requests and
ticks and require the same replies and events, line for line, and every frame valid
against the protocol's schema: the simulator, the schema and (by review) the EA are held
to one record. Re-record only for an intended change, and read the diff.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from ordergate.simulators.mt5.expert import ExpertAdvisor, session_name
from ordergate.simulators.mt5.ids import IdMap
from ordergate.simulators.mt5.model import Account, Tick
from ordergate.simulators.mt5.server import forex
from ordergate.simulators.mt5.trade_server import TradeServer

HERE = Path(__file__).parent
T0 = 1_704_196_800_000  # Tuesday 2024-01-02 12:00, server time
LOGIN = 51234567

Line = dict[str, Any]


def _tick(bid: str, ask: str, at: int) -> Line:
    return {"dir": "tick", "symbol": "EURUSD", "bid": bid, "ask": ask, "time": T0 + at}


def _order(coid: str, side: str, volume: str = "0.10", **extra: Any) -> Line:
    args = {"client_order_id": coid, "symbol": "EURUSD", "side": side, "type": "market"}
    return _req("submit_order", **(args | {"volume": volume} | extra))


def _req(cmd: str, **args: Any) -> Line:
    return {"dir": "request", "cmd": cmd, "args": args}


SCENARIOS: dict[str, tuple[str, list[Line]]] = {
    "netting": (
        "netting",
        [
            _tick("1.10000", "1.10002", 0),
            _req("hello", client="golden", versions=[1]),
            _order("g1", "buy"),
            _order("g1", "buy"),  # a repeat: nothing sent
            _req(
                "submit_order",
                client_order_id="g2",
                symbol="EURUSD",
                side="sell",
                type="limit",
                volume="0.20",
                price="1.10100",
            ),
            _tick("1.10050", "1.10052", 1000),
            _req("modify_order", client_order_id="g2", price="1.10080"),
            _tick("1.10090", "1.10092", 2000),  # the limit fills: the position reverses
            _req("get_positions"),
            _req("get_quotes", symbols=["EURUSD"]),
            {"dir": "fault", "kind": "inject_retcode", "retcode": 10004},
            _order("g3", "buy"),  # requoted
            {"dir": "fault", "kind": "inject_retcode", "retcode": 10012},
            _order("g4", "buy"),  # carried out, the answer lost
            _order("g4", "buy"),  # found by its token
            _req("events_since", seq=2),
            {"dir": "fault", "kind": "restart"},
            _order("g1", "buy"),  # still a duplicate in the new session
            _req("events_since", seq=3),
            _req("close_all", client_order_id_prefix="flat"),
            _req("get_deals", since=T0),
            _req("get_account"),
        ],
    ),
    "hedging": (
        "hedging",
        [
            _tick("1.10000", "1.10002", 0),
            _req("hello", client="golden", versions=[1]),
            _order("h1", "buy"),
            _order("h2", "buy", "0.20"),
            _order("h3", "sell", "0.05"),  # hedging: a third position, short
            _req("get_positions"),
            _req("close_position", ticket=1000001, client_order_id="hc1", volume="0.04"),
            _req("close_position", ticket=1000001, client_order_id="hc1", volume="0.04"),
            _req(
                "submit_order",
                client_order_id="h4",
                symbol="EURUSD",
                side="buy",
                type="stop",
                volume="0.10",
                stop_price="1.10200",
                sl="1.10000",
            ),
            _tick("1.10210", "1.10212", 1000),  # the stop triggers
            _req("cancel_order", client_order_id="h4"),  # filled already: CLOSED
            _req("close_all", client_order_id_prefix="flat"),
            _req("get_positions"),
            _req("get_deals", since=T0),
        ],
    ),
}


def fresh(mode: str, ids: Path) -> ExpertAdvisor:
    account = Account(
        login=LOGIN, currency="USD", margin_mode=mode, leverage=100, balance=Decimal(10_000)
    )
    server = TradeServer(
        [forex("EURUSD", "EUR", "USD")], account, commission_per_lot=Decimal("3.5")
    )
    return ExpertAdvisor(
        server, session=session_name(LOGIN, T0, 1), ids=IdMap(ids), gmt_offset_s=7200
    )


def run(mode: str, script: list[Line], ids: Path) -> Iterator[Line]:
    """Play `script` on a fresh EA; every line of the transcript, in order."""
    ea = fresh(mode, ids)
    starts = 1
    for number, step in enumerate(script, start=1):
        if step["dir"] == "tick":
            yield step
            tick = Tick(step["symbol"], Decimal(step["bid"]), Decimal(step["ask"]), step["time"])
            events = ea.tick(tick)
        elif step["dir"] == "fault":
            yield step
            if step["kind"] == "restart":
                starts += 1
                ea = ExpertAdvisor(
                    ea.server,
                    session=session_name(LOGIN, ea.server.now, starts),
                    ids=IdMap(ids),
                    gmt_offset_s=7200,
                )
            else:
                ea.inject_retcode(step["retcode"])
            events = []
        else:
            frame = {"v": 1, "req_id": f"g-{number}", "cmd": step["cmd"], "args": step["args"]}
            yield {"dir": "request", "frame": frame}
            reply, events = ea.handle(frame)
            yield {"dir": "reply", "frame": reply}
        for topic, event in events:
            yield {"dir": "event", "topic": topic, "frame": event}


def record(tmp: Path) -> None:
    for name, (mode, script) in SCENARIOS.items():
        lines = list(run(mode, script, tmp / f"{name}-ids.jsonl"))
        path = HERE / f"sim-{name}.jsonl"
        path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
        print(f"{path}: {len(lines)} lines")


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        record(Path(directory))
