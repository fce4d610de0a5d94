"""Fault injection: rules a test sets to make the simulator misbehave, deterministically.

A rule has a kind, a scope (an endpoint path such as "/v5/order/create" for the HTTP
kinds, a topic such as "execution" for the websocket kinds, or "*" for all), a count
(fire on the next N matches; None: every match) and a probability (drawn from one RNG
seeded by the simulator's seed, only when the rule could fire). Rules are tried in the
order they were added; each kind's effect:

- LATENCY: wait `delay` seconds between reading the request and handling it (every
  matching rule adds); a client that gives up in the meantime does not stop it.
- HTTP_ERROR: answer HTTP `status` (5xx) without executing the request.
- RATE_LIMIT: answer Bybit's `10006` with its rate-limit headers, without executing.
- LOST_RESPONSE: execute the request, then drop the connection (`drop_connection`) or
  withhold the answer until the client gives up (the order is really placed). aiohttp
  (ccxt's HTTP client) resends a GET once when the connection drops, so a dropped GET
  with `count=1` goes unnoticed; withholding, or a larger count, is seen.
- NOT_JSON, TRUNCATED, OVERSIZED: execute the request, then answer HTTP 200 with a body
  that is not JSON (an HTML page, as a proxy would send), with the JSON answer cut in
  half, or with the JSON answer padded to `size` bytes (still valid JSON); see `corrupt`.
- WS_DROP: close the private connection instead of sending the message (lost with it).
- WS_DUPLICATE: send the message twice.
- WS_REORDER: hold the message back and send it right after the next one on that
  connection (with no next one, it is never sent).
- WS_WITHHOLD: never send the message, so its `seq` is missing downstream.
- WS_NOT_JSON, WS_TRUNCATED, WS_OVERSIZED: send, instead of the message, a frame that is
  not JSON, the message cut in half, or the message padded to `size` bytes.

`fired` records every firing (kind, scope, target), for assertions and the control API.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ordergate.domain.errors import InvalidRequest


class FaultKind(StrEnum):
    LATENCY = "latency"
    HTTP_ERROR = "http_error"
    RATE_LIMIT = "rate_limit"
    LOST_RESPONSE = "lost_response"
    WS_DROP = "ws_drop"
    WS_DUPLICATE = "ws_duplicate"
    WS_REORDER = "ws_reorder"
    WS_WITHHOLD = "ws_withhold"
    NOT_JSON = "not_json"
    TRUNCATED = "truncated"
    OVERSIZED = "oversized"
    WS_NOT_JSON = "ws_not_json"
    WS_TRUNCATED = "ws_truncated"
    WS_OVERSIZED = "ws_oversized"

    @property
    def on_websocket(self) -> bool:
        return self in _WEBSOCKET_KINDS

    @property
    def corrupts(self) -> bool:
        """Whether the fault sends something unreadable in place of an answer or message."""
        return self in CORRUPTING_KINDS


CORRUPTING_KINDS = frozenset(
    (
        FaultKind.NOT_JSON,
        FaultKind.TRUNCATED,
        FaultKind.OVERSIZED,
        FaultKind.WS_NOT_JSON,
        FaultKind.WS_TRUNCATED,
        FaultKind.WS_OVERSIZED,
    )
)
_WEBSOCKET_KINDS = frozenset(
    (
        FaultKind.WS_DROP,
        FaultKind.WS_DUPLICATE,
        FaultKind.WS_REORDER,
        FaultKind.WS_WITHHOLD,
        FaultKind.WS_NOT_JSON,
        FaultKind.WS_TRUNCATED,
        FaultKind.WS_OVERSIZED,
    )
)
_BEFORE_EXECUTION = (FaultKind.HTTP_ERROR, FaultKind.RATE_LIMIT)
_CORRUPTING_REST = (FaultKind.NOT_JSON, FaultKind.TRUNCATED, FaultKind.OVERSIZED)
ANY = "*"
DEFAULT_OVERSIZE: Final = 1024 * 1024  # bytes of an OVERSIZED answer or message


@dataclass(frozen=True, slots=True)
class FaultRule:
    """One fault; `delay` is for LATENCY, `status` for HTTP_ERROR, `drop_connection` for
    LOST_RESPONSE, `size` (bytes) for OVERSIZED and WS_OVERSIZED."""

    kind: FaultKind
    scope: str = ANY
    count: int | None = None
    probability: float = 1.0
    delay: float = 0.0
    status: int = 503
    drop_connection: bool = True
    size: int = DEFAULT_OVERSIZE

    def __post_init__(self) -> None:
        if self.count is not None and self.count < 1:
            raise InvalidRequest("a fault's count must be at least 1 (None: unlimited)")
        if not 0.0 < self.probability <= 1.0:
            raise InvalidRequest("a fault's probability must be in (0, 1]")
        if self.delay < 0 or (self.kind is FaultKind.LATENCY) != (self.delay > 0):
            raise InvalidRequest("a positive delay is for LATENCY faults, and they need one")
        if not 500 <= self.status <= 599:
            raise InvalidRequest("an HTTP_ERROR fault answers a 5xx status")
        if not self.scope:
            raise InvalidRequest("a fault's scope is an endpoint path, a topic or '*'")
        if self.size < 1:
            raise InvalidRequest("an oversized answer or message has a size of 1 byte or more")

    def covers(self, target: str) -> bool:
        return self.scope in (ANY, target)


@dataclass(frozen=True, slots=True)
class FiredFault:
    kind: FaultKind
    scope: str
    target: str


class _Armed:
    """A rule and how many more times it may fire (None: unlimited)."""

    __slots__ = ("remaining", "rule")

    def __init__(self, rule: FaultRule) -> None:
        self.rule = rule
        self.remaining = rule.count


class FaultPlan:
    """The rules in force and a log of what fired; set per test, cleared by `clear`."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._armed: list[_Armed] = []
        self._fired: list[FiredFault] = []

    def add(self, rule: FaultRule) -> FaultRule:
        self._armed.append(_Armed(rule))
        return rule

    def clear(self) -> None:
        """Remove every rule (the log of fired faults is kept)."""
        self._armed.clear()

    def rules(self) -> list[tuple[FaultRule, int | None]]:
        """The rules still in force, each with how many firings it has left."""
        return [(armed.rule, armed.remaining) for armed in self._armed]

    @property
    def fired(self) -> list[FiredFault]:
        return list(self._fired)

    # --- questions the server asks ---------------------------------------------------------

    def latency(self, endpoint: str) -> float:
        """Seconds to wait before handling a request to `endpoint`."""
        return sum(rule.delay for rule in self._fire((FaultKind.LATENCY,), endpoint, first=False))

    def refusal(self, endpoint: str) -> FaultRule | None:
        """An HTTP_ERROR or RATE_LIMIT to answer instead of executing, if one fires."""
        return next(iter(self._fire(_BEFORE_EXECUTION, endpoint)), None)

    def lost_response(self, endpoint: str) -> FaultRule | None:
        return next(iter(self._fire((FaultKind.LOST_RESPONSE,), endpoint)), None)

    def corrupt_answer(self, endpoint: str) -> FaultRule | None:
        """A NOT_JSON, TRUNCATED or OVERSIZED fault to answer an executed request with."""
        return next(iter(self._fire(_CORRUPTING_REST, endpoint)), None)

    def websocket(self, topic: str) -> FaultRule | None:
        """The websocket fault that applies to one delivery of a `topic` message, if any."""
        return next(iter(self._fire(tuple(_WEBSOCKET_KINDS), topic)), None)

    def _fire(
        self, kinds: tuple[FaultKind, ...], target: str, *, first: bool = True
    ) -> list[FaultRule]:
        fired: list[FaultRule] = []
        for armed in self._armed:
            rule = armed.rule
            if rule.kind not in kinds or not rule.covers(target):
                continue
            if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                continue
            if armed.remaining is not None:
                armed.remaining -= 1
            self._fired.append(FiredFault(rule.kind, rule.scope, target))
            fired.append(rule)
            if first:
                break
        self._armed = [armed for armed in self._armed if armed.remaining != 0]
        return fired
