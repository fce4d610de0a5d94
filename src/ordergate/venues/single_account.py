"""The checks of a venue adapter that trades one account and may be fenced: ccxt,
NautilusTrader live, MT5 and Robinhood each serve one venue account, and in a cluster
send only while their node holds the partition (`may_send`)."""

from __future__ import annotations

from collections.abc import Callable

from ordergate.domain.errors import JournalFenced, RejectedByVenue
from ordergate.domain.reasons import ReasonCode


def check_account(venue: str, served: str, account: str) -> None:
    """Refuse a request for an account the venue does not serve."""
    if account != served:
        raise RejectedByVenue(
            f"venue {venue} serves account {served!r}, not {account!r}",
            code=ReasonCode.UNKNOWN_ACCOUNT,
        )


def check_may_send(venue: str, may_send: Callable[[], bool] | None) -> None:
    """Refuse to send once the node no longer holds the partition (None: always send)."""
    if may_send is not None and not may_send():
        raise JournalFenced(f"{venue}: this node may no longer send")
