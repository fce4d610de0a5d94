"""The EA simulator replays its golden transcripts line for line (`tests/golden/mt5/record.py`
scripts them): the same replies and the same events, each frame valid against the
protocol's schema. A change to what the simulator writes shows here as a diff."""

from __future__ import annotations

import decimal
import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from tests.golden.mt5.record import HERE, SCENARIOS, run

from ordergate.protocols.mt5 import schema

VALID = jsonschema_rs.validator_for(schema())


def recorded(name: str) -> list[dict[str, Any]]:
    path = HERE / f"sim-{name}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("rounding", [decimal.ROUND_HALF_EVEN, decimal.ROUND_HALF_UP])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_golden_session_replays_line_for_line(name: str, rounding: str, tmp_path: Path):
    # Whatever the process's decimal context: ccxt's decimal_to_precision sets it to
    # half up for everyone, and a money figure must not change with it.
    mode, script = SCENARIOS[name]

    with decimal.localcontext() as context:
        context.rounding = rounding
        replayed = [json.loads(json.dumps(line)) for line in run(mode, script, tmp_path / "ids")]

    expected = recorded(name)
    assert len(replayed) == len(expected)
    for number, (got, want) in enumerate(zip(replayed, expected, strict=True), start=1):
        assert got == want, f"sim-{name}.jsonl:{number}"
        if "frame" in got:
            assert VALID.is_valid(got["frame"]), f"sim-{name}.jsonl:{number}"


def test_the_golden_sessions_cover_every_command_and_event_type():
    commands: set[str] = set()
    events: set[str] = set()
    for name in SCENARIOS:
        for line in recorded(name):
            if line["dir"] == "request":
                commands.add(line["frame"]["cmd"])
            elif line["dir"] == "event":
                events.add(line["frame"]["type"])

    missing = set(schema()["$defs"]["request"]["properties"]["cmd"]["enum"]) - commands
    assert missing <= {"ping", "get_symbols", "get_open_orders", "get_order"}, missing
    assert {"fill", "order_accepted", "order_modified", "position", "account"} <= events
