"""MT5's trade server return codes (`TRADE_RETCODE_*`), and what each means for a client.

The classification is the protocol's (docs/mt5-bridge.md, "Error codes"): the EA, the
EA simulator and the `mt5` venue all read a retcode through `outcome_of`, so the three
cannot disagree on what a requote or a timeout means. Numbers and names are as the
MetaTrader5 package's `__init__.py` writes them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Outcome(StrEnum):
    """What a retcode tells the client about its request."""

    OK = "ok"  # done, placed, or partly done: the order exists
    NO_CHANGE = "no_change"  # a modify that changed nothing: ok, a duplicate
    REQUOTED = "requoted"  # refused with new prices (REJECTED, with bid and ask)
    REJECTED = "rejected"  # refused: terminal for this client order id
    BUSY = "busy"  # not sent: the same request may be sent again later
    UNKNOWN = "unknown"  # sent, no answer: ask for the order before deciding anything


RETCODES: Final[dict[int, str]] = {
    10004: "TRADE_RETCODE_REQUOTE",
    10006: "TRADE_RETCODE_REJECT",
    10007: "TRADE_RETCODE_CANCEL",
    10008: "TRADE_RETCODE_PLACED",
    10009: "TRADE_RETCODE_DONE",
    10010: "TRADE_RETCODE_DONE_PARTIAL",
    10011: "TRADE_RETCODE_ERROR",
    10012: "TRADE_RETCODE_TIMEOUT",
    10013: "TRADE_RETCODE_INVALID",
    10014: "TRADE_RETCODE_INVALID_VOLUME",
    10015: "TRADE_RETCODE_INVALID_PRICE",
    10016: "TRADE_RETCODE_INVALID_STOPS",
    10017: "TRADE_RETCODE_TRADE_DISABLED",
    10018: "TRADE_RETCODE_MARKET_CLOSED",
    10019: "TRADE_RETCODE_NO_MONEY",
    10020: "TRADE_RETCODE_PRICE_CHANGED",
    10021: "TRADE_RETCODE_PRICE_OFF",
    10022: "TRADE_RETCODE_INVALID_EXPIRATION",
    10023: "TRADE_RETCODE_ORDER_CHANGED",
    10024: "TRADE_RETCODE_TOO_MANY_REQUESTS",
    10025: "TRADE_RETCODE_NO_CHANGES",
    10026: "TRADE_RETCODE_SERVER_DISABLES_AT",
    10027: "TRADE_RETCODE_CLIENT_DISABLES_AT",
    10028: "TRADE_RETCODE_LOCKED",
    10029: "TRADE_RETCODE_FROZEN",
    10030: "TRADE_RETCODE_INVALID_FILL",
    10031: "TRADE_RETCODE_CONNECTION",
    10032: "TRADE_RETCODE_ONLY_REAL",
    10033: "TRADE_RETCODE_LIMIT_ORDERS",
    10034: "TRADE_RETCODE_LIMIT_VOLUME",
    10035: "TRADE_RETCODE_INVALID_ORDER",
    10036: "TRADE_RETCODE_POSITION_CLOSED",
    10038: "TRADE_RETCODE_INVALID_CLOSE_VOLUME",
    10039: "TRADE_RETCODE_CLOSE_ORDER_EXIST",
    10040: "TRADE_RETCODE_LIMIT_POSITIONS",
    10041: "TRADE_RETCODE_REJECT_CANCEL",
    10042: "TRADE_RETCODE_LONG_ONLY",
    10043: "TRADE_RETCODE_SHORT_ONLY",
    10044: "TRADE_RETCODE_CLOSE_ONLY",
    10045: "TRADE_RETCODE_FIFO_CLOSE",
    10046: "TRADE_RETCODE_HEDGE_PROHIBITED",
}
NUMBERS: Final[dict[str, int]] = {name: number for number, name in RETCODES.items()}

_OUTCOMES: Final[dict[int, Outcome]] = {
    10008: Outcome.OK,
    10009: Outcome.OK,
    10010: Outcome.OK,
    10025: Outcome.NO_CHANGE,
    10004: Outcome.REQUOTED,
    10020: Outcome.REQUOTED,
    10021: Outcome.REQUOTED,
    10024: Outcome.BUSY,
    10026: Outcome.BUSY,
    10027: Outcome.BUSY,
    10028: Outcome.BUSY,
    10031: Outcome.BUSY,
    10011: Outcome.UNKNOWN,
    10012: Outcome.UNKNOWN,
}


def outcome_of(retcode: int) -> Outcome:
    """What `retcode` means for the request (any code not listed is a refusal)."""
    return _OUTCOMES.get(retcode, Outcome.REJECTED)


def name_of(retcode: int) -> str:
    """MT5's name of `retcode` (`TRADE_RETCODE_UNKNOWN` for one it does not define)."""
    return RETCODES.get(retcode, "TRADE_RETCODE_UNKNOWN")
