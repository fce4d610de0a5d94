"""The event relay against a real RabbitMQ: order, exactly-once in the good case, confirms
before the cursor, re-sends after a nack, resumption after a restart, and wake-ups."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import msgspec
import pytest
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue, AbstractRobustConnection
from tests.amqp_support import BrokerSession
from tests.fakes import BTC
from tests.integration.bus.relay_support import T0, expected_envelopes, relay_over, trading
from tests.unit.engine.engine_support import ACCOUNT, Sessions, limit_order, market_order
from tests.waiting import TIMEOUT, eventually

from ordergate.bus.envelope import Envelope
from ordergate.bus.events_out import DEFAULT_EXCHANGE, EventRelay
from ordergate.domain.errors import EventPublishFailed, JournalCorrupted
from ordergate.domain.values import Side
from ordergate.engine.commands import CancelOrder
from ordergate.engine.records import JournalRecord
from ordergate.engine.views import ReadModelChanges
from ordergate.store.memory import MemoryStore

NOWHERE = "amqp://guest:guest@127.0.0.1:1/"  # no broker listens there


@dataclass
class Broker:
    """A test's own exchange and queues (random names), deleted at the end."""

    connection: AbstractRobustConnection
    url: str
    exchange: str = field(default_factory=lambda: f"test.events.{uuid.uuid4().hex[:10]}")
    queues: list[AbstractQueue] = field(default_factory=list)

    async def queue(self, *keys: str, arguments: dict[str, Any] | None = None) -> AbstractQueue:
        """A durable queue bound to the test exchange with each key (declaring both)."""
        channel = await self.connection.channel()
        exchange = await channel.declare_exchange(
            self.exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(
            f"{self.exchange}.q{len(self.queues)}", durable=True, arguments=arguments
        )
        for key in keys:
            await queue.bind(exchange, key)
        self.queues.append(queue)
        return queue

    async def depth(self, queue: AbstractQueue) -> int:
        channel = await self.connection.channel()
        try:
            declared = await channel.declare_queue(queue.name, passive=True)
            count = declared.declaration_result.message_count
            assert count is not None
            return count
        finally:
            await channel.close()

    async def drain(self, queue: AbstractQueue) -> list[AbstractIncomingMessage]:
        """Every message in the queue now, in queue order."""
        messages: list[AbstractIncomingMessage] = []
        while (message := await queue.get(no_ack=True, fail=False, timeout=5)) is not None:
            messages.append(message)
        return messages

    async def close(self) -> None:
        channel = await self.connection.channel()
        for queue in self.queues:
            await channel.queue_delete(queue.name)
        await channel.exchange_delete(self.exchange)
        await channel.close()


@pytest.fixture
async def broker(broker: BrokerSession) -> AsyncIterator[Broker]:
    """The suite's broker session (tests/conftest.py), with this file's exchange and queues."""
    b = Broker(broker.connection, broker.url)
    yield b
    await b.close()


def fast_relay(source: Any, cursor: Any, broker: Broker, window: int = 500) -> EventRelay:
    """A relay over the test's exchange that polls and retries quickly."""
    return relay_over(source, broker.connection, broker.exchange, cursor=cursor, window=window)


class CountedReads:
    """The store as the relay's source, counting the reads that ran to their end."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.finished = 0

    async def records_after(self, after_seq: int = 0) -> AsyncIterator[JournalRecord]:
        async for record in self.store.records_after(after_seq):
            yield record
        self.finished += 1


def seq_of(message: AbstractIncomingMessage) -> int:
    seq = message.headers["x-ordergate-seq"]
    assert isinstance(seq, int)
    return seq


async def published(relay: EventRelay, seq: int, timeout: float = TIMEOUT) -> None:
    async with asyncio.timeout(timeout):
        await relay.wait_for_published(seq)


# --- journals ---------------------------------------------------------------------------


def summary(messages: list[AbstractIncomingMessage]) -> list[tuple[str | None, str, bytes]]:
    return [(m.message_id, m.routing_key or "", m.body) for m in messages]


def wanted(envelopes: list[Envelope]) -> list[tuple[str | None, str, bytes]]:
    return [(e.message_id, e.routing_key, e.body) for e in envelopes]


# --- the tests --------------------------------------------------------------------------


async def test_relay_publishes_every_engine_record_once_in_seq_order(broker: Broker) -> None:
    everything = await broker.queue("#")
    fills = await broker.queue("#.OrderFilled")
    btc_of_acct = await broker.queue(f"{ACCOUNT}.{BTC.symbol}.*")
    sessions = Sessions()
    h = await sessions.start()
    relay = fast_relay(h.store, h.store, broker, window=7)
    h.engine.subscribe(lambda _event: relay.notify())
    await relay.start()
    try:
        buy = await h.place(market_order(qty="0.2", trace_id="trace-buy"))
        resting = await h.place(limit_order(price="40000"))
        await h.engine.cancel(CancelOrder(resting.order_id, "test"))
        await h.place(market_order(Side.SELL, qty="0.05"))
        await h.settle()
        head = h.store.head_seq
        await published(relay, head)
    finally:
        await relay.stop()
        await sessions.close()

    expected = await expected_envelopes(h.store)
    got = await broker.drain(everything)
    assert summary(got) == wanted(expected)
    seqs = [seq_of(m) for m in got if m.headers["x-ordergate-part"] == "event"]
    assert seqs == list(range(1, head + 1))
    assert await h.store.outbox_cursor() == head

    filled = await broker.drain(fills)
    assert {m.headers["x-ordergate-type"] for m in filled} == {"OrderFilled"}
    assert len(filled) == sum(e.type == "OrderFilled" for e in expected) == 2
    per_symbol = await broker.drain(btc_of_acct)
    assert summary(per_symbol) == wanted(
        [e for e in expected if e.routing_key.startswith(f"{ACCOUNT}.{BTC.symbol}.")]
    )

    [first_fill] = [m for m in got if m.type == "OrderFilled"][:1]
    assert first_fill.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert first_fill.content_type == "application/json"
    assert first_fill.app_id == "ordergate"
    assert first_fill.correlation_id == "trace-buy"
    assert first_fill.headers["trace_id"] == "trace-buy"
    assert first_fill.headers["x-ordergate-partition"] == 0
    assert first_fill.message_id == f"0:{seq_of(first_fill)}"
    assert first_fill.timestamp is not None
    fill_event = msgspec.json.decode(first_fill.body)
    assert fill_event["order"]["order_id"] == buy.order_id
    assert fill_event["order"]["status"] == "FILLED"


async def test_cursor_advances_only_over_messages_the_broker_holds(broker: Broker) -> None:
    queue = await broker.queue("#")
    store = MemoryStore()
    await store.append(trading(10), ReadModelChanges())
    expected = await expected_envelopes(store)
    held_at_advance: list[tuple[int, int]] = []

    class WatchedCursor:
        """The store's cursor; each advance first records how many messages the queue holds."""

        async def outbox_cursor(self) -> int:
            return await store.outbox_cursor()

        async def advance_outbox_cursor(self, seq: int, updated_ts: int) -> None:
            held_at_advance.append((seq, await broker.depth(queue)))
            await store.advance_outbox_cursor(seq, updated_ts)

    relay = relay_over(store, broker.connection, broker.exchange, cursor=WatchedCursor(), window=6)
    await relay.start()
    try:
        await published(relay, store.head_seq)
    finally:
        await relay.stop()

    head = store.head_seq
    assert [seq for seq, _ in held_at_advance] == [*range(6, head, 6), head]  # window ends
    for seq, held in held_at_advance:
        assert held >= sum(e.seq <= seq for e in expected), (seq, held)
    assert summary(await broker.drain(queue)) == wanted(expected)


async def test_nacked_messages_are_published_again_and_the_cursor_waits_for_them(
    broker: Broker,
) -> None:
    # A full queue with overflow=reject-publish makes the broker nack what it routes there.
    limited = await broker.queue("#", arguments={"x-max-length": 5, "x-overflow": "reject-publish"})
    everything = await broker.queue("#")
    store = MemoryStore()
    await store.append(trading(4), ReadModelChanges())
    expected = await expected_envelopes(store)
    # The first five messages fit; the cursor can move to the last seq whose every
    # message is among them, and no further.
    stuck_at = max(e.seq for e in expected[:5] if e.seq != expected[5].seq)
    relay = fast_relay(store, store, broker, window=100)
    await relay.start()
    try:
        # Each retry routes another copy of the rejected rest to the unlimited queue.
        await eventually(lambda: _depth_at_least(broker, everything, 2 * len(expected)))
        assert relay.published_seq == stuck_at
        assert await store.outbox_cursor() == stuck_at
        await limited.unbind(broker.exchange, "#")
        await published(relay, store.head_seq)
    finally:
        await relay.stop()

    assert await store.outbox_cursor() == store.head_seq
    got = await broker.drain(everything)
    first_copies: dict[str | None, AbstractIncomingMessage] = {}
    for message in got:
        first_copies.setdefault(message.message_id, message)
    assert summary(list(first_copies.values())) == wanted(expected)
    resent = [m for m in got if first_copies[m.message_id] is not m]
    assert resent, "the broker nacked nothing: the test did not exercise a nack"
    assert min(seq_of(m) for m in resent) > stuck_at
    assert all(m.body == first_copies[m.message_id].body for m in resent)


async def _depth_at_least(broker: Broker, queue: AbstractQueue, count: int) -> bool:
    return await broker.depth(queue) >= count


async def test_a_new_relay_resumes_after_the_cursor_with_the_state_before_it(
    broker: Broker,
) -> None:
    queue = await broker.queue("#")
    store = MemoryStore()
    opening = trading(3)
    await store.append(opening, ReadModelChanges())
    first = fast_relay(store, store, broker)
    await first.start()
    await published(first, store.head_seq)
    await first.stop()
    cursor = await store.outbox_cursor()
    assert cursor == len(opening)

    # More fills of the same account: their position messages depend on the first ones.
    await store.append(trading(3, first=4), ReadModelChanges())
    second = fast_relay(store, store, broker)
    await second.start()
    try:
        await published(second, store.head_seq)
    finally:
        await second.stop()

    expected = await expected_envelopes(store)
    got = await broker.drain(queue)
    assert summary(got) == wanted(expected)  # each once, no gap at the restart
    positions = [msgspec.json.decode(m.body) for m in got if m.type == "PositionChanged"]
    assert [p["position"]["qty"] for p in positions] == [
        "0.01", "0.02", "0.03", "0.04", "0.05", "0.06"
    ]  # fmt: skip


async def test_notify_wakes_the_relay_long_before_its_poll(broker: Broker) -> None:
    queue = await broker.queue("#")
    store = MemoryStore()
    reads = CountedReads(store)
    relay = relay_over(store, broker.connection, broker.exchange, source=reads, poll_interval=30.0)
    await relay.start()
    try:
        # Once its first read has found nothing, the relay waits for the next poll, 30 s away.
        await eventually(lambda: reads.finished >= 1, message="the relay's first read")
        await store.append(trading(1), ReadModelChanges())
        relay.notify()
        await published(relay, store.head_seq, timeout=2)  # the next poll is 30 s away
    finally:
        await relay.stop()
    assert len(await broker.drain(queue)) == len(await expected_envelopes(store))


async def test_a_waiter_hears_when_the_relay_stops_before_its_seq(broker: Broker) -> None:
    store = MemoryStore()
    relay = fast_relay(store, store, broker)
    await relay.start()
    waiter = asyncio.create_task(relay.wait_for_published(1))
    await asyncio.sleep(0)  # the waiter runs up to its wait (the journal is empty: no seq 1)
    assert not waiter.done()
    await relay.stop()
    with pytest.raises(EventPublishFailed, match="stopped before seq 1"):
        await waiter
    with pytest.raises(EventPublishFailed, match="not running"):
        await relay.wait_for_published(1)


async def test_messages_nobody_binds_are_confirmed_and_the_cursor_moves_on(
    broker: Broker,
) -> None:
    await broker.queue("nobody.sends.this")  # declares the exchange; binds no real key
    store = MemoryStore()
    await store.append(trading(2), ReadModelChanges())
    relay = fast_relay(store, store, broker)
    await relay.start()
    try:
        await published(relay, store.head_seq)
    finally:
        await relay.stop()
    assert await store.outbox_cursor() == store.head_seq
    assert relay.failure is None


async def test_relay_opens_and_closes_its_own_connection_from_a_url(broker: Broker) -> None:
    queue = await broker.queue("#")
    store = MemoryStore()
    await store.append(trading(1), ReadModelChanges())
    relay = relay_over(store, broker.url, broker.exchange)
    await relay.start()
    try:
        await published(relay, store.head_seq)
        assert relay.failure is None
    finally:
        await relay.stop()
    assert not relay.running
    assert len(await broker.drain(queue)) == len(await expected_envelopes(store))


async def test_start_fails_with_an_ordergate_error_when_the_broker_is_unreachable() -> None:
    store = MemoryStore()
    relay = relay_over(store, NOWHERE, DEFAULT_EXCHANGE, publish_timeout=2)
    with pytest.raises(EventPublishFailed, match="cannot connect"):
        await relay.start()
    assert not relay.running


async def test_start_refuses_a_cursor_beyond_the_journal() -> None:
    store = MemoryStore()
    await store.append(trading(1), ReadModelChanges())
    await store.advance_outbox_cursor(store.head_seq + 5, T0)
    relay = relay_over(store, NOWHERE, DEFAULT_EXCHANGE)
    with pytest.raises(JournalCorrupted, match="journal ends at 7"):
        await relay.start()
