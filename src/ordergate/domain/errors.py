"""The one error hierarchy of ordergate.

Every exception ordergate raises on purpose derives from `OrderGateError` and carries a
stable, machine-readable `code` (the REST API sends it as `reason_code`)::

    OrderGateError
    ├── InvalidRequest              malformed intent: missing price, bad quantity, unknown side …
    │   └── IdempotencyConflict     the key was used before with a different request
    ├── NotFound                    no such order / instrument / account
    ├── Conflict                    the request is well-formed but illegal in the current state
    │   ├── InvalidTransition       the order state table has no row for (state, trigger)
    │   └── DuplicateFill           a trade id was already applied
    ├── VenueError                  raised by venue adapters, classified once at the edge
    │   ├── RetryableVenueError     nothing happened at the venue; safe to send again
    │   ├── RejectedByVenue         the venue refused; sending again will not help
    │   └── AmbiguousVenueError     the request may have reached the venue; ask before resending
    ├── JournalError                the journal refused or failed an append; the engine stops
    │   └── JournalCorrupted        the hash chain or a read model does not verify
    └── EngineStopped               the single writer is not running

A pre-trade risk denial is *not* an exception: it is an `OrderDenied` event with a
`ReasonCode`, and the order ends in `DENIED`.
"""

from __future__ import annotations


class OrderGateError(Exception):
    """Base of every error ordergate raises on purpose."""

    code: str = "ORDERGATE_ERROR"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class InvalidRequest(OrderGateError):
    """The intent is malformed; nothing was recorded."""

    code = "INVALID_REQUEST"


class IdempotencyConflict(InvalidRequest):
    """The idempotency key was already used for a different request."""

    code = "IDEMPOTENCY_KEY_REUSED"


class NotFound(OrderGateError):
    code = "NOT_FOUND"


class Conflict(OrderGateError):
    """Well-formed, but not allowed in the current state (HTTP 409)."""

    code = "CONFLICT"


class InvalidTransition(Conflict):
    """The order state table has no row for this (state, trigger) pair."""

    code = "INVALID_TRANSITION"

    def __init__(self, order_id: str, state: str, trigger: str) -> None:
        super().__init__(f"order {order_id}: no transition from {state} on {trigger}")
        self.order_id = order_id
        self.state = state
        self.trigger = trigger


class DuplicateFill(Conflict):
    code = "DUPLICATE_FILL"


class VenueError(OrderGateError):
    code = "VENUE_ERROR"


class RetryableVenueError(VenueError):
    """The request certainly did not take effect; it may be sent again."""

    code = "VENUE_RETRYABLE"


class RejectedByVenue(VenueError):
    """The venue refused the request; sending it again will not help."""

    code = "VENUE_REJECTED"


class AmbiguousVenueError(VenueError):
    """The request may have reached the venue: ask by client order id before resending."""

    code = "VENUE_AMBIGUOUS"


class JournalError(OrderGateError):
    code = "JOURNAL_ERROR"


class JournalCorrupted(JournalError):
    code = "JOURNAL_CORRUPTED"


class EngineStopped(OrderGateError):
    code = "ENGINE_STOPPED"
