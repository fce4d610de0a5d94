"""The simulated EA: every frame it writes validates against the protocol's schema, a
repeated client order id sends nothing (also after a restart, from the id file), events
are numbered without gaps and `events_since` gives them back, until the ring forgets."""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from ordergate.protocols.mt5 import schema
from ordergate.simulators.mt5.expert import ExpertAdvisor, id_file
from ordergate.simulators.mt5.ids import IdMap
from ordergate.simulators.mt5.model import Account, SymbolSpec, Tick
from ordergate.simulators.mt5.trade_server import TradeServer

D = Decimal
T0 = 1_704_196_800_000
EURUSD = SymbolSpec(
    "EURUSD", 5, D(100_000), D("0.01"), D("0.01"), D(50), "EUR", "USD", stops_level=10
)
WHOLE = jsonschema_rs.validator_for(schema())
_req_ids = itertools.count(1)


def result_validator(cmd: str) -> Any:
    return jsonschema_rs.validator_for(
        {"$defs": schema()["$defs"], "$ref": f"#/$defs/result_{cmd}"}
    )


class Rig:
    def __init__(self, mode: str, ids_path: Path | None, session: str = "s1", ring: int = 64):
        account = Account(
            login=7, currency="USD", margin_mode=mode, leverage=100, balance=D(10_000)
        )
        self.server = TradeServer([EURUSD], account, commission_per_lot=D("3.5"))
        self.ea = ExpertAdvisor(self.server, session=session, ids=IdMap(ids_path), ring=ring)
        self.events: list[dict[str, Any]] = []
        self.tick("1.10000", "1.10002", T0)

    def tick(self, bid: str, ask: str, ts: int) -> None:
        self._take(self.ea.tick(Tick("EURUSD", D(bid), D(ask), ts)))

    def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        request = {"v": 1, "req_id": f"r{next(_req_ids)}", "cmd": cmd, "args": args}
        assert WHOLE.is_valid(request), request
        reply, events = self.ea.handle(request)
        assert [e.message for e in WHOLE.iter_errors(reply)] == [], reply
        if reply["ok"]:
            errors = [e.message for e in result_validator(cmd).iter_errors(reply["result"])]
            assert errors == [], (cmd, reply["result"])
        self._take(events)
        assert reply["last_seq"] == self.ea.last_seq
        return reply

    def _take(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        for topic, frame in events:
            assert [e.message for e in WHOLE.iter_errors(frame)] == [], frame
            assert topic == f"evt.{frame['type']}"
            self.events.append(frame)

    def kinds(self) -> list[str]:
        return [e["type"] for e in self.events]


def resubmit(ea: ExpertAdvisor, coid: str) -> dict[str, Any]:
    """A market buy of 0.10 sent straight to an EA (one restarted over the rig's server)."""
    args = {"client_order_id": coid, "symbol": "EURUSD", "side": "buy", "type": "market"}
    request = {"v": 1, "req_id": "x", "cmd": "submit_order", "args": args | {"volume": "0.10"}}
    reply, _ = ea.handle(request)
    assert WHOLE.is_valid(reply), reply
    return reply


def submit(rig: Rig, coid: str, side: str = "buy", **extra: Any) -> dict[str, Any]:
    args = {"client_order_id": coid, "symbol": "EURUSD", "side": side, "type": "market"}
    return rig.call("submit_order", **(args | {"volume": "0.10"} | extra))


@pytest.mark.parametrize("mode", ["netting", "hedging"])
def test_a_session_of_every_command_speaks_the_schema(mode: str, tmp_path: Path):
    rig = Rig(mode, tmp_path / "ids.jsonl")

    hello = rig.call("hello", client="test", versions=[1])
    assert hello["result"]["account"]["margin_mode"] == mode
    rig.call("ping")
    rig.call("get_symbols")
    bought = submit(rig, "m1")["result"]
    assert (bought["state"], bought["duplicate"]) == ("filled", False)
    limit = submit(rig, "l1", "sell", type="limit", price="1.10500", volume="0.20")["result"]
    assert limit["state"] == "placed"
    assert rig.call("get_open_orders")["result"]["orders"][0]["client_order_id"] == "l1"
    moved = rig.call("modify_order", client_order_id="l1", price="1.10600")["result"]
    assert (moved["duplicate"], moved["order"]["price"]) == (False, "1.10600")
    again = rig.call("modify_order", client_order_id="l1", price="1.10600")["result"]
    assert again["duplicate"] is True
    assert rig.call("cancel_order", client_order_id="l1")["result"]["state"] == "canceled"
    assert rig.call("cancel_order", ticket=limit["ticket"])["result"]["duplicate"] is True
    (position,) = rig.call("get_positions")["result"]["positions"]
    rig.call("get_account")
    closed = rig.call(
        "close_position", ticket=position["ticket"], client_order_id="c1", volume="0.04"
    )["result"]
    assert closed["position"] == position["ticket"]
    flat = rig.call("close_all", client_order_id_prefix="flat")["result"]["closes"]
    assert [c["client_order_id"] for c in flat] == [f"flat:{position['ticket']}"]
    assert rig.call("get_positions")["result"]["positions"] == []
    deals = rig.call("get_deals", since=T0)["result"]["deals"]
    assert [d["entry"] for d in deals] == ["in", "out", "out"]
    assert rig.call("get_order", client_order_id="nope")["error"]["code"] == "NOT_FOUND"
    assert (
        rig.call("modify_order", ticket=limit["ticket"], price="1.1")["error"]["code"] == "CLOSED"
    )

    assert [e["seq"] for e in rig.events] == list(range(1, len(rig.events) + 1))
    assert rig.kinds().count("fill") == 3
    assert {"order_accepted", "order_modified", "order_canceled", "position", "account"} <= set(
        rig.kinds()
    )


def test_a_repeated_client_order_id_sends_nothing_even_after_a_restart(tmp_path: Path):
    path = id_file(tmp_path, 7)
    rig = Rig("netting", path)
    first = submit(rig, "m1")["result"]
    refused = submit(rig, "m2", volume="0.015")
    deals = len(rig.server.deals)

    repeat = submit(rig, "m1")["result"]
    assert (repeat["ticket"], repeat["duplicate"]) == (first["ticket"], True)
    again = submit(rig, "m2", volume="0.015")["error"]
    assert (again["code"], again["retcode"], again["duplicate"]) == ("REJECTED", 10014, True)
    assert refused["error"]["retcode"] == 10014
    assert len(rig.server.deals) == deals

    # A new EA (a restart: a new session) over the same account reads the id file back.
    restarted = ExpertAdvisor(rig.server, session="s2", ids=IdMap(path))
    reply = resubmit(restarted, "m1")
    assert (reply["session"], reply["result"]["duplicate"]) == ("s2", True)
    assert len(rig.server.deals) == deals


def test_an_id_whose_answer_was_lost_is_found_by_its_comment_token(tmp_path: Path):
    path = tmp_path / "ids.jsonl"
    rig = Rig("netting", path)
    submit(rig, "m1")
    # The EA stopped between sending and recording the answer: only "sending" is on file.
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text(lines[0] + "\n", encoding="utf-8")

    restarted = ExpertAdvisor(rig.server, session="s2", ids=IdMap(path))
    reply = resubmit(restarted, "m1")
    assert reply["result"]["duplicate"] is True
    assert len(rig.server.deals) == 1


def test_events_since_gives_back_what_was_missed_until_the_ring_forgets(tmp_path: Path):
    rig = Rig("hedging", None, ring=8)
    for n in range(3):
        submit(rig, f"m{n}")
    missed = rig.call("events_since", seq=2)["result"]
    assert missed["complete"] is True
    assert [e["seq"] for e in missed["events"]] == list(range(3, rig.ea.last_seq + 1))

    for n in range(3, 10):
        submit(rig, f"m{n}")
    gone = rig.call("events_since", seq=2)["result"]
    assert (gone["complete"], gone["events"]) == (False, [])
    assert rig.call("events_since", seq=rig.ea.last_seq)["result"] == {
        "events": [],
        "complete": True,
    }


def test_a_server_close_at_the_stop_loss_is_a_fill_with_no_client_order_id(tmp_path: Path):
    rig = Rig("netting", None)
    submit(rig, "m1", sl="1.09800")
    rig.server.positions[next(iter(rig.server.positions))].sl = D("1.09800")

    rig.tick("1.09790", "1.09792", T0 + 1000)

    fill = [e for e in rig.events if e["type"] == "fill"][-1]["deal"]
    assert (fill["reason"], fill["entry"], fill["client_order_id"]) == ("sl", "out", None)
    assert (rig.events[-2]["type"], rig.events[-2]["closed"]) == ("position", True)


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"v": 2, "req_id": "a", "cmd": "ping", "args": {}}, "UNSUPPORTED_VERSION"),
        ({"v": 1, "req_id": "a", "cmd": "trade", "args": {}}, "UNKNOWN_COMMAND"),
        ({"v": 1, "cmd": "ping", "args": {}}, "BAD_REQUEST"),
        ({"v": 1, "req_id": "a", "cmd": "submit_order", "args": {"symbol": "X"}}, "BAD_REQUEST"),
    ],
)
def test_a_bad_request_is_answered_with_its_code(frame: dict[str, Any], code: str):
    rig = Rig("netting", None)

    reply, events = rig.ea.handle(frame)

    assert (reply["ok"], reply["error"]["code"], events) == (False, code, [])
    assert WHOLE.is_valid(reply)


