"""Bybit v5 request signing, checked the way the exchange checks it.

REST: `X-BAPI-SIGN` is the hex HMAC-SHA256, keyed by the secret, of
timestamp + api key + recv window + payload, where the payload is the raw query string
of a GET and the raw body of a POST. The timestamp must satisfy
`server - recv_window <= timestamp < server + 1000` (ms).

Websocket: `op: auth` carries `[api_key, expires, signature]` with the signature the
hex HMAC of `GET/realtime{expires}`; `expires` (ms) must lie in the future.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Final

from ordergate.simulators.bybit.errors import BybitError, RetCode

DEFAULT_RECV_WINDOW_MS: Final = 5000
# Bybit accepts a client clock up to one second ahead of its own.
_FUTURE_TOLERANCE_MS: Final = 1000


def hmac_hex(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def rest_signature(
    secret: str, timestamp: str, api_key: str, recv_window: str, payload: str
) -> str:
    """The `X-BAPI-SIGN` of a request (clients and tests sign with this too)."""
    return hmac_hex(secret, timestamp + api_key + recv_window + payload)


def ws_auth_signature(secret: str, expires: str) -> str:
    return hmac_hex(secret, f"GET/realtime{expires}")


def check_rest_request(
    headers: Mapping[str, str],
    payload: str,
    *,
    api_key: str,
    api_secret: str,
    now_ms: int,
) -> None:
    """Raise the `BybitError` Bybit answers for a missing, stale or wrongly signed request."""
    key = headers.get("X-BAPI-API-KEY", "")
    timestamp = headers.get("X-BAPI-TIMESTAMP", "")
    signature = headers.get("X-BAPI-SIGN", "")
    if not key or not timestamp or not signature:
        raise BybitError(
            RetCode.PARAMS_ERROR,
            f"empty value: apiTimestamp[{timestamp}] apiKey[{key}] "
            f"apiSignature[{signature}]: openapi sign params error!",
        )
    if not hmac.compare_digest(key, api_key):
        raise BybitError(RetCode.INVALID_API_KEY, "API key is invalid.")
    recv_window = headers.get("X-BAPI-RECV-WINDOW", str(DEFAULT_RECV_WINDOW_MS))
    if not timestamp.isdigit() or not recv_window.isdigit():
        raise BybitError(RetCode.PARAMS_ERROR, "timestamp and recv_window must be integers")
    sent, window = int(timestamp), int(recv_window)
    if not now_ms - window <= sent < now_ms + _FUTURE_TOLERANCE_MS:
        raise BybitError(
            RetCode.REQUEST_EXPIRED,
            "invalid request, please check your server timestamp or recv_window param. "
            f"req_timestamp[{sent}],server_timestamp[{now_ms}],recv_window[{window}]",
        )
    expected = rest_signature(api_secret, timestamp, key, recv_window, payload)
    if not hmac.compare_digest(signature, expected):
        raise BybitError(
            RetCode.SIGN_ERROR,
            f"error sign! origin_string[{timestamp}{key}{recv_window}{payload}]",
        )


def check_ws_auth(args: Sequence[object], *, api_key: str, api_secret: str, now_ms: int) -> None:
    """Raise the `BybitError` for a private-stream auth request that must be refused."""
    if len(args) != 3 or not all(isinstance(arg, str | int) for arg in args):
        raise BybitError(RetCode.PARAMS_ERROR, "auth args must be [api_key, expires, signature]")
    key, expires, signature = (str(arg) for arg in args)
    if not hmac.compare_digest(key, api_key):
        raise BybitError(RetCode.INVALID_API_KEY, "Invalid apikey")
    if not expires.isdigit() or int(expires) <= now_ms:
        raise BybitError(RetCode.REQUEST_EXPIRED, "Request expired")
    if not hmac.compare_digest(signature, ws_auth_signature(api_secret, expires)):
        raise BybitError(RetCode.SIGN_ERROR, "Invalid sign")
