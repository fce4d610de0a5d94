"""`ordergate serve` under hostile input: huge and malformed bodies, bad bytes, slow and idle
clients, floods. Each test watches the server's resident memory the whole time and holds
it within `MEMORY_HEADROOM` of where it started.

The server is a real subprocess (embedded default: SQLite, paper venue) with the default
limits, but shorter head and body deadlines so the suite waits less. Attackers connect
from 127.0.0.2 (loopback, another address) and the trading bot from 127.0.0.1, as they
would from different hosts: the failed-key limit is per client address.
"""

from __future__ import annotations

import asyncio
import json
import math
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.serve_support import Server
from tests.waiting import eventually

pytestmark = pytest.mark.slow

MEMORY_HEADROOM = 50 * 1024 * 1024
ATTACKER = "127.0.0.2"
HEADER_TIMEOUT = 2.0
BODY_TIMEOUT = 3.0
ORDER = {"symbol": "EURUSD", "side": "BUY", "qty": "0.01", "type": "MARKET"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    server = Server(
        tmp_path,
        api_header_timeout_seconds=str(HEADER_TIMEOUT),
        api_body_timeout_seconds=str(BODY_TIMEOUT),
        # A bot's connection must outlive the pauses a loaded test process makes while it
        # opens thousands of hostile connections: once closed, the bot could not get back
        # in past the connection cap the attack fills (nothing here tests keep-alive).
        api_keepalive_seconds="120",
    )
    server.start()
    yield server
    server.stop()


@asynccontextmanager
async def _closing(writers: list[asyncio.StreamWriter]) -> AsyncIterator[None]:
    """Close the attack's connections however the test ends (a writer left to the garbage
    collector warns in whichever later test it is collected)."""
    try:
        yield
    finally:
        for writer in writers:
            writer.close()


@asynccontextmanager
async def memory_watched(server: Server) -> AsyncIterator[dict[str, int]]:
    """Sample the server's RSS every 20 ms while the block runs: `peak` and `baseline`."""
    seen = {"baseline": server.rss(), "peak": server.rss()}
    done = asyncio.Event()

    async def sample() -> None:
        while not done.is_set():
            seen["peak"] = max(seen["peak"], server.rss())
            with suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), 0.02)

    sampler = asyncio.create_task(sample())
    try:
        yield seen
    finally:
        done.set()
        await sampler
    growth = seen["peak"] - seen["baseline"]
    print(
        f"server RSS: baseline {seen['baseline'] / 2**20:.0f} MiB, peak +{growth / 2**20:.1f} MiB"
    )
    assert growth < MEMORY_HEADROOM, f"RSS grew {growth / 2**20:.1f} MiB"
    assert server.process is not None
    assert server.process.poll() is None, "the server died"


