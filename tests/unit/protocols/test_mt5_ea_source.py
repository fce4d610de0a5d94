"""The expert advisor's source (`mql5/OrdergateBridge.mq5`) cannot be compiled here, so
it is held to the protocol by review; this test holds it to the schema's vocabulary: it
names every command, event type, error code, enum value and retcode the protocol has,
so a word added to the schema and forgotten in the EA shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ordergate.protocols.mt5 import schema
from ordergate.protocols.mt5.retcodes import RETCODES, Outcome, outcome_of

EA = Path(__file__).parents[3] / "mql5" / "OrdergateBridge.mq5"


def vocabulary() -> dict[str, list[str]]:
    defs = schema()["$defs"]
    return {
        "command": defs["request"]["properties"]["cmd"]["enum"],
        "event": defs["event"]["properties"]["type"]["enum"],
        "error code": defs["error"]["properties"]["code"]["enum"],
        "order state": defs["order_state"]["enum"],
        "order type": defs["order_type"]["enum"],
        "time in force": defs["time_in_force"]["enum"],
        "filling": defs["filling"]["enum"],
        "deal entry": defs["deal_entry"]["enum"],
        "deal reason": defs["deal_reason"]["enum"],
        "margin mode": defs["margin_mode"]["enum"],
    }


@pytest.mark.parametrize("kind", sorted(vocabulary()))
def test_the_ea_names_every_word_of_the_protocol(kind: str):
    source = EA.read_text(encoding="utf-8")

    missing = [word for word in vocabulary()[kind] if f'"{word}"' not in source]

    assert missing == [], f"{kind}: {missing}"


def _switch(source: str, function: str) -> dict[int, str]:
    """`case N: ... return X;` pairs of one MQL5 function's switch (fall-through cases
    share the next return)."""
    body = source[source.index(f" {function}(") :]
    body = body[: body.index("\n  }\n")]
    found: dict[int, str] = {}
    waiting: list[int] = []
    for line in body.splitlines():
        waiting += [int(n) for n in re.findall(r"case (\d+):", line)]
        returned = re.search(r"return ([A-Z_]+|\"[A-Z_]+\");", line)
        if returned and waiting:
            found |= dict.fromkeys(waiting, returned.group(1).strip('"'))
            waiting = []
    return found


def test_the_ea_names_and_classifies_retcodes_as_the_protocol_does():
    source = EA.read_text(encoding="utf-8")

    names = _switch(source, "RetcodeName")
    outcomes = _switch(source, "OutcomeOf")

    assert names == RETCODES
    assert {n: o.removeprefix("OUT_").lower() for n, o in outcomes.items()} == {
        n: outcome_of(n).value for n in RETCODES if outcome_of(n) is not Outcome.REJECTED
    }


def test_the_ea_says_it_is_uncompiled_and_speaks_version_1():
    header = EA.read_text(encoding="utf-8")[:4000]

    assert "docs/mt5-bridge.md" in header
    assert "cannot be compiled" in header
    assert "version 1" in header
