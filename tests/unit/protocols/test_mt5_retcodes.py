"""The retcode classification in code is the one docs/mt5-bridge.md prints: the EA is
written from the document, the simulator and the venue from this module."""

from __future__ import annotations

import re
from pathlib import Path

from ordergate.protocols.mt5 import schema
from ordergate.protocols.mt5.retcodes import NUMBERS, RETCODES, Outcome, name_of, outcome_of

DOC = Path(__file__).parents[3] / "docs" / "mt5-bridge.md"
_ROW = {
    "`ok`": Outcome.OK,
    "`ok` with `duplicate: true` (modify)": Outcome.NO_CHANGE,
    "`REJECTED` with `bid`/`ask`": Outcome.REQUOTED,
    "`REJECTED`": Outcome.REJECTED,
    "`BUSY`": Outcome.BUSY,
    "`UNKNOWN_OUTCOME`": Outcome.UNKNOWN,
}


def documented() -> dict[int, Outcome]:
    table: dict[int, Outcome] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] in _ROW:
            for name, number in re.findall(r"`([A-Z_]+)` (\d{5})", cells[1]):
                assert RETCODES[int(number)] == f"TRADE_RETCODE_{name}", number
                table[int(number)] = _ROW[cells[0]]
    return table


def test_the_document_and_the_code_classify_every_listed_retcode_alike():
    table = documented()

    assert len(table) >= 30
    assert {number: outcome_of(number) for number in table} == table


def test_names_and_numbers_round_trip_and_fit_the_schema():
    pattern = re.compile(schema()["$defs"]["retcode_name"]["pattern"])

    for number, name in RETCODES.items():
        assert NUMBERS[name] == number
        assert pattern.match(name_of(number))
    assert pattern.match(name_of(10099))
    assert outcome_of(10099) is Outcome.REJECTED  # an unknown code is a refusal
