"""GET /v1/stream: committed events in journal order, a slow reader bounded and told to
resync, the cap on streams, and the key.

httpx's ASGI transport buffers a whole response, and this one never ends; the stream is
driven here as a server drives it, by calling the ASGI app with our own `send`, which a
test can hold up like a reader that has stopped reading.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tests.integration.api.support import Api, make_settings, running
from tests.waiting import eventually

from ordergate.api.edge.guard import Edge
from ordergate.api.live import STREAMS_CLOSING_STATE_KEY

Message = tuple[str, dict[str, Any]]


class StreamClient:
    """One GET /v1/stream on the app: its status and its messages, parsed; `hold()` stops
    taking the body (the app's `send` waits) until `release()`."""

    def __init__(self, app: FastAPI, key: str) -> None:
        self.app = app
        self.key = key
        self.status: int | None = None
        self.messages: asyncio.Queue[Message] = asyncio.Queue()
        self.closing = asyncio.Event()
        self.disconnected = asyncio.Event()
        self.flowing = asyncio.Event()
        self.flowing.set()
        self._buffer = b""
        self.error_body = b""

    def hold(self) -> None:
        self.flowing.clear()

    def release(self) -> None:
        self.flowing.set()

    async def run(self) -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/v1/stream",
            "raw_path": b"/v1/stream",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"ordergate.test"), (b"x-api-key", self.key.encode())],
            "client": ("127.0.0.1", 40000),
            "server": ("ordergate.test", 80),
            "state": {STREAMS_CLOSING_STATE_KEY: self.closing},
            "app": self.app,
        }
        await self.app(scope, self._receive, self._send)

    async def _receive(self) -> dict[str, Any]:
        await self.disconnected.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            return
        body: bytes = message.get("body", b"")
        if self.status != 200:
            self.error_body += body
            return
        await self.flowing.wait()
        self._buffer += body
        while b"\n\n" in self._buffer:
            block, self._buffer = self._buffer.split(b"\n\n", 1)
            fields = dict(line.split(": ", 1) for line in block.decode().split("\n"))
            self.messages.put_nowait((fields["event"], json.loads(fields["data"])))

    async def next(self, *names: str) -> Message:
        """The next message named one of `names` (any, if none), skipping the others."""
        while True:
            name, data = await asyncio.wait_for(self.messages.get(), 10)
            if not names or name in names:
                return name, data


@asynccontextmanager
async def open_stream(api: Api) -> AsyncIterator[tuple[StreamClient, asyncio.Task[None]]]:
    key = api.http.headers["X-API-Key"]
    client = StreamClient(api.app, key)
    task = asyncio.create_task(client.run())
    try:
        yield client, task
    finally:
        client.disconnected.set()
        client.closing.set()
        client.release()
        await asyncio.wait_for(task, 10)


def edge_of(api: Api) -> Edge:
    edge: Edge = api.app.state.edge
    return edge


@pytest.fixture
async def api(market: Path) -> AsyncIterator[Api]:
    settings = make_settings(market, api_stream_queue=10, api_max_streams=2)
    async with running(settings) as client:
        yield client


async def test_stream_events_arrive_in_journal_order_after_the_tail(api: Api) -> None:
    async with open_stream(api) as (stream, _):
        _, hello = await stream.next("hello")
        assert hello["tail"], "a started journal has a tail"
        tail_seqs = [e["seq"] for e in hello["tail"]]
        assert tail_seqs == sorted(tail_seqs)
        assert tail_seqs[-1] == hello["seq"]
        assert {i["symbol"] for i in hello["instruments"]} == {"EURUSD", "BTCUSDT"}
        _, tick = await stream.next("tick")
        assert {q["symbol"] for q in tick["quotes"]} == {"EURUSD", "BTCUSDT"}

        placed = [(await api.place(symbol="EURUSD", side="BUY", qty="0.1"))["id"] for _ in "abc"]
        seen: list[dict[str, Any]] = []
        filled: set[str] = set()
        while filled != set(placed):
            _, event = await stream.next("journal")
            seen.append(event)
            if event["event_type"] == "OrderFilled":
                filled.add(event["order_id"])
                assert event["order"]["id"] == event["order_id"]
        seqs = [e["seq"] for e in seen]
        assert seqs == list(range(hello["seq"] + 1, hello["seq"] + 1 + len(seqs))), seqs
        first_of_each = [
            next(
                e["order_id"]
                for e in seen
                if e["event_type"] == "OrderInitialized" and e["order_id"] == o
            )
            for o in placed
        ]
        assert first_of_each == placed
        assert all(e["ts"].endswith("+00:00") for e in seen)


async def test_stream_reader_that_stops_reading_holds_at_most_its_queue_then_resyncs(
    api: Api,
) -> None:
    async with open_stream(api) as (stream, _):
        await stream.next("tick")
        stream.hold()  # the reader stops taking the body, like a stalled socket
        for _ in range(6):  # a filled market order journals several events: over 10 in all
            await api.place(symbol="EURUSD", side="BUY", qty="0.1")
        await api.settle()
        stream.release()
        # What the stream had taken before the reader stalled comes first, then the
        # drop is said; what was dropped never comes.
        delivered_before_resync = 0
        while (await stream.next("resync", "journal"))[0] == "journal":
            delivered_before_resync += 1
        placed = await api.orders()
        assert delivered_before_resync < len(placed) * 4, "a filled order journals 4+ events"
        # Afterwards the stream carries on with what is committed next.
        order = await api.place(symbol="EURUSD", side="SELL", qty="0.1")
        while True:
            _, event = await stream.next("journal")
            if event["order_id"] == order["id"] and event["event_type"] == "OrderFilled":
                break


async def test_stream_slots_capped_and_given_back_when_a_reader_leaves(api: Api) -> None:
    edge = edge_of(api)
    async with open_stream(api) as (first, _), open_stream(api) as (second, _):
        await first.next("hello")
        await second.next("hello")
        assert edge.streams.count == 2
        refused = await api.http.get("/v1/stream")
        assert refused.status_code == 503, refused.text
        assert refused.json()["reason_code"] == "SERVER_BUSY"
    await eventually(lambda: edge.streams.count == 0)
    async with open_stream(api) as (again, _):
        await again.next("hello")
        assert edge.streams.count == 1


async def test_stream_ends_when_the_server_shuts_down(api: Api) -> None:
    async with open_stream(api) as (stream, task):
        await stream.next("hello")
        stream.closing.set()
        await asyncio.wait_for(task, 10)
        assert edge_of(api).streams.count == 0


async def test_stream_without_a_key_is_refused_before_it_opens(api: Api) -> None:
    transport = httpx.ASGITransport(app=api.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ordergate.test") as bare:
        response = await bare.get("/v1/stream")
    assert response.status_code == 401
    assert response.json()["reason_code"] == "API_KEY_MISSING"
    assert edge_of(api).streams.count == 0
