"""Payloads held to a size and to JSON before ccxt reads them (`payloads`), without I/O.

The strict exchange's hooks are called as ccxt's `fetch` calls them, and its websocket
client is handed frames as ccxt's receive loop hands them (`Client.handle_message`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import ccxt  # type: ignore[import-untyped]
import ccxt.async_support as ccxt_rest  # type: ignore[import-untyped]
import ccxt.pro as ccxt_pro  # type: ignore[import-untyped]
import pytest
from aiohttp import WSMessage, WSMsgType

from ordergate.domain.errors import AmbiguousVenueError, VenueError
from ordergate.engine.retry import RetryPolicy
from ordergate.engine.venue_reports import VenueEvent, VenueReconnected
from ordergate.venues.ccxt.errors import PAYLOAD_UNREADABLE, UnreadablePayload
from ordergate.venues.ccxt.payloads import PayloadGuard, StrictClient, strict_exchange, utf8_size
from ordergate.venues.ccxt.stream import StreamSupervisor

LIMIT = 1024
URL = "https://api.bybit.com/v5/order/create"
WS_URL = "wss://stream.bybit.com/v5/private"
ANSWER = '{"retCode": 0, "retMsg": "OK", "result": {"orderId": "1"}}'


def padded(size: int) -> str:
    """A valid JSON answer exactly `size` bytes long."""
    head = '{"retCode": 0, "pad": "'
    return head + "x" * (size - len(head) - 2) + '"}'


async def answered(exchange: Any, status: int, body: str) -> Any:
    """What ccxt's `fetch` does with an answer, up to handing it to the exchange."""
    text = exchange.on_rest_response(status, "", URL, "POST", {}, body, {}, "")
    return exchange.parse_json(text)


class Heard:
    """The guard's listener: every refused frame's error."""

    def __init__(self) -> None:
        self.errors: list[VenueError] = []

    def __call__(self, error: VenueError) -> None:
        self.errors.append(error)


@pytest.fixture
def heard() -> Heard:
    return Heard()


@pytest.fixture
async def rest(heard: Heard) -> AsyncIterator[Any]:
    exchange = strict_exchange(ccxt_rest.bybit, {}, PayloadGuard(LIMIT, True, heard))
    yield exchange
    await exchange.close()


# --- REST ------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["", "  ", "<html><body>502</body></html>", "OK"])
async def test_a_2xx_answer_that_is_not_json_is_refused_before_ccxt_reads_it(rest, body):
    with pytest.raises(UnreadablePayload, match="not JSON"):
        await answered(rest, 200, body)


