"""The committed JSON Schema of a version 1 signal: generated from the Struct, and in step.

No JSON Schema validator is installed, so the rules the schema adds by hand (decimals as
numbers or strings, exactly one of qty and notional) are checked for shape here and for
meaning against the decoder, which is what actually enforces them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ordergate.domain.signal_model import (
    MAX_SIGNAL_ID_LENGTH,
    TIMESTAMP_PATTERN,
    TradingSignalV1,
    decode_signal,
)
from ordergate.domain.signal_schema import (
    DECIMAL_STRING_PATTERN,
    DRAFT,
    REGENERATE,
    SCHEMA_PATH,
    trading_signal_schema,
    trading_signal_schema_json,
)

ROOT = Path(__file__).resolve().parents[3]
SIGNALS_DOC = ROOT / "docs" / "signals.md"


def test_committed_schema_matches_the_generated_one():
    committed = (ROOT / SCHEMA_PATH).read_text(encoding="utf-8")

    assert committed == trading_signal_schema_json(), (
        f"{SCHEMA_PATH} is out of date with TradingSignalV1; regenerate it with: {REGENERATE}"
    )


def test_schema_is_draft_2020_12_of_an_object_that_allows_unknown_fields():
    schema = trading_signal_schema()

    assert schema["$schema"] == DRAFT == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is True


def test_schema_lists_every_struct_field_and_requires_the_mandatory_ones():
    schema = trading_signal_schema()

    assert list(schema["properties"]) == list(TradingSignalV1.__struct_fields__)
    assert schema["required"] == [
        "version",
        "signal_id",
        "strategy",
        "symbol",
        "side",
        "confidence",
        "timestamp",
    ]


def test_schema_version_is_the_constant_one():
    assert trading_signal_schema()["properties"]["version"]["const"] == 1


def test_schema_requires_exactly_one_non_null_of_qty_and_notional():
    one_of = trading_signal_schema()["oneOf"]

    assert one_of == [
        {"required": ["qty"], "properties": {"qty": {"not": {"type": "null"}}}},
        {"required": ["notional"], "properties": {"notional": {"not": {"type": "null"}}}},
    ]


@pytest.mark.parametrize("field", ["qty", "notional", "price"])
def test_schema_amounts_are_positive_numbers_or_numeric_strings_or_null(field):
    spec = trading_signal_schema()["properties"][field]

    assert spec["type"] == ["number", "string", "null"]
    assert spec["pattern"] == DECIMAL_STRING_PATTERN
    assert (spec["exclusiveMinimum"], spec["exclusiveMaximum"]) == (0, 10**15)


def test_schema_confidence_is_a_number_or_numeric_string_from_zero_to_one():
    spec = trading_signal_schema()["properties"]["confidence"]

    assert spec["type"] == ["number", "string"]
    assert (spec["minimum"], spec["maximum"]) == (0, 1)


def test_schema_names_carry_the_decoders_length_limits():
    properties = trading_signal_schema()["properties"]

    assert properties["signal_id"]["maxLength"] == MAX_SIGNAL_ID_LENGTH
    assert properties["strategy"]["maxLength"] == properties["symbol"]["maxLength"] == 64
    assert properties["trace_id"]["anyOf"][0]["maxLength"] == 128


def test_schema_timestamp_is_a_date_time_with_the_decoders_pattern():
    spec = trading_signal_schema()["properties"]["timestamp"]

    assert spec["format"] == "date-time"
    assert spec["pattern"] == TIMESTAMP_PATTERN


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        *[("0.5", True), ("12", True), (".5", True), ("1e-3", True), ("-1", True)],
        *[("NaN", False), ("Infinity", False), ("1,5", False), ("", False), ("0x10", False)],
    ],
)
def test_schema_decimal_string_pattern_accepts_what_decimal_reads(text, matches):
    # The schema says "^...$"; JSON Schema regexes are ECMA 262, which read these the same.
    assert (re.search(DECIMAL_STRING_PATTERN, text) is not None) is matches


def test_schema_side_enum_is_upper_and_lower_case():
    assert trading_signal_schema()["properties"]["side"]["enum"] == ["BUY", "SELL", "buy", "sell"]


def test_the_example_message_in_the_signals_doc_decodes():
    text = SIGNALS_DOC.read_text(encoding="utf-8")
    examples = re.findall(r"```json\n(.*?)```", text, flags=re.DOTALL)
    assert examples, "docs/signals.md has no ```json example"

    for example in examples:
        signal = decode_signal(example.encode(), "main")

        assert signal.signal_id
        json.loads(example)  # and it is plain JSON a producer can copy
