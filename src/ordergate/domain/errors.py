"""The one error hierarchy of ordergate.

Every exception ordergate raises on purpose derives from `OrderGateError` and carries a
stable, machine-readable `code` (the REST API sends it as `reason_code`)::

    OrderGateError
    ├── InvalidRequest              malformed intent: missing price, bad quantity, unknown side …
    │   ├── IdempotencyConflict     the key was used before with a different request
    │   ├── MalformedRequest        the bytes cannot be read: bad JSON, too deep, NUL  422
    │   ├── PayloadTooLarge         the body is over its route's limit                 413
    │   ├── HeadersTooLarge         the request line and headers are over the limit    431
    │   └── RequestTimedOut         the body did not arrive in time                    408
    ├── AccessDenied                the caller may not make this request         (API)
    │   ├── MissingApiKey           no `X-API-Key` header                          401
    │   ├── InvalidApiKey           malformed, unknown or revoked: one answer       401
    │   └── InsufficientScope       the key's scope is below the route's            403
    ├── NotFound                    no such order / instrument / account
    ├── RateLimited                 too many requests; try again after `retry_after` seconds
    ├── Conflict                    the request is well-formed but illegal in the current state
    │   ├── InvalidTransition       the order state table has no row for (state, trigger)
    │   └── DuplicateFill           a trade id was already applied
    ├── VenueError                  raised by venue adapters, classified once at the edge
    │   ├── RetryableVenueError     nothing happened at the venue; safe to send again
    │   ├── RejectedByVenue         the venue refused; sending again will not help
    │   └── AmbiguousVenueError     the request may have reached the venue; ask before resending
    ├── BusError                    the message broker (RabbitMQ) refused or failed a request
    │   ├── BusUnavailable          it cannot be reached now: try again later, lose nothing
    │   └── EventPublishFailed      it did not confirm an event; the relay publishes it again
    ├── JournalError                the journal refused or failed an append; the engine stops
    │   ├── JournalCorrupted        the hash chain or a read model does not verify
    │   ├── CheckpointUnreadable    a checkpoint does not decode or match: use an older one
    │   ├── JournalFenced           another node owns the partition now (its epoch is newer)
    │   └── RestoreRefused          an export that is not whole, or a target that is not empty
    ├── EngineStopped               the single writer is not running
    ├── ServerBusy                  the API has no room for another request now     503
    ├── PartitionNotOwned           another node runs the account's partition now   503
    ├── ConfigurationError          the settings cannot be used; the process does not start
    │   ├── UnknownSetting          an ORDERGATE_ / ORDERMANAGER_ variable no setting reads
    │   └── ConflictingSettings     two names of one setting given different values
    └── ServerUnreachable           the REST client got no answer (ordergate.client)

The REST client (`ordergate.client`) raises the class the server raised, decoded from
the answer's `reason_code`, with the answer's `X-Trace-Id` as `trace_id`.

A pre-trade risk denial is *not* an exception: it is an `OrderDenied` event with a
`ReasonCode`, and the order ends in `DENIED`.
"""

from __future__ import annotations


class OrderGateError(Exception):
    """Base of every error ordergate raises on purpose."""

    code: str = "ORDERGATE_ERROR"
    # The request's trace id, when the error came back from a server (`ordergate.client`).
    trace_id: str | None = None

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


class MalformedRequest(InvalidRequest):
    """The request's bytes cannot be read as a request: the JSON does not parse, nests
    too deep, repeats a key, holds a control character, or the text is not UTF-8."""

    code = "MALFORMED_REQUEST"


class PayloadTooLarge(InvalidRequest):
    """The body is larger than its route accepts; it was not read beyond the limit."""

    code = "BODY_TOO_LARGE"


class HeadersTooLarge(InvalidRequest):
    """The request line and headers together are larger than the API accepts."""

    code = "HEADERS_TOO_LARGE"


class RequestTimedOut(InvalidRequest):
    """The client did not send the whole request in time."""

    code = "BODY_TIMEOUT"


