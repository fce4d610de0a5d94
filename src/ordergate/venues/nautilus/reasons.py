"""NautilusTrader's refusals as ordergate's reason codes.

NautilusTrader says why in free text only; these few rules read the texts its 1.221
matching and risk engines write (see docs/decisions/0032). Anything not recognised
keeps its text under the general `VENUE_REJECTED`: a code is never guessed.

Two sources, kept apart:
- `OrderRejected`: the simulated exchange refused the order (post-only would take,
  reduce-only would increase, no market yet, a stop already in the market).
- `OrderDenied`: NautilusTrader's own risk engine refused it before the exchange saw it
  (precision, maximum trade size, GTD already passed, its rate limit, HALTED). ordergate
  has no "denied by the venue's risk engine" outcome, so a denial is a rejection coded
  `VENUE_REJECTED` whose reason says who denied it (`nautilus_vocabulary.denial_reason`).
"""

from __future__ import annotations

from ordergate.domain.reasons import ReasonCode


def rejection_code(reason: str) -> str:
    """The code of a simulated-exchange rejection, from its text."""
    if "REDUCE_ONLY" in reason and "increase" in reason:
        return ReasonCode.REDUCE_ONLY_NO_POSITION
    if reason.startswith("no market"):
        return ReasonCode.NO_REFERENCE_PRICE
    return ReasonCode.VENUE_REJECTED


def is_duplicate_denial(reason: str) -> bool:
    """A denial for reusing a client order id (NautilusTrader: "duplicate ClientOrderId(…)")."""
    return reason.startswith("duplicate ")


def request_rejection_code(reason: str) -> str:
    """The code of a refused cancel or modify: not found (closed, or never known) or other."""
    if reason.endswith("not found") or "already closed" in reason:
        return ReasonCode.VENUE_ORDER_NOT_FOUND
    return ReasonCode.VENUE_REJECTED
