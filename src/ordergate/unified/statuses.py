"""ordergate's order statuses in seed 004's four words.

The seed's result `status` is one of `PENDING`, `FILLED`, `REJECTED`, `CANCELED`.
ordergate has thirteen statuses (and a dry run's `PLANNED`); this table says which seed
word each one is, and `tests/unit/unified/test_statuses.py` fails when a status is added
without a row. The map is keyed by the status's name, not its enum member, so that a
status a newer engine adds (`PLANNED`, dry-run mode's "decided, never sent") maps here
before, and after, the member exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ordergate.domain.values import OrderStatus
from ordergate.engine.views import OrderView

PENDING: Final = "PENDING"
FILLED: Final = "FILLED"
REJECTED: Final = "REJECTED"
CANCELED: Final = "CANCELED"

SEED_STATUSES: Final = (PENDING, FILLED, REJECTED, CANCELED)

PLANNED: Final = "PLANNED"
PLANNED_ERROR: Final = "PLANNED: dry run, not sent"

SEED_STATUS: Final[Mapping[str, str]] = {
    # working, or waiting for the venue to say: the seed's PENDING
    OrderStatus.NEW: PENDING,
    OrderStatus.PENDING_SUBMIT: PENDING,
    OrderStatus.SUBMITTED: PENDING,
    OrderStatus.ACCEPTED: PENDING,
    OrderStatus.PARTIALLY_FILLED: PENDING,
    OrderStatus.PENDING_CANCEL: PENDING,
    OrderStatus.PENDING_REPLACE: PENDING,
    # UNKNOWN: the venue may hold it; ordergate is asking. Not final, so not CANCELED.
    OrderStatus.UNKNOWN: PENDING,
    OrderStatus.FILLED: FILLED,
    OrderStatus.REJECTED: REJECTED,
    # A risk denial never reached the venue, but to the seed's caller it is a refusal.
    OrderStatus.DENIED: REJECTED,
    OrderStatus.CANCELED: CANCELED,
    OrderStatus.EXPIRED: CANCELED,
    # Dry run: decided and approved by risk, never sent; it will not fill.
    PLANNED: CANCELED,
}


def seed_status(status: OrderStatus | str) -> str:
    """The seed's word for an ordergate status (by name)."""
    return SEED_STATUS[str(status)]


def seed_error(view: OrderView) -> str | None:
    """The seed's `error`: `"<reason code>: <reason>"` for a denial or a rejection, the
    dry run's note for a planned order, else None."""
    if str(view.status) == PLANNED:
        return PLANNED_ERROR
    if seed_status(view.status) != REJECTED:
        return None
    code = view.reason_code or str(view.status)
    return f"{code}: {view.reason}" if view.reason else code
