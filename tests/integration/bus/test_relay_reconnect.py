"""The relay's connection to RabbitMQ dropped while a window is in flight: the robust
connection comes back, the relay re-sends what was not confirmed, and nothing is lost.

The drop is real: the relay reaches the broker through a TCP proxy, which first holds the
broker's replies (so a window is certainly unconfirmed), then aborts every proxied socket
at once, as a network failure would.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage
from tests.amqp_support import BrokerSession
from tests.integration.bus.relay_support import expected_envelopes, relay_over, trading
from tests.tcp_proxy import TcpProxy
from tests.waiting import TIMEOUT, eventually

from ordergate.engine.views import ReadModelChanges
from ordergate.store.memory import MemoryStore


@pytest.fixture
async def proxy(broker: BrokerSession) -> AsyncIterator[TcpProxy]:
    target = urlsplit(broker.url)
    async with TcpProxy(target.hostname or "127.0.0.1", target.port or 5672) as p:
        yield p


def proxied_url(url: str, proxy: TcpProxy) -> str:
    """The broker's URL through the proxy, reconnecting quickly after a drop."""
    parts = urlsplit(url)
    netloc = f"{parts.username}:{parts.password}@127.0.0.1:{proxy.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "reconnect_interval=0.1", ""))


async def test_relay_resends_the_unconfirmed_rest_after_a_dropped_connection(
    broker: BrokerSession, proxy: TcpProxy
) -> None:
    amqp = broker.connection
    store = MemoryStore()
    await store.append(trading(300), ReadModelChanges())
    expected = [(e.message_id, e.body) for e in await expected_envelopes(store)]
    exchange_name = f"test.events.{uuid.uuid4().hex[:10]}"
    channel = await amqp.channel()
    exchange = await channel.declare_exchange(
        exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
    )
    queue = await channel.declare_queue(f"{exchange_name}.all", durable=True)
    await queue.bind(exchange, "#")
    received: list[tuple[str, int, bytes]] = []
    relay = relay_over(
        store,
        proxied_url(broker.url, proxy),
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
        async with asyncio.timeout(TIMEOUT):
            await relay.wait_for_published(1)
            # From here on no confirm reaches the relay. Once the proxy holds one back, the
            # window it confirms was published, after everything before it was confirmed:
            # the relay's confirmed seq stays put while it publishes the rest of its window.
            proxy.hold_replies()
            await eventually(
                lambda: proxy.holding or relay.published_seq == store.head_seq,
                message="a confirmation held back by the proxy",
            )
            cut_at = relay.published_seq
            await routed_past(cut_at)  # messages past the confirmed prefix are out
            proxy.cut()
            await relay.wait_for_published(store.head_seq)
        async with asyncio.timeout(TIMEOUT):
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
