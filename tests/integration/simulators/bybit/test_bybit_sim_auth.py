"""Signatures, keys and recv windows, on REST and on the private stream."""

from __future__ import annotations

import aiohttp
import ccxt
import ccxt.pro
import pytest
from tests.integration.simulators.bybit.support import PrivateReader, now_ms

from ordergate.simulators.bybit import RetCode, ccxt_settings

WALLET = "/v5/account/wallet-balance"
UNIFIED = {"accountType": "UNIFIED"}


async def test_signed_request_with_the_right_key_and_secret_is_answered(raw):
    answer, headers = await raw.get(WALLET, UNIFIED)

    assert answer["retCode"] == 0
    assert answer["result"]["list"][0]["accountType"] == "UNIFIED"
    assert headers["X-Bapi-Limit"] == "50"
    assert headers["X-Bapi-Limit-Status"] == "49"


@pytest.mark.parametrize(
    ("sign", "code"),
    [
        ({"secret": "not-the-secret"}, RetCode.SIGN_ERROR),
        ({"key": "not-the-key"}, RetCode.INVALID_API_KEY),
        ({"ts": 1_000}, RetCode.REQUEST_EXPIRED),
    ],
    ids=["bad-signature", "bad-key", "stale-timestamp"],
)
async def test_badly_signed_request_is_refused_with_bybit_code(raw, sign, code):
    answer, _ = await raw.get(WALLET, UNIFIED, **sign)

    assert (answer["retCode"], answer["result"]) == (code, {})


async def test_timestamp_ahead_of_the_server_is_refused(raw):
    answer, _ = await raw.get(WALLET, UNIFIED, ts=now_ms() + 60_000)

    assert answer["retCode"] == RetCode.REQUEST_EXPIRED
    assert "recv_window[5000]" in answer["retMsg"]


async def test_post_body_is_what_the_signature_covers(raw):
    body = '{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.01"}'
    headers = raw.headers(body.replace("0.01", "0.02"))  # signed for a different body

    async with raw.session.post(
        f"{raw.base}/v5/order/create", data=body, headers=headers
    ) as response:
        answer = await response.json()

    assert answer["retCode"] == RetCode.SIGN_ERROR


async def test_unsigned_private_request_is_a_parameter_error(raw):
    async with raw.session.get(f"{raw.base}{WALLET}?accountType=UNIFIED") as response:
        answer = await response.json()

    assert answer["retCode"] == RetCode.PARAMS_ERROR
    assert "openapi sign params error!" in answer["retMsg"]


async def test_ccxt_with_a_wrong_secret_gets_authentication_error(sim):
    client = ccxt.pro.bybit({**ccxt_settings(sim), "secret": "wrong"})
    try:
        with pytest.raises(ccxt.AuthenticationError, match="10004"):
            await client.fetch_balance()
    finally:
        await client.close()


async def test_ccxt_with_a_wrong_key_gets_authentication_error(sim):
    client = ccxt.pro.bybit({**ccxt_settings(sim), "apiKey": "wrong"})
    try:
        with pytest.raises(ccxt.AuthenticationError, match="10003"):
            await client.fetch_balance()
    finally:
        await client.close()


async def test_ccxt_with_a_clock_behind_the_recv_window_gets_invalid_nonce(sim):
    client = ccxt.pro.bybit(ccxt_settings(sim))
    client.options["timeDifference"] = 10_000  # ccxt signs 10 s in the past
    try:
        with pytest.raises(ccxt.InvalidNonce, match="10002"):
            await client.fetch_balance()
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("key", "secret", "code"),
    [
        ("not-the-key", None, RetCode.INVALID_API_KEY),
        (None, "not-the-secret", RetCode.SIGN_ERROR),
    ],
    ids=["bad-key", "bad-signature"],
)
async def test_private_stream_auth_refusal_carries_the_code(sim, key, secret, code):
    own_key, own_secret = sim.api_credentials
    async with aiohttp.ClientSession() as session:
        reader = PrivateReader(await session.ws_connect(sim.ws_private_url))
        answer = await reader.auth(key or own_key, secret or own_secret)
        await reader.send({"op": "subscribe", "req_id": "s1", "args": ["order"]})
        refused = await reader.next_where(lambda m: m.get("op") == "subscribe")
        await reader.close()

    assert (answer["success"], answer["retCode"]) == (False, code)
    assert (refused["success"], refused["ret_msg"]) == (False, "Request not authorized")


async def test_private_stream_answers_ping_with_pong(sim):
    key, secret = sim.api_credentials
    async with aiohttp.ClientSession() as session:
        reader = PrivateReader(await session.ws_connect(sim.ws_private_url))
        await reader.auth(key, secret)
        await reader.send({"op": "ping", "req_id": 7})
        pong = await reader.next_where(lambda m: m.get("op") == "pong")
        await reader.close()

    assert pong["req_id"] == 7
    assert abs(int(pong["args"][0]) - now_ms()) < 5_000
