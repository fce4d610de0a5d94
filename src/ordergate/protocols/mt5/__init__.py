"""The MetaTrader 5 bridge protocol, version 1 (docs/mt5-bridge.md).

`bridge-v1.schema.json` is the contract, machine-readable: the expert advisor
(`mql5/OrdergateBridge.mq5`), the EA simulator and the `mt5` venue are all held to it by
the tests, which validate every frame of the golden transcripts (`tests/golden/mt5/`).
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any, Final

VERSION: Final = 1
SCHEMA_FILE: Final = "bridge-v1.schema.json"


@cache
def schema() -> dict[str, Any]:
    """The protocol's JSON Schema (draft 2020-12), as shipped in the package."""
    text = files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
