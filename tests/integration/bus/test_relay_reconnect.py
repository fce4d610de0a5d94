"""The relay's connection to RabbitMQ dropped while a window is in flight: the robust
connection comes back, the relay re-sends what was not confirmed, and nothing is lost.

The drop is real: the relay reaches the broker through a TCP proxy, which first holds the
broker's replies (so a window is certainly unconfirmed), then aborts every proxied socket
at once, as a network failure would.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from aiormq.exceptions import AMQPError
from tests.tcp_proxy import TcpProxy

from ordergate.bus.envelope import EnvelopeFold
from ordergate.bus.events_out import EventRelay
from ordergate.domain.events import (
    BalanceAdjusted,
    Event,
    InstrumentUpdated,
    OrderAccepted,
    OrderApproved,
    OrderFilled,
    OrderInitialized,
    OrderSubmitted,
)
from ordergate.domain.instruments import Instrument
from ordergate.domain.values import LiquiditySide, OrderType, Side, TimeInForce
from ordergate.engine.views import ReadModelChanges
from ordergate.store.memory import MemoryStore

AMQP_URL = os.environ.get("ORDERGATE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
D = Decimal
T0 = 1_700_000_000_000_000_000
BTC = Instrument("BTCUSDT", "BTC", "USDT", D("0.1"), D("0.001"), D("0.001"))


async def connect_or_skip() -> AbstractRobustConnection:
    """A connection to the test broker; a missing broker skips, or fails when CI=true."""
    try:
        return await aio_pika.connect_robust(AMQP_URL, timeout=5)
    except (OSError, AMQPError, TimeoutError) as exc:
        reason = f"RabbitMQ is not reachable at {AMQP_URL}: {exc!r}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
async def amqp() -> AsyncIterator[AbstractRobustConnection]:
    connection = await connect_or_skip()
    yield connection
    await connection.close()


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    broker = urlsplit(AMQP_URL)
    async with TcpProxy(broker.hostname or "127.0.0.1", broker.port or 5672) as p:
        yield p


def proxied_url(proxy: TcpProxy) -> str:
    """The broker's URL through the proxy, reconnecting quickly after a drop."""
    parts = urlsplit(AMQP_URL)
    netloc = f"{parts.username}:{parts.password}@127.0.0.1:{proxy.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "reconnect_interval=0.1", ""))


def trading(orders: int) -> list[Event]:
    """Market buys of 0.01 BTC, each initialized, approved, submitted, accepted and filled."""
    events: list[Event] = [
        InstrumentUpdated(BTC, T0),
        BalanceAdjusted("acct-1", "USDT", D("1000000"), "deposit", T0),
    ]
    for n in range(1, orders + 1):
        oid, ts = f"0-{n}", T0 + n * 1000
        events += [
            OrderInitialized(
                oid, f"c{n}", "acct-1", BTC.symbol, Side.BUY, OrderType.MARKET, D("0.01"),
                None, None, TimeInForce.GTC, False, None, None, "s1", None, None, None,
                f"trace-{n}", ts,
            ),
            OrderApproved(oid, D("50000"), ts + 1),
            OrderSubmitted(oid, f"V{n}", ts + 2),
            OrderAccepted(oid, f"V{n}", ts + 3),
            OrderFilled(
                oid, "acct-1", BTC.symbol, Side.BUY, f"T{n}", D("0.01"), D("50000"), D("0.01"),
                "USDT", LiquiditySide.TAKER, ts + 4,
            ),
        ]  # fmt: skip
    return events


async def test_relay_resends_the_unconfirmed_rest_after_a_dropped_connection(
    amqp: AbstractRobustConnection, proxy: TcpProxy
) -> None:
    store = MemoryStore()
    await store.append(trading(300), ReadModelChanges())
    fold = EnvelopeFold(0)
    expected = [
        (e.message_id, e.body) async for r in store.records_after(0) for e in fold.envelopes(r)
    ]
    exchange_name = f"test.events.{uuid.uuid4().hex[:10]}"
    channel = await amqp.channel()
    exchange = await channel.declare_exchange(
        exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
    )
    queue = await channel.declare_queue(f"{exchange_name}.all", durable=True)
    await queue.bind(exchange, "#")
    received: list[tuple[str, int, bytes]] = []
    relay = EventRelay(
        0,
        store,
        store,
        proxied_url(proxy),
        exchange_name,
        window=200,
        retry_delay=0.05,
        max_retry_delay=0.2,
        publish_timeout=5,
    )
    last_arrived = asyncio.Event()
    arrived = asyncio.Event()

    async def collect(message: AbstractIncomingMessage) -> None:
        seq = message.headers["x-ordergate-seq"]
        assert message.message_id is not None
        assert isinstance(seq, int)
        received.append((message.message_id, seq, message.body))
        arrived.set()
        if message.message_id == expected[-1][0]:
            last_arrived.set()

    async def routed_past(seq: int) -> None:
        while not any(s > seq for _, s, _ in received):
            arrived.clear()
            await arrived.wait()

    await queue.consume(collect, no_ack=True)
    await relay.start()
    try:
        async with asyncio.timeout(20):
            await relay.wait_for_published(1)
            # From here on no confirm reaches the relay; once it has taken in the ones on
            # their way, its cursor stays put while it publishes the rest of its window.
            proxy.hold_replies()
            await asyncio.sleep(0.3)
            cut_at = relay.published_seq
            await routed_past(cut_at)  # messages past the confirmed prefix are out
            proxy.cut()
            await relay.wait_for_published(store.head_seq)
        async with asyncio.timeout(5):
            await last_arrived.wait()
    finally:
        await relay.stop()
        await channel.queue_delete(queue.name)
        await channel.exchange_delete(exchange_name)

    assert cut_at < store.head_seq, "the relay had confirmed everything before the cut"
    assert await store.outbox_cursor() == store.head_seq
    first_copies: dict[str, tuple[str, bytes]] = {}
    for message_id, _, body in received:
        first_copies.setdefault(message_id, (message_id, body))
    assert list(first_copies.values()) == expected  # nothing lost, journal order
    copies = Counter(m for m, _, _ in received)
    resent = [(m, seq, body) for m, seq, body in received if copies[m] > 1]
    assert resent, "nothing was in flight when the link dropped"
    assert min(seq for _, seq, _ in resent) > cut_at  # only what was not confirmed
    assert all(body == first_copies[m][1] for m, _, body in resent)
