"""Bybit v5 signatures, timestamps and keys, checked without a server."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from ordergate.simulators.bybit.errors import BybitError, RetCode
from ordergate.simulators.bybit.signing import (
    check_rest_request,
    check_ws_auth,
    rest_signature,
    ws_auth_signature,
)

KEY, SECRET, NOW = "key", "secret", 1_700_000_000_000
QUERY = "category=linear&symbol=BTCUSDT"


def headers(ts: int = NOW, key: str = KEY, secret: str = SECRET, window: str = "5000"):
    return {
        "X-BAPI-API-KEY": key,
        "X-BAPI-TIMESTAMP": str(ts),
        "X-BAPI-RECV-WINDOW": window,
        "X-BAPI-SIGN": rest_signature(secret, str(ts), key, window, QUERY),
    }


def check(request_headers, payload: str = QUERY) -> None:
    check_rest_request(request_headers, payload, api_key=KEY, api_secret=SECRET, now_ms=NOW)


def test_signature_is_hmac_sha256_hex_of_timestamp_key_window_payload():
    # Bybit's documented construction, computed independently.
    expected = hmac.new(b"secret", b"1key5000a=1", hashlib.sha256).hexdigest()

    assert rest_signature("secret", "1", "key", "5000", "a=1") == expected


@pytest.mark.parametrize("ts", [NOW - 5000, NOW, NOW + 999])
def test_timestamps_inside_the_window_pass(ts):
    check(headers(ts))


@pytest.mark.parametrize(
    ("request_headers", "code"),
    [
        (headers(NOW - 5001), RetCode.REQUEST_EXPIRED),
        (headers(NOW + 1000), RetCode.REQUEST_EXPIRED),
        (headers(NOW - 20_000, window="10000"), RetCode.REQUEST_EXPIRED),
        (headers(key="other"), RetCode.INVALID_API_KEY),
        (headers(secret="other"), RetCode.SIGN_ERROR),
        ({k: v for k, v in headers().items() if k != "X-BAPI-SIGN"}, RetCode.PARAMS_ERROR),
        (headers() | {"X-BAPI-TIMESTAMP": "soon"}, RetCode.PARAMS_ERROR),
    ],
    ids=["stale", "ahead", "narrower-window", "key", "secret", "unsigned", "not-a-time"],
)
def test_refusals_carry_bybit_codes(request_headers, code):
    with pytest.raises(BybitError) as refused:
        check(request_headers)

    assert refused.value.code is code


def test_signature_covers_the_payload():
    with pytest.raises(BybitError) as refused:
        check(headers(), payload=QUERY + "&limit=1")

    assert refused.value.code is RetCode.SIGN_ERROR


def test_missing_recv_window_defaults_to_5000():
    request_headers = headers()
    del request_headers["X-BAPI-RECV-WINDOW"]
    request_headers["X-BAPI-SIGN"] = rest_signature(SECRET, str(NOW), KEY, "5000", QUERY)

    check(request_headers)


def test_ws_auth_accepts_a_signed_future_expiry_and_refuses_the_rest():
    expires = str(NOW + 10_000)
    good = [KEY, expires, ws_auth_signature(SECRET, expires)]
    check_ws_auth(good, api_key=KEY, api_secret=SECRET, now_ms=NOW)

    cases = [
        (["other", expires, good[2]], RetCode.INVALID_API_KEY),
        ([KEY, str(NOW - 1), ws_auth_signature(SECRET, str(NOW - 1))], RetCode.REQUEST_EXPIRED),
        ([KEY, expires, "0" * 64], RetCode.SIGN_ERROR),
        ([KEY, expires], RetCode.PARAMS_ERROR),
    ]
    for args, code in cases:
        with pytest.raises(BybitError) as refused:
            check_ws_auth(args, api_key=KEY, api_secret=SECRET, now_ms=NOW)
        assert refused.value.code is code
