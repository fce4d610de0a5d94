"""A signal through ordergate whole: RabbitMQ in, the engine, the journal, RabbitMQ out.

The OMS runs embedded (`Oms(Settings(amqp_url=...))`) on the paper venue with a still
market; the test publishes signals to the queue and reads the event exchange through a
queue bound with `#`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aio_pika
import pytest
from tests.amqp_support import BrokerSession, broker_session, publish, take
from tests.waiting import eventually

from ordergate.config.settings import Settings
from ordergate.domain.values import OrderStatus
from ordergate.oms import Oms

D = Decimal


SIGNAL_MAX_BYTES = 65_536  # the default, set explicitly in the rig


def signal_of_size(signal_id: str, size: int) -> bytes:
    """A valid signal padded, with a field ordergate ignores, to exactly `size` bytes."""
    padding = size - len(signal_body(signal_id, padding=""))
    body = signal_body(signal_id, padding="x" * padding)
    assert len(body) == size
    return body


def signal_body(signal_id: str, **fields: Any) -> bytes:
    message = {
        "version": 1,
        "signal_id": signal_id,
        "strategy": "momentum",
        "symbol": "BTCUSDT",
        "side": "BUY",
        "confidence": 0.95,
        "qty": "0.010",
        "trace_id": f"trace-{signal_id}",
        "timestamp": "2026-12-02T19:00:00.000Z",
        **fields,
    }
    return json.dumps(message).encode()


@dataclass
class Rig:
    oms: Oms
    broker: BrokerSession
    queue: str
    dead_letters: str
    events: str

    async def send(self, *bodies: bytes) -> None:
        await publish(self.broker.connection, self.queue, list(bodies))

    async def orders_of(self, signal_id: str) -> list[Any]:
        page = await self.oms.orders(limit=1000)
        return [o for o in page.items if o.signal_id == signal_id]

    def taken(self) -> int:
        return len(self.oms.app.partition.engine.state.signals)


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    async with broker_session() as broker:
        queue = broker.unique("test.signals")
        exchange = broker.unique("test.events")
        events = broker.unique("test.events.all")
        broker.track(queues=(queue, f"{queue}.dlq", events), exchanges=(exchange, f"{queue}.dlx"))
        channel = await broker.connection.channel()
        listener = await channel.declare_queue(events, durable=True)
        exchange_object = await channel.declare_exchange(
            exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        await listener.bind(exchange_object, "#")
        await channel.close()
        settings = Settings(
            db=":memory:",
            paper_bars_per_second=0,
            amqp_url=broker.url,
            signals_queue=queue,
            events_exchange=exchange,
            reconcile_interval_seconds=3600,
            signal_max_bytes=SIGNAL_MAX_BYTES,
        )
        async with Oms(settings) as oms:
            yield Rig(oms, broker, queue, f"{queue}.dlq", events)


async def test_a_signal_becomes_one_order_whose_events_come_out_in_journal_order(rig):
    await rig.send(signal_body("s-1"))
    await eventually(lambda: rig.taken() == 1)
    [order] = await rig.orders_of("s-1")
    await rig.oms.app.partition.engine.settle()
    head = rig.oms.app.partition.store.head_seq

    messages = await take(rig.broker.connection, rig.events, count=head + 1)  # + a position

    assert order.status is OrderStatus.FILLED
    assert order.trace_id == "trace-s-1"
    bodies = [json.loads(m.body) for m in messages]
    seqs = [b["seq"] for b in bodies if b["type"] != "PositionChanged"]
    assert seqs == list(range(1, head + 1))  # gapless, in journal order
    types = [b["type"] for b in bodies]
    assert types.index("SignalReceived") < types.index("OrderInitialized")
    assert "OrderFilled" in types
    assert "PositionChanged" in types
    fill = next(m for m in messages if json.loads(m.body)["type"] == "OrderFilled")
    assert fill.routing_key == "default.BTCUSDT.OrderFilled"
    assert fill.headers["trace_id"] == "trace-s-1"
    assert fill.message_id == f"0:{json.loads(fill.body)['seq']}"


async def test_a_redelivered_signal_places_nothing(rig):
    await rig.send(signal_body("s-1"))
    await eventually(lambda: rig.taken() == 1)

    await rig.send(signal_body("s-1"), signal_body("s-2"))
    await eventually(lambda: rig.taken() == 2)
    await rig.oms.app.partition.engine.settle()

    assert len(await rig.orders_of("s-1")) == 1
    assert len(await rig.orders_of("s-2")) == 1
    await eventually(lambda: _depth(rig, rig.queue, 0))


async def _depth(rig: Rig, queue: str, expected: int) -> bool:
    async with aio_pika.Channel(rig.broker.connection, publisher_confirms=False) as channel:
        declared = await channel.declare_queue(queue, passive=True)
        return (declared.declaration_result.message_count or 0) == expected


@pytest.mark.parametrize(
    ("poison", "reason"),
    [
        (b"not json at all", "SIGNAL_MALFORMED"),
        (signal_body("s-x", version=2), "SIGNAL_UNKNOWN_VERSION"),
        (signal_body("s-x", confidence=1.5), "SIGNAL_INVALID"),
    ],
)
async def test_a_poison_message_is_dead_lettered_with_its_reason_and_the_next_signal_goes_on(
    rig, poison, reason
):
    await rig.send(poison, signal_body("s-2"))

    await eventually(lambda: rig.taken() == 1)
    [dead] = await take(rig.broker.connection, rig.dead_letters, count=1)

    assert dead.body == poison
    assert dead.headers["x-ordergate-reason"] == reason
    assert dead.headers["x-ordergate-detail"]
    assert len(await rig.orders_of("s-2")) == 1


async def test_a_signal_id_reused_for_another_signal_is_dead_lettered(rig):
    await rig.send(signal_body("s-1"))
    await eventually(lambda: rig.taken() == 1)

    await rig.send(signal_body("s-1", qty="0.020"))
    [dead] = await take(rig.broker.connection, rig.dead_letters, count=1)

    assert dead.headers["x-ordergate-reason"] == "IDEMPOTENCY_KEY_REUSED"
    assert [o.qty for o in await rig.orders_of("s-1")] == [D("0.010")]


async def test_a_signal_over_the_size_limit_is_dead_lettered_unread_and_the_next_goes_on(rig):
    too_large = signal_of_size("s-big", SIGNAL_MAX_BYTES + 1)
    await rig.send(too_large, signal_body("s-2"))

    [dead] = await take(rig.broker.connection, rig.dead_letters, count=1)
    await eventually(lambda: rig.taken() == 1)

    assert dead.body == too_large
    assert dead.headers["x-ordergate-reason"] == "SIGNAL_TOO_LARGE"
    assert await rig.orders_of("s-big") == []
    assert len(await rig.orders_of("s-2")) == 1


async def test_a_signal_of_exactly_the_size_limit_is_decoded_and_acted_on(rig):
    await rig.send(signal_of_size("s-edge", SIGNAL_MAX_BYTES))

    await eventually(lambda: rig.taken() == 1)

    [order] = await rig.orders_of("s-edge")
    assert order.trace_id == "trace-s-edge"  # read from the body: it was decoded