def test_a_stop_rejected_after_it_was_placed_is_told_as_order_rejected(tmp_path: Path):
    rig = Rig("netting", tmp_path / "ids.jsonl")
    args = {"symbol": "EURUSD", "side": "buy", "type": "stop", "stop_price": "1.10500"}
    placed = rig.call("submit_order", client_order_id="big", volume="9.00", **args)
    submit(rig, "small", volume="1.00")  # the margin the stop needs is gone

    rig.tick("1.10500", "1.10502", T0 + 1000)

    [rejected] = [e for e in rig.events if e["type"] == "order_rejected"]
    assert rejected["client_order_id"] == "big"
    assert rejected["ticket"] == placed["result"]["ticket"]
    assert (rejected["retcode"], rejected["retcode_name"]) == (10019, "TRADE_RETCODE_NO_MONEY")
    order = rig.call("get_order", client_order_id="big")["result"]["order"]
    assert order["state"] == "rejected"


def test_a_stop_out_is_told_as_a_fill_of_the_servers_own_order(tmp_path: Path):
    rig = Rig("netting", tmp_path / "ids.jsonl")
    submit(rig, "long", volume="5.00")

    rig.tick("1.08000", "1.08002", T0 + 1000)

    [closing] = [e["deal"] for e in rig.events if e["type"] == "fill"][1:]
    assert (closing["reason"], closing["client_order_id"], closing["volume"]) == (
        "so",
        None,
        "5.00",
    )
    assert rig.call("get_positions")["result"]["positions"] == []
