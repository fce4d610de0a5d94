"""ccxt's exceptions, classified once, by whether the request may have reached the venue.

The adapter raises only ordergate's venue errors (`ordergate.domain.errors`); two of its
own refine them::

    VenueError
    ├── RetryableVenueError      nothing happened: rate limited, or a read that failed
    ├── RejectedByVenue          refused for good
    │   └── UnsupportedByVenue   ordergate asked for something this venue cannot express
    └── AmbiguousVenueError      it may have happened: ask by client order id
        └── UnmappedVenueValue   the venue answered with a value the adapter has no
                                 mapping for; what it did is not known

A state-changing request (create, amend, cancel) that fails in transport may have been
executed: timeouts, dropped connections and 5xx answers are ambiguous. A read changes
nothing, so the same failures only make it retryable. A venue that answers "too many
requests" refused before acting, so a rate limit is retryable either way.

An answer that cannot be read (ccxt's `BadResponse`, and `UnreadablePayload`: too large,
empty, not JSON, truncated; see `payloads`) says nothing about what the venue did. It
carries the code `VENUE_PAYLOAD_UNREADABLE`: ambiguous on a state-changing request, never
taken as a refusal, and retryable on a read.

A duplicate client order id on create is ambiguous rather than refused: the venue holds
an order with this id, so the id's earlier submit did land. Refusing would mark
ordergate's order REJECTED while it works at the venue; ambiguity makes the engine ask
the venue by client order id, which answers with the order's true state.
"""

from __future__ import annotations

from typing import Final

import ccxt  # type: ignore[import-untyped]

from ordergate.domain.errors import (
    AmbiguousVenueError,
    RejectedByVenue,
    RetryableVenueError,
    VenueError,
)
from ordergate.domain.reasons import ReasonCode

PAYLOAD_UNREADABLE: Final = "VENUE_PAYLOAD_UNREADABLE"


class UnreadablePayload(ccxt.BadResponse):  # type: ignore[misc]
    """Raised inside ccxt, in place of reading an answer no reading can trust: over the
    size limit, empty, or not JSON (see `payloads`). A ccxt exception, so that it leaves
    ccxt as ccxt's own do, and is classified with them."""


class UnsupportedByVenue(RejectedByVenue):
    """A request this venue cannot express (a time in force, an order type, an amend)."""

    code = ReasonCode.UNSUPPORTED_ORDER_TYPE


class UnmappedVenueValue(AmbiguousVenueError):
    """The venue answered with a value no map of the adapter knows: a status, a type, a
    side. Never guessed: the answer is not understood, so what happened is not known."""

    code = "VENUE_VALUE_UNMAPPED"


# Refusals, most specific first: the first class an exception is an instance of wins.
_REFUSALS: tuple[tuple[type[BaseException], str], ...] = (
    (ccxt.OrderNotFound, ReasonCode.VENUE_ORDER_NOT_FOUND),
    (ccxt.InsufficientFunds, ReasonCode.VENUE_INSUFFICIENT_MARGIN),
    (ccxt.BadSymbol, ReasonCode.SYMBOL_NOT_ALLOWED),
    (ccxt.NotSupported, ReasonCode.UNSUPPORTED_ORDER_TYPE),
    (ccxt.InvalidOrder, ReasonCode.VENUE_REJECTED),
    (ccxt.BadRequest, ReasonCode.VENUE_REJECTED),
    (ccxt.ArgumentsRequired, ReasonCode.VENUE_REJECTED),
    (ccxt.AuthenticationError, ReasonCode.VENUE_REJECTED),
    (ccxt.OperationRejected, ReasonCode.VENUE_REJECTED),
    (ccxt.InvalidAddress, ReasonCode.VENUE_REJECTED),
)

# The venue said "not now" before doing anything: rate limits, and a request refused for
# its timestamp or nonce (checked before any order logic).
_REFUSED_BEFORE_ACTING = (
    ccxt.RateLimitExceeded,
    ccxt.DDoSProtection,
    ccxt.InvalidNonce,
)


def classify(exc: BaseException, *, changes_state: bool) -> VenueError:
    """Translate a ccxt exception into ordergate's venue error for this kind of request.

    `changes_state` is true for create, amend and cancel; false for reads.
    """
    message = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, _REFUSED_BEFORE_ACTING):
        return RetryableVenueError(message)
    if changes_state and isinstance(exc, ccxt.DuplicateOrderId):
        return AmbiguousVenueError(
            f"the venue already has an order with this client order id ({message})"
        )
    if isinstance(exc, ccxt.BadResponse):
        if changes_state:
            return AmbiguousVenueError(message, code=PAYLOAD_UNREADABLE)
        return RetryableVenueError(message, code=PAYLOAD_UNREADABLE)
    for kind, code in _REFUSALS:
        if isinstance(exc, kind):
            return RejectedByVenue(message, code=code)
    # What is left: transport failures (NetworkError: timeouts, resets, 5xx), an aiohttp
    # error ccxt wrapped as a bare ExchangeError, and venue error codes ccxt has no class
    # for. None of them says the request was refused before it acted.
    if changes_state:
        return AmbiguousVenueError(message)
    return RetryableVenueError(message)
