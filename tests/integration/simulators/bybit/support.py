"""Helpers of the Bybit simulator tests: a raw signed client, a private stream reader,
and waiting on conditions."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp
from tests.waiting import TIMEOUT, eventually

from ordergate.simulators.bybit import BybitSimulator, rest_signature, ws_auth_signature

D = Decimal
BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"
WAIT_SECONDS = TIMEOUT


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class RawBybit:
    """Signed Bybit v5 requests without ccxt: the wire as it is, for codes and shapes."""

    def __init__(self, session: aiohttp.ClientSession, sim: BybitSimulator) -> None:
        self.session = session
        self.base = sim.rest_url
        self.key, self.secret = sim.api_credentials

    def headers(
        self,
        payload: str,
        *,
        key: str | None = None,
        secret: str | None = None,
        ts: int | None = None,
    ) -> dict[str, str]:
        key = self.key if key is None else key
        secret = self.secret if secret is None else secret
        stamp = str(now_ms() if ts is None else ts)
        return {
            "X-BAPI-API-KEY": key,
            "X-BAPI-TIMESTAMP": stamp,
            "X-BAPI-RECV-WINDOW": "5000",
            "X-BAPI-SIGN": rest_signature(secret, stamp, key, "5000", payload),
            "Content-Type": "application/json",
        }

    async def get(self, path: str, params: dict[str, Any] | None = None, **sign: Any):
        query = urlencode(params or {})
        async with self.session.get(
            f"{self.base}{path}?{query}", headers=self.headers(query, **sign)
        ) as response:
            return await response.json(), response.headers

    async def post(self, path: str, body: dict[str, Any], **sign: Any):
        text = json.dumps(body)
        async with self.session.post(
            f"{self.base}{path}", data=text, headers=self.headers(text, **sign)
        ) as response:
            return await response.json(), response.headers

    async def public(self, path: str, params: dict[str, Any]):
        async with self.session.get(f"{self.base}{path}?{urlencode(params)}") as response:
            return await response.json()

    async def create(self, **body: Any) -> dict[str, Any]:
        answer, _ = await self.post("/v5/order/create", {"category": "linear", **body})
        return answer


class PrivateReader:
    """A raw private-stream connection that keeps every message it receives: each text
    frame in `texts`, and parsed in `messages` unless it is not JSON."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.texts: list[str] = []
        self.messages: list[dict[str, Any]] = []
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type is aiohttp.WSMsgType.TEXT:
                self.texts.append(message.data)
                with contextlib.suppress(json.JSONDecodeError):  # a corrupted frame
                    self.messages.append(json.loads(message.data))

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(message))

    async def auth(self, key: str, secret: str) -> dict[str, Any]:
        expires = str(now_ms() + 10_000)
        await self.send({"op": "auth", "args": [key, expires, ws_auth_signature(secret, expires)]})
        return await self.next_where(lambda m: m.get("op") == "auth")

    async def next_where(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        await eventually(
            lambda: any(predicate(m) for m in self.messages), message="a stream message"
        )
        return next(m for m in self.messages if predicate(m))

    async def subscribe(self, *topics: str) -> dict[str, Any]:
        await self.send({"op": "subscribe", "req_id": "sub", "args": list(topics)})
        return await self.next_where(lambda m: m.get("op") == "subscribe")

    def topic(self, name: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("topic") == name]

    async def close(self) -> None:
        await self.ws.close()
        await self._task


async def private_reader(
    session: aiohttp.ClientSession, sim: BybitSimulator, *topics: str
) -> PrivateReader:
    """A raw private connection, authenticated and subscribed to `topics`."""
    reader = PrivateReader(await session.ws_connect(sim.ws_private_url))
    key, secret = sim.api_credentials
    await reader.auth(key, secret)
    await reader.subscribe(*topics)
    return reader