async def connect(
    port: int, source: str = ATTACKER
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], Any]:
    """One HTTP/1.1 answer: status, headers (lower-case), the JSON body."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, json.loads(body) if body else None


async def exchange(port: int, raw: bytes) -> tuple[int, dict[str, str], Any]:
    reader, writer = await connect(port)
    try:
        writer.write(raw)
        await writer.drain()
        return await read_answer(reader)
    finally:
        writer.close()


def post(body: bytes, *lines: str) -> bytes:
    return head("POST", "/v1/orders", *lines, length=len(body)) + body


def head(method: str, target: str, *lines: str, length: int | None = None) -> bytes:
    text = f"{method} {target} HTTP/1.1\r\nHost: ordergate\r\n"
    text += "".join(f"{line}\r\n" for line in lines)
    if length is not None:
        text += f"content-type: application/json\r\ncontent-length: {length}\r\n"
    return (text + "\r\n").encode("latin-1")


def assert_error_shape(answer: tuple[int, dict[str, str], Any], status: int, code: str) -> None:
    got_status, headers, body = answer
    assert (got_status, body["reason_code"]) == (status, code), body
    assert isinstance(body["detail"], str | list)
    assert headers["x-trace-id"]


def parse_answer(data: bytes) -> tuple[int, dict[str, str], Any] | None:
    """The answer in `data` once it is whole, else None."""
    head, found, rest = data.partition(b"\r\n\r\n")
    if not found:
        return None
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    if len(rest) < length:
        return None
    return int(lines[0].split()[1]), headers, json.loads(rest[:length]) if length else None


async def upload_gigabyte(port: int, *lines: str) -> tuple[int, dict[str, str], Any]:
    """Announce a 1 GB body and send zeros until the answer comes back.

    The socket is read and written separately (as curl does), so the reset a refused
    upload ends in, when the server stops draining, cannot hide the answer before it.
    """
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setblocking(False)
    sock.bind((ATTACKER, 0))
    await loop.sock_connect(sock, ("127.0.0.1", port))
    chunk = bytes(65_536)

    async def pour() -> None:
        try:
            await loop.sock_sendall(sock, head("POST", "/v1/orders", *lines, length=1 << 30))
            for _ in range((1 << 30) // len(chunk)):
                await loop.sock_sendall(sock, chunk)
        except OSError:
            return  # closed by the server, as it should be

    async def answer() -> tuple[int, dict[str, str], Any]:
        received = b""
        while (parsed := parse_answer(received)) is None:
            data = await loop.sock_recv(sock, 65_536)
            assert data, f"closed without an answer: {received!r}"
            received += data
        return parsed

    pouring = asyncio.create_task(pour())
    try:
        return await asyncio.wait_for(answer(), 30)
    finally:
        pouring.cancel()
        # Let the loop stop watching the socket before it is closed: a descriptor closed
        # while watched is reused by the next socket, which then never wakes.
        await asyncio.gather(pouring, return_exceptions=True)
        sock.close()


async def test_a_gigabyte_body_with_and_without_a_key_is_refused_unread(server: Server) -> None:
    async with memory_watched(server):
        keyless = await upload_gigabyte(server.port)
        keyed = await upload_gigabyte(server.port, f"X-API-Key: {server.key}")

    assert_error_shape(keyless, 401, "API_KEY_MISSING")
    assert_error_shape(keyed, 413, "BODY_TOO_LARGE")


async def test_malformed_bodies_paths_headers_and_queries_refused_in_the_one_shape(
    server: Server,
) -> None:
    key = f"X-API-Key: {server.key}"
    deep = b"[" * 100_000 + b"]" * 100_000
    nested = b"[" * 30_000 + b"]" * 30_000  # under the body limit, over any depth
    duplicate = b'{"symbol": "EURUSD", "symbol": "BTCUSDT", "side": "BUY", "qty": "1"}'
    cases: list[tuple[bytes, int, str]] = [
        (post(deep, key), 413, "BODY_TOO_LARGE"),
        (post(nested, key), 422, "JSON_TOO_DEEP"),
        (post(duplicate, key), 422, "JSON_DUPLICATE_KEY"),
        (post(b'{"s": "\xff\xfe"}', key), 422, "BODY_NOT_UTF8"),
        (post(b'{"s": "\\u0000"}', key), 422, "CONTROL_CHARACTER"),
        (post(b'{"s": "a\x00"}', key), 422, "JSON_INVALID"),
        (head("GET", "/v1/orders?symbol=%00", key), 422, "CONTROL_CHARACTER"),
        (head("GET", "/v1/orders?symbol=%ff%fe", key), 422, "NOT_UTF8"),
        (head("GET", "/v1/orders/%00abc", key), 422, "CONTROL_CHARACTER"),
        (head("GET", "/v1/orders/\xff\xfe", key), 400, "MALFORMED_HTTP"),
        (head("GET", "/v1/orders/a\x00b", key), 400, "MALFORMED_HTTP"),
        (head("GET", "/v1/account", "X-Evil: a\x00b", key), 400, "MALFORMED_HTTP"),
        (head("GET", "/v1/account", "X-API-Key: og_\xff\xfe_x"), 401, "API_KEY_INVALID"),
        (head("GET", "/v1/account", "X-Trace-Id: \xff"), 422, "TRACE_ID_INVALID"),
        (head("GET", "/v1/account", "X-Pad: " + "a" * 20_000), 431, "HEADERS_TOO_LARGE"),
        (b"NOT HTTP AT ALL\r\n\r\n", 400, "MALFORMED_HTTP"),
        (head("GET", "/no/such/route", key), 404, "ROUTE_NOT_FOUND"),
        (head("PATCH", "/health"), 405, "METHOD_NOT_ALLOWED"),
    ]
    async with memory_watched(server):
        answers = [await exchange(server.port, raw) for raw, _, _ in cases]

    for answer, (raw, status, code) in zip(answers, cases, strict=True):
        assert (answer[0], answer[2]["reason_code"]) == (status, code), raw[:80]
        assert_error_shape(answer, status, code)
    async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": server.key}) as bot:
        orders = (await bot.get("/v1/orders")).json()
    assert orders["items"] == []  # nothing was placed by any of it


async def test_slow_and_idle_clients_while_orders_flow_and_an_admin_halts(server: Server) -> None:
    """2,000 slow uploads and 2,000 idle connections; a bot keeps placing orders; an admin
    halts trading and asks /ready through the admin listener, each within 1 s."""
    bot = httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": server.key})
    admin = httpx.AsyncClient(base_url=server.admin_url, headers={"X-API-Key": server.key})
    placed: list[int] = []
    attackers: list[asyncio.StreamWriter] = []
    stop_bot = asyncio.Event()

    async def trade() -> None:
        while not stop_bot.is_set():
            response = await bot.post("/v1/orders", json=ORDER, params={"wait": "false"})
            placed.append(response.status_code)

    async def slow_upload(i: int) -> None:
        try:
            _, writer = await connect(server.port)
        except OSError:
            return
        attackers.append(writer)
        key = [f"X-API-Key: {server.key}"] if i % 10 == 0 else []  # a tenth with a key
        writer.write(head("POST", "/v1/orders", *key, length=1 << 20) + b"{")

    async def idle(_: int) -> None:
        try:
            _, writer = await connect(server.port)
        except OSError:
            return
        attackers.append(writer)

    async with memory_watched(server), _closing(attackers):
        await bot.get("/v1/account")  # the bot's connection is open before the attack
        trading = asyncio.create_task(trade())
        await asyncio.gather(
            *(slow_upload(i) for i in range(2000)), *(idle(i) for i in range(2000))
        )
        attacked = len(placed)

        def flowing() -> bool:
            if trading.done():
                trading.result()  # the bot failed: raise what it met
            return len(placed) >= attacked + 10

        # Orders go on flowing with the 4,000 hostile connections open (how fast is the
        # bench's business: on a loaded machine a few a second).
        await eventually(
            flowing,
            message=lambda: f"orders to flow: {len(placed) - attacked} since the attack",
        )

        started = time.monotonic()
        halted = await admin.post("/v1/admin/state", json={"state": "HALTED", "reason": "drill"})
        halt_seconds = time.monotonic() - started
        started = time.monotonic()
        ready = await admin.get("/ready")
        ready_seconds = time.monotonic() - started

        stop_bot.set()
        await trading
        after_halt = await bot.post("/v1/orders", json=ORDER)

    await bot.aclose()
    await admin.aclose()
    assert halted.status_code == 200, halted.text
    print(f"HALT answered in {halt_seconds * 1000:.0f} ms, /ready in {ready_seconds * 1000:.0f} ms")
    assert halt_seconds < 1.0
    assert ready_seconds < 1.0
    assert ready.status_code == 200
    assert set(placed) <= {200, 201}, set(placed)
    assert after_halt.json()["status"] == "DENIED"


async def test_idle_and_half_sent_heads_are_closed_after_the_header_deadline(
    server: Server,
) -> None:
    idle_reader, idle_writer = await connect(server.port)
    half_reader, half_writer = await connect(server.port)
    half_writer.write(b"GET /v1/account HTTP/1.1\r\nHost: x\r\n")

    started = time.monotonic()
    idle_end = await asyncio.wait_for(idle_reader.read(), HEADER_TIMEOUT + 10)
    half_answer = await asyncio.wait_for(read_answer(half_reader), HEADER_TIMEOUT + 10)
    waited = time.monotonic() - started
    idle_writer.close()
    half_writer.close()

    assert idle_end == b""  # closed without a word: nothing was asked
    assert_error_shape(half_answer, 408, "HEADER_TIMEOUT")
    assert waited >= HEADER_TIMEOUT * 0.9


async def test_a_keep_alive_connection_idle_past_the_header_deadline_is_still_served(
    server: Server,
) -> None:
    """Between requests a connection is idle, not late with a head: the keep-alive time
    (120 s here) governs it, and the header deadline starts with the next head's first
    byte. A bot that pauses longer than the header deadline keeps its connection."""
    reader, writer = await connect(server.port, source="127.0.0.1")
    request = head("GET", "/v1/account", f"X-API-Key: {server.key}")
    try:
        writer.write(request)
        first = await asyncio.wait_for(read_answer(reader), 10)
        await asyncio.sleep(HEADER_TIMEOUT * 1.5)  # the stimulus: idle past the deadline
        writer.write(request)
        second = await asyncio.wait_for(read_answer(reader), 10)
    finally:
        writer.close()

    assert (first[0], second[0]) == (200, 200)


async def test_a_keyed_body_that_trickles_is_408_after_the_body_deadline(server: Server) -> None:
    reader, writer = await connect(server.port)
    writer.write(head("POST", "/v1/orders", f"X-API-Key: {server.key}", length=100) + b"{")

    answer = await asyncio.wait_for(read_answer(reader), BODY_TIMEOUT + 10)
    writer.close()

    assert_error_shape(answer, 408, "BODY_TIMEOUT")


async def test_a_flood_of_unauthenticated_requests_turns_into_cheap_429s(server: Server) -> None:
    async def flood(answers: list[int]) -> None:
        reader, writer = await connect(server.port)
        for _ in range(100):
            writer.write(head("GET", "/v1/account", "X-API-Key: og_guess_guess"))
            status, _, _ = await read_answer(reader)
            answers.append(status)
        writer.close()

    answers: list[int] = []
    async with (
        memory_watched(server),
        httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": server.key}) as http,
    ):
        started = time.monotonic()
        await asyncio.gather(*(flood(answers) for _ in range(50)))
        flooded_for = time.monotonic() - started
        bot = await http.get("/v1/account")

    # The default burst of failed attempts, and one more a second (the default rate) for
    # as long as the flood lasted: a loaded machine makes it last longer.
    allowed = 20 + 1 + math.ceil(flooded_for)
    assert answers.count(401) <= allowed
    assert answers.count(429) >= 5000 - allowed
    assert bot.status_code == 200  # another address is not held to the flood's failures


async def test_connections_over_the_cap_are_answered_503_and_closed(server: Server) -> None:
    held = []
    for _ in range(1024):  # the default cap
        _, writer = await connect(server.port)
        held.append(writer)
    extra_reader, extra_writer = await connect(server.port)

    answer = await asyncio.wait_for(read_answer(extra_reader), 10)
    async with httpx.AsyncClient(base_url=server.admin_url) as admin:
        admin_ready = await admin.get("/ready")
    for writer in [*held, extra_writer]:
        writer.close()

    assert_error_shape(answer, 503, "SERVER_BUSY")
    assert admin_ready.status_code == 200


async def test_sigkill_after_the_attack_keeps_every_answered_order_and_its_key(
    server: Server,
) -> None:
    async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": server.key}) as bot:
        await upload_gigabyte(server.port)
        answered = {}
        for i in range(20):
            body = {**ORDER, "idempotency_key": f"k-{i}"}
            response = await bot.post("/v1/orders", json=body, params={"wait": "false"})
            assert response.status_code == 201, response.text
            answered[f"k-{i}"] = response.json()["id"]
    server.kill()
    server.start()

    async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": server.key}) as bot:
        again = {
            key: await bot.post("/v1/orders", json={**ORDER, "idempotency_key": key})
            for key in answered
        }
        listed = (await bot.get("/v1/orders", params={"limit": 1000})).json()["items"]

    assert {key: r.json()["id"] for key, r in again.items()} == answered
    assert {r.status_code for r in again.values()} == {200}
    assert len(listed) == len(answered)