class AccessDenied(OrderGateError):
    """The request is refused before it reaches a route."""

    code = "ACCESS_DENIED"


class MissingApiKey(AccessDenied):
    code = "API_KEY_MISSING"

    def __init__(self) -> None:
        super().__init__("send an API key in the X-API-Key header")


class InvalidApiKey(AccessDenied):
    """Unknown, revoked and malformed keys get this same answer: it reveals nothing."""

    code = "API_KEY_INVALID"

    def __init__(self) -> None:
        super().__init__("the API key is not valid")


class InsufficientScope(AccessDenied):
    code = "API_KEY_SCOPE"

    def __init__(self, needed: str) -> None:
        super().__init__(f"this request needs an API key with scope '{needed}'")
        self.needed = needed


class NotFound(OrderGateError):
    code = "NOT_FOUND"


class RateLimited(OrderGateError):
    code = "THROTTLED"

    def __init__(self, message: str, retry_after: float, *, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


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


class BusError(OrderGateError):
    code = "BUS_ERROR"


class BusUnavailable(BusError):
    """The broker cannot be reached now; the message stays where it was."""

    code = "BUS_UNAVAILABLE"


class EventPublishFailed(BusError):
    """RabbitMQ did not confirm an event (nack, lost connection or channel, timeout).

    Nothing is lost: the relay keeps the message and publishes it again.
    """

    code = "EVENTS_PUBLISH_FAILED"


class JournalError(OrderGateError):
    code = "JOURNAL_ERROR"


class JournalCorrupted(JournalError):
    code = "JOURNAL_CORRUPTED"


class CheckpointUnreadable(JournalError):
    """A stored checkpoint that does not decode, or does not match the journal's chain:
    start-up takes an older one, or replays from the beginning."""

    code = "CHECKPOINT_UNREADABLE"


class JournalFenced(JournalError):
    """Another node has taken the partition over: this one may no longer append or send."""

    code = "JOURNAL_FENCED"


class RestoreRefused(JournalError):
    """`ordergate import` will not restore this export into this store: the export does not
    start at seq 1 (a window cannot be restored), or the store already holds a journal or
    read models (a restore never merges). Nothing was written."""

    code = "RESTORE_REFUSED"


class EngineStopped(OrderGateError):
    """The single writer is not running (not started, stopped, or failed)."""

    code = "ENGINE_STOPPED"


class ServerBusy(OrderGateError):
    """The API is at its cap of requests in flight: nothing was done; try again shortly."""

    code = "SERVER_BUSY"

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PartitionNotOwned(OrderGateError):
    """Another node of the cluster runs the account's partition now (or, during a
    takeover, none does): the request belongs on that node."""

    code = "PARTITION_NOT_OWNED"


class ConfigurationError(OrderGateError):
    """The configuration cannot be used as given; the process refuses to start."""

    code = "INVALID_CONFIGURATION"


class UnknownSetting(ConfigurationError):
    """A variable in ordergate's namespace that no setting reads: most likely a typo, and
    a misspelt risk limit must not run as no limit at all."""

    code = "UNKNOWN_SETTING"

    def __init__(self, name: str, source: str, suggestion: str | None) -> None:
        hint = f"; did you mean {suggestion}?" if suggestion else ""
        super().__init__(f"unknown setting {name} (in {source}){hint}")
        self.name = name
        self.suggestion = suggestion


class ConflictingSettings(ConfigurationError):
    """One setting given two different values under its two names (`ORDERGATE_...` and
    seed 002's `ORDERMANAGER_...`): neither may silently win."""

    code = "CONFLICTING_SETTINGS"


class ServerUnreachable(OrderGateError):
    """The REST client got no answer: the connection failed, was cut or timed out.

    A call that may have reached the server stays in doubt: a `place` (always sent with an
    idempotency key) may be sent again and answers the same order; a cancel, replace or
    close may have been done, so read the order before acting again.
    """

    code = "SERVER_UNREACHABLE"
