"""The MT5 bridge protocol's JSON Schema: a valid schema, every frame of the golden
transcripts valid against it (and each reply's result against its command's result),
and the frames a careless client or EA would write refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from ordergate.protocols.mt5 import VERSION, schema

GOLDEN = Path(__file__).parents[2] / "golden" / "mt5"
TRANSCRIPTS = sorted(GOLDEN.glob("*.jsonl"))


def validator(ref: str | None = None) -> Any:
    whole = schema()
    if ref is None:
        return jsonschema_rs.validator_for(whole, validate_formats=True)
    return jsonschema_rs.validator_for({"$defs": whole["$defs"], "$ref": f"#/$defs/{ref}"})


def frames(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_the_schema_is_a_valid_draft_2020_12_schema_of_version_1():
    meta = jsonschema_rs.validator_for({"$ref": "https://json-schema.org/draft/2020-12/schema"})

    assert meta.is_valid(schema())
    assert schema()["$defs"]["request"]["properties"]["v"] == {"const": VERSION}


def test_there_are_golden_transcripts():
    assert TRANSCRIPTS, f"no transcript under {GOLDEN}"


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda p: p.stem)
def test_every_frame_of_a_transcript_is_valid_and_replies_answer_their_command(path: Path):
    whole = validator()
    asked: dict[str, str] = {}
    sessions_seq: dict[str, int] = {}
    for number, line in enumerate(frames(path), start=1):
        if "frame" not in line:  # a scripted tick or fault of a recorded session
            continue
        frame = line["frame"]
        errors = [error.message for error in whole.iter_errors(frame)]
        assert errors == [], f"{path.name}:{number}"
        if line["dir"] == "request":
            assert frame["req_id"] not in asked, f"{path.name}:{number}: req_id reused"
            asked[frame["req_id"]] = frame["cmd"]
        elif line["dir"] == "reply":
            command = asked.pop(frame["req_id"])
            if frame["ok"]:
                result = validator(f"result_{command}")
                assert [e.message for e in result.iter_errors(frame["result"])] == [], (
                    f"{path.name}:{number}: {command}"
                )
        else:
            assert line["topic"] == f"evt.{frame['type']}"
            if frame["type"] != "heartbeat":  # numbered events come 1, 2, 3 per session
                last = sessions_seq.get(frame["session"], 0)
                assert frame["seq"] == last + 1, f"{path.name}:{number}: seq gap"
                sessions_seq[frame["session"]] = frame["seq"]
    assert asked == {}, "requests without a reply"


SUBMIT = {
    "client_order_id": "og-1",
    "symbol": "EURUSD",
    "side": "buy",
    "type": "market",
    "volume": "0.10",
}


def request(cmd: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"v": 1, "req_id": "r1", "cmd": cmd, "args": args}


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(request("submit_order", {**SUBMIT, "volume": 0.1}), id="float-volume"),
        pytest.param(request("submit_order", {**SUBMIT, "volume": "-0.10"}), id="negative"),
        pytest.param(
            request("submit_order", {k: v for k, v in SUBMIT.items() if k != "client_order_id"}),
            id="no-client-order-id",
        ),
        pytest.param(request("submit_order", {**SUBMIT, "side": "BUY"}), id="side-case"),
        pytest.param(request("submit_order", {**SUBMIT, "leverage": 5}), id="unknown-arg"),
        pytest.param(request("trade", {}), id="unknown-command"),
        pytest.param({**request("ping", {}), "v": 2}, id="version-2"),
        pytest.param(request("cancel_order", {}), id="cancel-names-nothing"),
        pytest.param(
            request("cancel_order", {"client_order_id": "og-1", "ticket": 5}),
            id="cancel-names-both",
        ),
        pytest.param(request("modify_order", {"ticket": 5}), id="modify-changes-nothing"),
        pytest.param(request("modify_order", {"ticket": 5, "volume": "1"}), id="modify-volume"),
        pytest.param(request("close_position", {"ticket": 5}), id="close-without-id"),
        pytest.param(
            {
                "v": 1,
                "req_id": "r1",
                "ok": True,
                "session": "s",
                "last_seq": 0,
                "result": {},
                "error": {"code": "INTERNAL", "message": "both"},
            },
            id="reply-with-result-and-error",
        ),
        pytest.param(
            {"v": 1, "req_id": "r1", "ok": False, "session": "s", "last_seq": 0},
            id="error-reply-without-error",
        ),
        pytest.param(
            {"v": 1, "session": "s", "seq": 0, "ts": 1, "type": "fill", "deal": {}},
            id="fill-numbered-zero",
        ),
        pytest.param(
            {"v": 1, "session": "s", "seq": 1, "ts": 1, "type": "trade", "x": 1},
            id="unknown-event",
        ),
    ],
)
def test_a_malformed_frame_is_refused(frame: dict[str, Any]):
    assert not validator().is_valid(frame)


def test_a_requote_carries_the_new_prices():
    reply = {
        "v": 1,
        "req_id": "r1",
        "ok": False,
        "session": "s",
        "last_seq": 3,
        "error": {
            "code": "REJECTED",
            "retcode": 10004,
            "retcode_name": "TRADE_RETCODE_REQUOTE",
            "message": "requote",
            "bid": "1.10440",
            "ask": "1.10442",
        },
    }

    assert validator().is_valid(reply)
    assert not validator().is_valid({**reply, "error": {**reply["error"], "bid": 1.1044}})
