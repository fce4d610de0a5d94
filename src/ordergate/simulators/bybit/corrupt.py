"""What a corrupting fault sends in place of a JSON answer or message (see `faults`).

Three ways a payload goes wrong on the way to a client, each deterministic:

- not JSON: an HTML error page, as a proxy or a load balancer in front of an exchange
  answers when it has nothing better to say;
- truncated: the first half of the JSON text, as a connection cut mid-body leaves it;
- oversized: the JSON padded to a size with a field no client reads, so a client that
  parsed it would find it valid: only a size limit tells it apart.
"""

from __future__ import annotations

from typing import Final

from ordergate.simulators.bybit.faults import FaultKind, FaultRule

NOT_JSON_BODY: Final = (
    "<html><head><title>502 Bad Gateway</title></head>"
    "<body><h1>simulated: not a JSON answer</h1></body></html>"
)
PADDING_FIELD: Final = "simulatorPadding"


def corrupted(text: str, rule: FaultRule) -> str:
    """`text` (a JSON object) as the corrupting `rule` spoils it."""
    kind = rule.kind
    if kind in (FaultKind.NOT_JSON, FaultKind.WS_NOT_JSON):
        return NOT_JSON_BODY
    if kind in (FaultKind.TRUNCATED, FaultKind.WS_TRUNCATED):
        return text[: len(text) // 2]
    if kind in (FaultKind.OVERSIZED, FaultKind.WS_OVERSIZED):
        return padded(text, rule.size)
    raise ValueError(f"{kind} does not corrupt a payload")


def padded(text: str, size: int) -> str:
    """A JSON object's text with a padding field: `size` characters (ASCII: bytes) long,
    or just longer than `text` when `text` is that long already."""
    opened = text.rstrip()[:-1].rstrip()  # the object without its closing brace
    head = f'{opened}{"" if opened.endswith("{") else ","} "{PADDING_FIELD}": "'
    filler = max(1, size - len(head) - len('"}'))
    return f'{head}{"x" * filler}"}}'
