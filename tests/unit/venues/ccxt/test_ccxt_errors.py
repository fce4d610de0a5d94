"""ccxt's exceptions classified once, by whether the request may have reached the venue."""

from __future__ import annotations

import ccxt
import pytest

from ordergate.domain.errors import AmbiguousVenueError, RejectedByVenue, RetryableVenueError
from ordergate.domain.reasons import ReasonCode
from ordergate.venues.ccxt.errors import PAYLOAD_UNREADABLE, UnreadablePayload, classify

WRITE_AND_READ = [
    # (ccxt exception, on create/amend/cancel, on a read, reason code of a refusal)
    (ccxt.RateLimitExceeded, RetryableVenueError, RetryableVenueError, None),
    (ccxt.DDoSProtection, RetryableVenueError, RetryableVenueError, None),
    (ccxt.InvalidNonce, RetryableVenueError, RetryableVenueError, None),
    (ccxt.RequestTimeout, AmbiguousVenueError, RetryableVenueError, None),
    (ccxt.ExchangeNotAvailable, AmbiguousVenueError, RetryableVenueError, None),
    (ccxt.OnMaintenance, AmbiguousVenueError, RetryableVenueError, None),
    (ccxt.NetworkError, AmbiguousVenueError, RetryableVenueError, None),
    (ccxt.BadResponse, AmbiguousVenueError, RetryableVenueError, None),
    (ccxt.NullResponse, AmbiguousVenueError, RetryableVenueError, None),
    (UnreadablePayload, AmbiguousVenueError, RetryableVenueError, None),
    (ccxt.OperationFailed, AmbiguousVenueError, RetryableVenueError, None),
    (ccxt.ExchangeError, AmbiguousVenueError, RetryableVenueError, None),
    (ccxt.DuplicateOrderId, AmbiguousVenueError, RejectedByVenue, ReasonCode.VENUE_REJECTED),
    (ccxt.OrderNotFound, RejectedByVenue, RejectedByVenue, ReasonCode.VENUE_ORDER_NOT_FOUND),
    (
        ccxt.InsufficientFunds,
        RejectedByVenue,
        RejectedByVenue,
        ReasonCode.VENUE_INSUFFICIENT_MARGIN,
    ),
    (ccxt.InvalidOrder, RejectedByVenue, RejectedByVenue, ReasonCode.VENUE_REJECTED),
    (ccxt.OrderImmediatelyFillable, RejectedByVenue, RejectedByVenue, ReasonCode.VENUE_REJECTED),
    (ccxt.BadRequest, RejectedByVenue, RejectedByVenue, ReasonCode.VENUE_REJECTED),
    (ccxt.BadSymbol, RejectedByVenue, RejectedByVenue, ReasonCode.SYMBOL_NOT_ALLOWED),
    (ccxt.AuthenticationError, RejectedByVenue, RejectedByVenue, ReasonCode.VENUE_REJECTED),
    (ccxt.PermissionDenied, RejectedByVenue, RejectedByVenue, ReasonCode.VENUE_REJECTED),
    (ccxt.MarketClosed, RejectedByVenue, RejectedByVenue, ReasonCode.VENUE_REJECTED),
    (ccxt.NotSupported, RejectedByVenue, RejectedByVenue, ReasonCode.UNSUPPORTED_ORDER_TYPE),
]


@pytest.mark.parametrize(
    ("exception", "on_write", "on_read", "code"),
    WRITE_AND_READ,
    ids=lambda v: getattr(v, "__name__", v),
)
def test_ccxt_exceptions_are_classified_per_kind_of_request(exception, on_write, on_read, code):
    written = classify(exception("bybit something"), changes_state=True)
    read = classify(exception("bybit something"), changes_state=False)

    assert type(written) is on_write
    assert type(read) is on_read
    for error in (written, read):
        if isinstance(error, RejectedByVenue) and code is not None:
            assert error.code == code
        assert "bybit something" in error.message


def test_a_transport_error_outside_ccxt_is_ambiguous_on_a_write():
    assert type(classify(ConnectionResetError("reset"), changes_state=True)) is AmbiguousVenueError
    assert type(classify(TimeoutError(), changes_state=False)) is RetryableVenueError


@pytest.mark.parametrize("exception", [ccxt.BadResponse, ccxt.NullResponse, UnreadablePayload])
def test_an_unreadable_answer_says_so_in_its_code_never_as_a_refusal(exception):
    written = classify(exception("bybit POST /v5/order/create"), changes_state=True)
    read = classify(exception("bybit GET /v5/order/realtime"), changes_state=False)

    assert (written.code, read.code) == (PAYLOAD_UNREADABLE, PAYLOAD_UNREADABLE)
