"""Bybit's return codes, as the simulator answers them.

A `BybitError` is an answer, not a fault of the simulator: a route raises it and the
server turns it into Bybit's envelope (`retCode`, `retMsg`, empty `result`). Codes are
Bybit's own (its v5 error-code list; ccxt's `exceptions` map in `bybit.py` classifies
them), so a client sees the same exception class here as against the exchange.
"""

from __future__ import annotations

from enum import IntEnum


class RetCode(IntEnum):
    OK = 0
    PARAMS_ERROR = 10001
    REQUEST_EXPIRED = 10002  # timestamp outside the recv window
    INVALID_API_KEY = 10003
    SIGN_ERROR = 10004
    RATE_LIMITED = 10006
    SERVER_ERROR = 10016
    ORDER_NOT_FOUND = 110001
    PRICE_OUT_OF_RANGE = 110003
    INSUFFICIENT_BALANCE = 110007
    TOO_MANY_CONDITIONAL_ORDERS = 110009
    REDUCE_ONLY_NOT_SATISFIED = 110017
    TOO_MANY_OPEN_ORDERS = 110020
    AMEND_NOT_ABOVE_FILLED = 110064
    DUPLICATE_ORDER_LINK_ID = 110072
    TRIGGER_NOT_RISING = 110092  # a rising trigger at or below the current price
    TRIGGER_NOT_FALLING = 110093  # a falling trigger at or above the current price
    NOTIONAL_TOO_LOW = 110094


class BybitError(Exception):
    """A request refused with a Bybit return code and message."""

    def __init__(self, code: RetCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def params_error(message: str) -> BybitError:
    return BybitError(RetCode.PARAMS_ERROR, message)
