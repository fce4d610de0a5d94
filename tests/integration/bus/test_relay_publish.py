"""The event relay against a real RabbitMQ: order, exactly-once in the good case, confirms
before the cursor, re-sends after a nack, resumption after a restart, and wake-ups."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import aio_pika
import msgspec
import pytest
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue, AbstractRobustConnection
from aiormq.exceptions import AMQPError
from tests.fakes import BTC
from tests.unit.engine.engine_support import ACCOUNT, Sessions, limit_order, market_order

from ordergate.bus.envelope import Envelope, EnvelopeFold
from ordergate.bus.events_out import EventRelay
from ordergate.domain.errors import EventPublishFailed, JournalCorrupted
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
from ordergate.domain.values import LiquiditySide, OrderType, Side, TimeInForce
from ordergate.engine.commands import CancelOrder
from ordergate.engine.views import ReadModelChanges
from ordergate.store.memory import MemoryStore

AMQP_URL = os.environ.get("ORDERGATE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
D = Decimal
T0 = 1_700_000_000_000_000_000


# --- RabbitMQ helpers (this file's own; tests/amqp_support.py may replace them) ---------------


async def connect_or_skip() -> AbstractRobustConnection:
    """A connection to the test broker; a missing broker skips, or fails when CI=true."""
    try:
        return await aio_pika.connect_robust(AMQP_URL, timeout=5)
    except (OSError, AMQPError, TimeoutError) as exc:
        reason = f"RabbitMQ is not reachable at {AMQP_URL}: {exc!r}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@dataclass
class Broker:
    """A test's own exchange and queues (random names), deleted at the end."""

    connection: AbstractRobustConnection
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
        await self.connection.close()


@pytest.fixture
async def broker() -> AsyncIterator[Broker]:
    b = Broker(await connect_or_skip())
    yield b
    await b.close()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {check.__qualname__}")
        await asyncio.sleep(0.01)


def fast_relay(source: Any, cursor: Any, broker: Broker, window: int = 500) -> EventRelay:
    """A relay over the test's exchange that polls and retries quickly."""
    return EventRelay(
        0,
        source,
        cursor,
        broker.connection,
        broker.exchange,
        window=window,
        poll_interval=0.05,
        retry_delay=0.02,
        max_retry_delay=0.1,
    )


def seq_of(message: AbstractIncomingMessage) -> int:
    seq = message.headers["x-ordergate-seq"]
    assert isinstance(seq, int)
    return seq


async def published(relay: EventRelay, seq: int, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        await relay.wait_for_published(seq)


# --- journals ---------------------------------------------------------------------------


def trading(orders: int, first: int = 1, account: str = "acct-1") -> list[Event]:
    """Market buys of 0.01 BTC, each initialized, approved, submitted, accepted and filled."""
    events: list[Event] = []
    if first == 1:
        events += [
            InstrumentUpdated(BTC, T0),
            BalanceAdjusted(account, "USDT", D("1000000"), "deposit", T0),
        ]
    for n in range(first, first + orders):
        oid, ts = f"0-{n}", T0 + n * 1000
        events += [
            OrderInitialized(
                oid, f"c{n}", account, BTC.symbol, Side.BUY, OrderType.MARKET, D("0.01"),
                None, None, TimeInForce.GTC, False, None, None, "s1", None, None, None,
                f"trace-{n}", ts,
            ),
            OrderApproved(oid, D("50000"), ts + 1),
            OrderSubmitted(oid, f"V{n}", ts + 2),
            OrderAccepted(oid, f"V{n}", ts + 3),
            OrderFilled(
                oid, account, BTC.symbol, Side.BUY, f"T{n}", D("0.01"), D("50000"), D("0.01"),
                "USDT", LiquiditySide.TAKER, ts + 4,
            ),
        ]  # fmt: skip
    return events


async def expected_envelopes(store: MemoryStore) -> list[Envelope]:
    """What the relay should publish for the whole journal, from a fold of its own."""
    fold = EnvelopeFold(store.partition)
    return [e async for r in store.records_after(0) for e in fold.envelopes(r)]


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

    relay = EventRelay(0, store, WatchedCursor(), broker.connection, broker.exchange, window=6)
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
    relay = EventRelay(0, store, store, broker.connection, broker.exchange, poll_interval=30.0)
    await relay.start()
    try:
        await asyncio.sleep(0.05)  # let it find nothing and go idle
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
    await asyncio.sleep(0.05)
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
    relay = EventRelay(0, store, store, AMQP_URL, broker.exchange, poll_interval=0.05)
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
    relay = EventRelay(0, store, store, "amqp://guest:guest@127.0.0.1:1/", publish_timeout=2)
    with pytest.raises(EventPublishFailed, match="cannot connect"):
        await relay.start()
    assert not relay.running


async def test_start_refuses_a_cursor_beyond_the_journal() -> None:
    store = MemoryStore()
    await store.append(trading(1), ReadModelChanges())
    await store.advance_outbox_cursor(store.head_seq + 5, T0)
    relay = EventRelay(0, store, store, "amqp://guest:guest@127.0.0.1:1/")
    with pytest.raises(JournalCorrupted, match="journal ends at 7"):
        await relay.start()
