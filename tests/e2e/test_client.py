"""`ordergate.client` against `ordergate serve` as a subprocess: the calls, the errors,
the idempotency keys and the retries, as a bot on another host would meet them.

One server (paper venue, SQLite) serves most tests; a second one, with a key rate of one
request a second, shows `Retry-After` honoured.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import httpx
import pytest
from tests.e2e.serve_support import BIN, Server
from tests.tcp_proxy import TcpProxy
from tests.waiting import eventually, eventually_sync

from ordergate import (
    AsyncClient,
    Client,
    IdempotencyConflict,
    InsufficientScope,
    InvalidApiKey,
    InvalidRequest,
    NotFound,
    OrderStatus,
    OrderType,
    RateLimited,
    Side,
)
from ordergate.client import RetryPolicy

pytestmark = pytest.mark.slow

SYMBOL = "BTCUSDT"
QTY = Decimal("0.01")
FAR_BELOW = Decimal("30000.0")  # the bundled BTCUSDT bars trade near 46,000: it rests


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("client"))
    server.start()
    yield server
    server.stop()


def test_client_sync_market_order_fills_and_shows_in_reads(server: Server) -> None:
    with Client(server.url, server.key) as og:
        placed = og.place(SYMBOL, Side.BUY, QTY, strategy="e2e-sync")
        assert placed.idempotency_key is not None  # made for the call
        assert placed.qty == QTY
        filled = eventually_sync(
            lambda: (o := og.order(placed.order_id)) and o.status is OrderStatus.FILLED and o
        )
        assert filled.filled_qty == QTY
        assert isinstance(filled.avg_fill_price, Decimal)
        fills = og.fills(order_id=placed.order_id).items
        assert sum(f.qty for f in fills) == QTY
        assert any(p.symbol == SYMBOL and p.qty != 0 for p in og.positions())
        assert og.account()["USDT"].balance > 0
        listed = og.orders(symbol=SYMBOL, statuses=frozenset({OrderStatus.FILLED}), limit=1000)
        assert placed.order_id in {o.order_id for o in listed.items}
        assert og.order("0-999999") is None  # as Oms answers, not NotFound
        assert og.account("nobody") == {}


async def test_client_async_resting_limit_is_canceled(server: Server) -> None:
    async with AsyncClient(server.url, server.key) as og:
        placed = await og.place(SYMBOL, Side.BUY, QTY, OrderType.LIMIT, price=FAR_BELOW)
        assert placed.status is OrderStatus.ACCEPTED
        assert placed.price == FAR_BELOW
        replaced = await og.replace(placed.order_id, price=Decimal("30100.0"))
        assert replaced.price == Decimal("30100.0")
        canceled = await og.cancel(placed.order_id, reason="e2e")
        assert canceled.status is OrderStatus.CANCELED
        still = await og.order(placed.order_id)
        assert still is not None
        assert still.status is OrderStatus.CANCELED


async def test_client_async_bad_key_raises_invalid_api_key_with_trace_id(server: Server) -> None:
    async with AsyncClient(server.url, "og_nosuchkey_secret") as og:
        with pytest.raises(InvalidApiKey) as raised:
            await og.positions()
    assert raised.value.code == "API_KEY_INVALID"
    assert raised.value.trace_id


def test_client_sync_read_key_place_raises_insufficient_scope(server: Server) -> None:
    created = subprocess.run(
        [str(BIN), "keys", "create", "--scope", "read", "--db", str(server.workdir / "og.db")],
        capture_output=True,
        text=True,
        check=True,
    )
    with Client(server.url, created.stdout.strip()) as og:
        assert isinstance(og.positions(), list)  # reading is what the key may do
        with pytest.raises(InsufficientScope) as raised:
            og.place(SYMBOL, Side.BUY, QTY)
    assert raised.value.needed == "trade"


def test_client_sync_bad_qty_raises_invalid_request(server: Server) -> None:
    with Client(server.url, server.key) as og, pytest.raises(InvalidRequest) as raised:
        og.place(SYMBOL, Side.BUY, Decimal("-1"))
    assert raised.value.code == "VALIDATION_ERROR"
    assert "qty" in raised.value.message


async def test_client_async_unknown_order_cancel_raises_not_found(server: Server) -> None:
    async with AsyncClient(server.url, server.key) as og:
        with pytest.raises(NotFound) as raised:
            await og.cancel("0-999999")
    assert raised.value.code == "ORDER_NOT_FOUND"


def test_client_sync_same_key_answers_same_order(server: Server) -> None:
    with Client(server.url, server.key) as og:
        first = og.place(
            SYMBOL, Side.BUY, QTY, OrderType.LIMIT, price=FAR_BELOW, idempotency_key="e2e-k1"
        )
        again = og.place(
            SYMBOL, Side.BUY, QTY, OrderType.LIMIT, price=FAR_BELOW, idempotency_key="e2e-k1"
        )
        assert again.order_id == first.order_id
        with pytest.raises(IdempotencyConflict):
            og.place(
                SYMBOL, Side.SELL, QTY, OrderType.LIMIT, price=FAR_BELOW, idempotency_key="e2e-k1"
            )
        og.cancel(first.order_id)


async def test_client_async_same_key_answers_same_order(server: Server) -> None:
    async with AsyncClient(server.url, server.key) as og:
        first = await og.place(SYMBOL, Side.BUY, QTY, idempotency_key="e2e-k2")
        again = await og.place(SYMBOL, Side.BUY, QTY, idempotency_key="e2e-k2")
    assert again.order_id == first.order_id


async def test_client_async_lost_answer_resends_same_key_one_order(server: Server) -> None:
    """The server places the order and its answer is lost with the connection: the client
    sends the place again with the key it made, and gets the one order back."""
    async with TcpProxy("127.0.0.1", server.port) as proxy:
        policy = RetryPolicy(backoff=0, max_backoff=0)
        async with AsyncClient(f"http://127.0.0.1:{proxy.port}", server.key, retry=policy) as og:
            proxy.hold_replies()
            placing = asyncio.create_task(
                og.place(SYMBOL, Side.BUY, QTY, OrderType.LIMIT, price=FAR_BELOW, strategy="lost")
            )
            await eventually(lambda: proxy.holding > 0, message="the server's answer, held")
            proxy.cut()  # the answer goes down with the link
            order = await placing
            assert proxy.accepted == 2  # it came back on a new connection
            listed = await og.orders(strategy="lost", limit=1000)
            assert [o.order_id for o in listed.items] == [order.order_id]
            await og.cancel(order.order_id)


@dataclass
class Exchange:
    sent: float
    status: int
    retry_after: str | None


class Recording(httpx.AsyncBaseTransport):
    """The real transport, with what went out when and what came back."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.exchanges: list[Exchange] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sent = time.monotonic()
        response = await self._inner.handle_async_request(request)
        self.exchanges.append(
            Exchange(sent, response.status_code, response.headers.get("retry-after"))
        )
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(
        tmp_path_factory.mktemp("client-rate"), api_rate_per_second="1", api_rate_burst="1"
    )
    server.start()
    yield server
    server.stop()


async def test_client_async_rate_limited_waits_retry_after_then_succeeds(
    slow_server: Server,
) -> None:
    recording = Recording()
    async with AsyncClient(slow_server.url, slow_server.key, transport=recording) as og:
        for _ in range(3):  # one token a second: the later calls are told to wait
            await og.positions()
    exchanges = recording.exchanges
    limited = [i for i, e in enumerate(exchanges) if e.status == 429]
    assert limited, exchanges
    assert exchanges[-1].status == 200
    for i in limited:
        assert exchanges[i].retry_after is not None
        waited = exchanges[i + 1].sent - exchanges[i].sent
        assert waited >= float(exchanges[i].retry_after), exchanges


def test_client_sync_rate_limited_past_attempts_raises_with_retry_after(
    slow_server: Server,
) -> None:
    with Client(slow_server.url, slow_server.key, retry=RetryPolicy(max_attempts=1)) as og:

        def refused() -> RateLimited | None:
            try:
                og.positions()
            except RateLimited as exc:
                return exc
            return None

        exc = eventually_sync(refused)
    assert exc.code == "RATE_LIMITED"
    assert exc.retry_after >= 1
    assert exc.trace_id
