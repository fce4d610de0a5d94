"""Robinhood's refusals, as the simulator answers them.

A `RobinhoodError` is an answer, not a fault of the simulator: a route raises it and
the server answers its status and JSON body. Robinhood's API is Django REST framework,
so refusals take its two shapes: `{"detail": "..."}` for the request as a whole, and
`{"<field>": ["..."]}` for one field. The wording is Robinhood's where public captures
show it (credentials, throttling, duplicate `ref_id`), DRF's defaults elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ordergate.simulators.robinhood.wire import JsonObject

BAD_CREDENTIALS: Final = "Unable to log in with provided credentials."
BAD_MFA_CODE: Final = "Please enter a valid code."
ACCOUNT_LOCKED: Final = "Your account is locked. Please contact support."
NO_CREDENTIALS: Final = "Authentication credentials were not provided."
INVALID_TOKEN: Final = "Invalid token."
NOT_FOUND: Final = "Not found."
BUYING_POWER: Final = "Not enough buying power."
SHARES: Final = "Not enough shares to sell."
NOT_CANCELLABLE: Final = "Order cannot be cancelled."
DUPLICATE_REF_ID: Final = "Order with this ref_id already exists."
STOP_ORDERS: Final = "Stop orders are not supported by this simulator."


class RobinhoodError(Exception):
    """A request refused with an HTTP status and Robinhood's JSON body."""

    def __init__(
        self, status: int, body: JsonObject, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body
        self.headers: Mapping[str, str] = headers or {}


def detail(status: int, message: str, headers: Mapping[str, str] | None = None) -> RobinhoodError:
    """A refusal of the whole request: `{"detail": message}`."""
    return RobinhoodError(status, {"detail": message}, headers)


def field_error(name: str, message: str) -> RobinhoodError:
    """A refusal of one form field: 400 `{name: [message]}`."""
    return RobinhoodError(400, {name: [message]})


def throttled(retry_after: int) -> RobinhoodError:
    """429 as Robinhood's throttle answers it, with `Retry-After`."""
    return detail(
        429,
        f"Request was throttled. Expected available in {retry_after} seconds.",
        {"Retry-After": str(retry_after)},
    )