async def test_json_that_does_not_parse_is_refused_where_ccxt_swallows_it(rest):
    truncated = ANSWER[: len(ANSWER) // 2]
    plain = ccxt_rest.bybit({})
    try:
        assert plain.parse_json(truncated) is None  # ccxt's own: the text goes on as is
    finally:
        await plain.close()

    with pytest.raises(UnreadablePayload, match="not JSON"):
        await answered(rest, 200, truncated)


async def test_a_readable_answer_is_parsed_as_ccxt_parses_it(rest):
    assert await answered(rest, 200, f"  {ANSWER}\n") == json.loads(ANSWER)
    assert await answered(rest, 200, padded(LIMIT)) == json.loads(padded(LIMIT))


@pytest.mark.parametrize("status", [200, 400, 502])
async def test_an_answer_over_the_limit_is_refused_whatever_its_status(rest, status):
    with pytest.raises(UnreadablePayload, match=f"a {LIMIT + 1}-byte answer"):
        await answered(rest, status, padded(LIMIT + 1))


async def test_the_limit_counts_bytes_not_characters(rest):
    text = '{"note": "' + "é" * (LIMIT // 2) + '"}'  # fewer characters than bytes

    assert len(text) < LIMIT < utf8_size(text)
    with pytest.raises(UnreadablePayload, match="over the limit"):
        await answered(rest, 200, text)


async def test_an_error_status_that_is_not_json_keeps_ccxts_mapping_by_status(rest):
    page = "<html><body>502 Bad Gateway</body></html>"

    assert await answered(rest, 502, page) is None  # not refused here ...
    with pytest.raises(ccxt.ExchangeNotAvailable):  # ... ccxt maps the status as before
        rest.handle_http_status_code(502, "Bad Gateway", URL, "POST", page)


# --- websocket -------------------------------------------------------------------------------


class Stream:
    """A strict websocket client whose exchange handler is replaced by a recorder."""

    def __init__(self, client: StrictClient) -> None:
        self.client = client
        self.received: list[Any] = []
        client.on_message_callback = lambda _client, message: self.received.append(message)

    def frame(self, data: str | bytes) -> None:
        kind = WSMsgType.BINARY if isinstance(data, bytes) else WSMsgType.TEXT
        self.client.handle_message(WSMessage(kind, data, None))


async def stream_of(guard: PayloadGuard) -> AsyncIterator[Stream]:
    exchange = strict_exchange(ccxt_pro.bybit, {}, guard)
    try:
        client = exchange.client(WS_URL)
        assert isinstance(client, StrictClient)
        assert exchange.client(WS_URL) is client
        yield Stream(client)
    finally:
        await exchange.close()


@pytest.fixture
async def stream(heard: Heard) -> AsyncIterator[Stream]:
    async for opened in stream_of(PayloadGuard(LIMIT, True, heard)):
        yield opened


@pytest.fixture
async def lenient_stream(heard: Heard) -> AsyncIterator[Stream]:
    """The stream of an exchange whose frames are not all JSON (`json_stream` False)."""
    async for opened in stream_of(PayloadGuard(LIMIT, False, heard)):
        yield opened


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        pytest.param('{"topic": "order", "data": [{"orderId"', "not JSON", id="truncated"),
        pytest.param("<html>502</html>", "not JSON", id="not-json"),
        pytest.param(padded(LIMIT + 1), "over the limit", id="oversized"),
        pytest.param(b"\xff\xfe{}", "not UTF-8", id="binary-not-utf8"),
    ],
)
async def test_an_unreadable_frame_is_reported_typed_and_never_handed_on(stream, heard, frame, why):
    stream.frame(frame)
    stream.frame(ANSWER)  # the receive loop goes on: the next frame is read

    [error] = heard.errors
    assert isinstance(error, AmbiguousVenueError)
    assert error.code == PAYLOAD_UNREADABLE
    assert why in error.message
    assert stream.received == [json.loads(ANSWER)]


async def test_a_frame_of_exactly_the_limit_is_read(stream, heard):
    stream.frame(padded(LIMIT))

    assert stream.received == [json.loads(padded(LIMIT))]
    assert heard.errors == []


async def test_a_frame_ccxts_handler_chokes_on_is_reported_and_the_next_read(stream, heard):
    def choke(_client: Any, message: Any) -> None:
        if message == {"bad": True}:
            raise TypeError("'NoneType' object is not subscriptable")
        stream.received.append(message)

    stream.client.on_message_callback = choke
    stream.frame('{"bad": true}')
    stream.frame(ANSWER)

    [error] = heard.errors
    assert "could not handle (TypeError" in error.message
    assert stream.received == [json.loads(ANSWER)]


async def test_plain_text_reaches_ccxt_when_the_stream_is_not_all_json(lenient_stream, heard):
    lenient_stream.frame("pong")  # OKX's keepalive answer, which its ccxt handler expects
    lenient_stream.frame('{"op": "pong"')  # JSON-looking and broken is refused all the same

    assert lenient_stream.received == ["pong"]
    assert len(heard.errors) == 1


async def test_a_listener_that_fails_does_not_stop_the_stream():
    def broken(_error: VenueError) -> None:
        raise RuntimeError("listener bug")

    async for stream in stream_of(PayloadGuard(LIMIT, True, broken)):
        stream.frame("garbage")
        stream.frame(ANSWER)

        assert stream.received == [json.loads(ANSWER)]


def test_an_unreadable_message_puts_the_account_in_doubt_at_once():
    emitted: list[VenueEvent] = []
    supervisor = StreamSupervisor(
        object(),
        object(),  # type: ignore[arg-type]
        object(),  # type: ignore[arg-type]
        object(),  # type: ignore[arg-type]
        object(),  # type: ignore[arg-type]
        emitted.extend,
        poll_interval=1.0,
        backoff=RetryPolicy(),
    )

    supervisor.unreadable(AmbiguousVenueError("an unreadable message", code=PAYLOAD_UNREADABLE))

    [event] = emitted
    assert isinstance(event, VenueReconnected)  # what has the engine mark the account dirty
    assert event.detail == "an unreadable message; state must be reconciled"
    assert not supervisor.down  # the stream is not taken for down
