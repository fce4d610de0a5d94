"""Fault injection: what a test asks the simulator to get wrong, and the log of what did.

`FaultPlan.add(kind, count, path, **params)` arms a fault for its next `count` chances;
each chance that it acts counts it down and appends its kind to `fired`. Request faults
act on the next request whose path (as sent, or as the route's pattern such as
`/orders/{order_id}/`) is `path` (None: any):

- TOKEN_EXPIRED: the next authenticated request answers 401, and the token it carried
  is invalid from then on (a login or refresh issues a new one).
- RATE_LIMIT: 429 with `Retry-After` (`retry_after` seconds, default 1); nothing runs.
- SERVER_ERROR: HTTP `status` (500 by default, or another 5xx); nothing runs.
- LOST_RESPONSE: on a POST (to `/orders/` unless `path` says otherwise) the request runs,
  the order IS created, then the connection is dropped, or with `delay` the answer is
  held that many seconds, so that the client times out first.

Order faults act on orders, whatever the path:

- FILL_ON_CANCEL: the next cancel of a working order is accepted (200 `{}`), but the
  order fills completely before the cancel takes effect, and ends `filled`.
- UNCONFIRMED_LINGERS: the next order to fill completely keeps showing `unconfirmed`,
  with its executions and full `cumulative_quantity`.
- PARTIAL_THEN_CANCEL: the next order to fill fills `quantity` (default: half of it,
  whole shares when it has two or more), then the venue cancels the rest: `cancelled`
  with executions.
- BUYING_POWER: the next `POST orders/` is refused as an order beyond the buying power.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Final

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.values import ZERO

ORDERS_PATH: Final = "/orders/"


class FaultKind(StrEnum):
    TOKEN_EXPIRED = "token_expired"
    RATE_LIMIT = "rate_limit"
    SERVER_ERROR = "server_error"
    LOST_RESPONSE = "lost_response"
    FILL_ON_CANCEL = "fill_on_cancel"
    UNCONFIRMED_LINGERS = "unconfirmed_lingers"
    PARTIAL_THEN_CANCEL = "partial_then_cancel"
    BUYING_POWER = "buying_power"


REQUEST_KINDS: Final = frozenset(
    (
        FaultKind.TOKEN_EXPIRED,
        FaultKind.RATE_LIMIT,
        FaultKind.SERVER_ERROR,
        FaultKind.LOST_RESPONSE,
    )
)
_PARAMETERS: Final[Mapping[FaultKind, frozenset[str]]] = {
    FaultKind.RATE_LIMIT: frozenset({"retry_after"}),
    FaultKind.SERVER_ERROR: frozenset({"status"}),
    FaultKind.LOST_RESPONSE: frozenset({"delay"}),
    FaultKind.PARTIAL_THEN_CANCEL: frozenset({"quantity"}),
}


@dataclass(frozen=True, slots=True)
class Fault:
    """One armed fault and its parameters (each meaningful for one kind only)."""

    kind: FaultKind
    path: str | None = None
    retry_after: int = 1
    status: int = 500
    delay: float | None = None
    quantity: Decimal | None = None

    def covers(self, path: str, pattern: str) -> bool:
        return self.path is None or self.path in (path, pattern)


def build_fault(kind: str, path: str | None, params: Mapping[str, object]) -> Fault:
    """Check a fault's kind, scope and parameters, and build it."""
    try:
        fault_kind = FaultKind(kind)
    except ValueError as exc:
        raise InvalidRequest(
            f"unknown fault {kind!r}: one of {[k.value for k in FaultKind]}"
        ) from exc
    unknown = sorted(set(params) - _PARAMETERS.get(fault_kind, frozenset()))
    if unknown:
        raise InvalidRequest(f"fault {fault_kind}: unknown parameters {unknown}")
    if path is not None and fault_kind not in REQUEST_KINDS:
        raise InvalidRequest(f"fault {fault_kind} acts on orders, not on a path")
    if path is None and fault_kind is FaultKind.LOST_RESPONSE:
        path = ORDERS_PATH
    status = _positive_int(params.get("status", 500), "status")
    if not 500 <= status <= 599:
        raise InvalidRequest("a server_error answers a 5xx status")
    delay = params.get("delay")
    if delay is not None and (
        isinstance(delay, bool) or not isinstance(delay, int | float) or delay <= 0
    ):
        raise InvalidRequest("a lost_response delay is a positive number of seconds")
    return Fault(
        fault_kind,
        path,
        retry_after=_positive_int(params.get("retry_after", 1), "retry_after"),
        status=status,
        delay=None if delay is None else float(delay),
        quantity=None if "quantity" not in params else _positive_decimal(params["quantity"]),
    )


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRequest(f"fault parameter {name} must be a positive integer")
    return value


def _positive_decimal(value: object) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise InvalidRequest("fault parameter quantity must be a number") from exc
    if isinstance(value, bool | float) or not number.is_finite() or number <= ZERO:
        raise InvalidRequest("fault parameter quantity must be a positive decimal or int")
    return number


class _Armed:
    __slots__ = ("fault", "remaining")

    def __init__(self, fault: Fault, count: int) -> None:
        self.fault = fault
        self.remaining = count


class FaultPlan:
    """The faults in force, and the kinds that acted, in order."""

    def __init__(self) -> None:
        self._armed: list[_Armed] = []
        self._fired: list[str] = []

    def add(self, kind: str, count: int, path: str | None, params: Mapping[str, object]) -> Fault:
        if isinstance(count, bool) or count < 1:
            raise InvalidRequest("a fault's count must be at least 1")
        fault = build_fault(kind, path, params)
        self._armed.append(_Armed(fault, count))
        return fault

    @property
    def fired(self) -> list[str]:
        return list(self._fired)

    def armed(self) -> list[tuple[Fault, int]]:
        """The faults still in force, each with how many more times it may act."""
        return [(armed.fault, armed.remaining) for armed in self._armed]

    def take(self, kind: FaultKind, path: str = "", pattern: str = "") -> Fault | None:
        """The first armed fault of `kind` covering the request (order faults cover
        every one), counted down and logged as acting; None if there is none."""
        for armed in self._armed:
            if armed.fault.kind is kind and armed.fault.covers(path, pattern):
                armed.remaining -= 1
                if armed.remaining == 0:
                    self._armed.remove(armed)
                self._fired.append(kind.value)
                return armed.fault
        return None
