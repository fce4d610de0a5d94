"""The JSON Schema (draft 2020-12) of a version 1 trading signal, generated from the Struct.

`msgspec.json.schema(TradingSignalV1)` gives the fields, their lengths, patterns and
descriptions; this module adds what msgspec cannot say: that a decimal is a JSON number
*or* a numeric string with bounds, that exactly one of `qty` and `notional` is given,
and that unknown fields are allowed. The committed copy lives in
`docs/schemas/trading-signal.schema.json`, and a unit test fails when it drifts.
Regenerate it with:

    python -m ordergate.domain.signal_schema > docs/schemas/trading-signal.schema.json
"""

from __future__ import annotations

import json
import sys
from typing import Any

import msgspec

from ordergate.domain.signal_model import TradingSignalV1
from ordergate.domain.values import MAX_MAGNITUDE

SCHEMA_PATH = "docs/schemas/trading-signal.schema.json"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
REGENERATE = f"python -m ordergate.domain.signal_schema > {SCHEMA_PATH}"

# A decimal written as a string, as Python's Decimal reads it (no NaN or Infinity).
DECIMAL_STRING_PATTERN = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_POSITIVE_BOUNDS: dict[str, Any] = {
    "exclusiveMinimum": 0,
    "exclusiveMaximum": int(MAX_MAGNITUDE),
}
_DECIMAL_BOUNDS: dict[str, dict[str, Any]] = {
    "confidence": {"minimum": 0, "maximum": 1},
    "qty": _POSITIVE_BOUNDS,
    "notional": _POSITIVE_BOUNDS,
    "price": _POSITIVE_BOUNDS,
}
_EXACTLY_ONE_OF = ("qty", "notional")


def trading_signal_schema() -> dict[str, Any]:
    """Build the schema of a version 1 signal as a JSON-ready dict."""
    generated = msgspec.json.schema(TradingSignalV1)
    definitions = generated["$defs"]
    if set(definitions) != {TradingSignalV1.__name__}:
        raise AssertionError(f"unexpected definitions in the signal schema: {sorted(definitions)}")
    body = definitions[TradingSignalV1.__name__]
    properties = {name: _property(name, spec) for name, spec in body["properties"].items()}
    return {
        "$schema": DRAFT,
        "title": "Trading signal, version 1",
        "description": (
            f"{body['description']} Fields not listed here are ignored, so a producer "
            "may add fields without its signals being refused."
        ),
        "type": "object",
        "properties": properties,
        "required": body["required"],
        "oneOf": [
            {"required": [name], "properties": {name: {"not": {"type": "null"}}}}
            for name in _EXACTLY_ONE_OF
        ],
        "additionalProperties": True,
    }


def trading_signal_schema_json() -> str:
    """Render the schema exactly as the committed file holds it."""
    return json.dumps(trading_signal_schema(), indent=2, ensure_ascii=False) + "\n"


def _property(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    spec = dict(spec)
    if spec.get("enum") is not None and len(spec["enum"]) == 1:
        spec["const"] = spec.pop("enum")[0]
    if name not in _DECIMAL_BOUNDS:
        return spec
    nullable = False
    if "anyOf" in spec:
        variants = spec.pop("anyOf")
        nullable = {"type": "null"} in variants
        (decimal,) = [v for v in variants if v != {"type": "null"}]
        spec.update(decimal)
    if spec.pop("format", None) != "decimal":
        raise AssertionError(f"signal field {name} is not a decimal")
    types = ["number", "string", "null"] if nullable else ["number", "string"]
    spec.update({"type": types, "pattern": DECIMAL_STRING_PATTERN, **_DECIMAL_BOUNDS[name]})
    return spec


if __name__ == "__main__":
    sys.stdout.write(trading_signal_schema_json())
