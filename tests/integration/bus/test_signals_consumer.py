"""SignalConsumer on a real RabbitMQ: ack after the handler, dead letters, stops, SAC."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import aio_pika
import pytest
import structlog
from aio_pika.abc import AbstractRobustConnection
from tests.amqp_support import (
    AmqpProxy,
    BrokerSession,
    consumer_count,
    publish,
    queue_depth,
    take,
    wait_for_depth,
)
from tests.waiting import eventually

from ordergate.bus import signals_in
from ordergate.bus.connection import connect
from ordergate.bus.signals_in import (
    DEFAULT_MAX_BODY_BYTES,
    DETAIL_HEADER,
    QUEUE_HEADER,
    REASON_HEADER,
    ROUTING_KEY_HEADER,
    SignalConsumer,
    SignalDelivery,
)
from ordergate.bus.topology import SignalTopology, declare_dead_letters, declare_signal_queue
from ordergate.domain.errors import (
    Conflict,
    EngineStopped,
    InvalidRequest,
    JournalCorrupted,
    JournalFenced,
    NotFound,
    OrderGateError,
)

Handler = Callable[[bytes, SignalDelivery], Awaitable[None]]


class InvalidSignal(InvalidRequest):
    """Stands for the signal decoder's error: a subclass of InvalidRequest."""

    code = "SIGNAL_INVALID"


@pytest.fixture
async def topology(broker: BrokerSession) -> SignalTopology:
    topology = SignalTopology(
        signal_queue=broker.unique("test.signals"),
        partition_exchange=broker.unique("test.partitions"),
        partitions=2,
    )
    broker.track(
        queues=(topology.signal_queue, topology.dead_letter_queue),
        exchanges=(topology.dead_letter_exchange,),
    )
    await declare_signal_queue(broker.connection, topology)
    return topology


class Recorder:
    """A handler that records each delivery and runs an optional behaviour per body."""

    def __init__(self, behaviour: Handler | None = None) -> None:
        self.deliveries: list[tuple[bytes, SignalDelivery]] = []
        self._behaviour = behaviour

    async def __call__(self, body: bytes, delivery: SignalDelivery) -> None:
        self.deliveries.append((body, delivery))
        if self._behaviour is not None:
            await self._behaviour(body, delivery)

    @property
    def bodies(self) -> list[bytes]:
        return [body for body, _ in self.deliveries]


async def consumer_on(
    broker: BrokerSession,
    topology: SignalTopology,
    handler: Handler,
    *,
    url: str | None = None,
    **options: object,
) -> tuple[SignalConsumer, AbstractRobustConnection]:
    connection = broker.adopt(
        await connect(url or broker.url, name="test-consumer", reconnect_interval=0.1)
    )
    consumer = SignalConsumer(
        connection,
        topology.signal_queue,
        handler,
        dead_letter_queue=topology.dead_letter_queue,
        **options,  # type: ignore[arg-type]
    )
    await consumer.start()
    return consumer, connection


async def test_consumer_handler_return_acknowledges_the_message(broker, topology):
    handler = Recorder()
    consumer, connection = await consumer_on(broker, topology, handler)
    await publish(
        broker.connection,
        topology.signal_queue,
        [b'{"trace_id": "t-1"}'],
        correlation_id="c-1",
        headers={"source": "model"},
    )

    await eventually(lambda: len(handler.deliveries) == 1 and consumer.in_flight == 0)
    await connection.close()  # a crash now would return an unacknowledged message

    assert await queue_depth(broker.connection, topology.signal_queue) == 0
    body, delivery = handler.deliveries[0]
    assert body == b'{"trace_id": "t-1"}'
    assert delivery.message_id == "m0"
    assert delivery.correlation_id == "c-1"
    assert delivery.headers["source"] == "model"
    assert delivery.redelivered is False
    assert delivery.delivery_count is None
    assert delivery.routing_key == topology.signal_queue
    assert delivery.queue == topology.signal_queue


async def test_consumer_blocked_handler_leaves_the_message_unacknowledged(broker, topology):
    release = asyncio.Event()

    async def block(_: bytes, __: SignalDelivery) -> None:
        await release.wait()

    handler = Recorder(block)
    consumer, connection = await consumer_on(broker, topology, handler)
    await publish(broker.connection, topology.signal_queue, [b"{}"])
    await eventually(lambda: len(handler.deliveries) == 1)
    assert await queue_depth(broker.connection, topology.signal_queue) == 0  # delivered

    await connection.close()  # the node dies while the handler still works
    # never acked: the broker returns it to the queue (once it has seen the channel go)
    await wait_for_depth(broker.connection, topology.signal_queue, 1)

    with structlog.testing.capture_logs() as logs:
        release.set()
        await eventually(lambda: consumer.in_flight == 0)
    assert [e["action"] for e in logs if e["event"] == "signal.settle_failed"] == ["ack"]
    assert len(handler.deliveries) == 1


async def test_consumer_invalid_signal_is_dead_lettered_and_the_next_one_handled(broker, topology):
    async def reject_bad(body: bytes, _: SignalDelivery) -> None:
        if body == b"bad":
            raise InvalidSignal("field 'side' is missing", code="SIGNAL_MALFORMED")

    handler = Recorder(reject_bad)
    await consumer_on(broker, topology, handler, prefetch=1)
    await publish(
        broker.connection, topology.signal_queue, [b"bad", b"good"], headers={"source": "model"}
    )

    dead = await take(broker.connection, topology.dead_letter_queue, 1)
    await eventually(lambda: handler.bodies == [b"bad", b"good"])

    letter = dead[0]
    assert letter.body == b"bad"
    assert letter.message_id == "m0"
    assert letter.headers[REASON_HEADER] == "SIGNAL_MALFORMED"
    assert letter.headers[DETAIL_HEADER] == "field 'side' is missing"
    assert letter.headers[QUEUE_HEADER] == topology.signal_queue
    assert letter.headers[ROUTING_KEY_HEADER] == topology.signal_queue
    assert letter.headers["source"] == "model"
    await wait_for_depth(broker.connection, topology.signal_queue, 0)


def json_of_size(size: int) -> bytes:
    """A JSON object with a trace id, padded to exactly `size` bytes: decodable, if read."""
    empty = json.dumps({"trace_id": "t-big", "padding": ""}).encode()
    body = json.dumps({"trace_id": "t-big", "padding": "x" * (size - len(empty))}).encode()
    assert len(body) == size
    return body


async def test_consumer_body_over_the_limit_is_dead_lettered_unread_and_the_next_handled(
    broker, topology, monkeypatch
):
    limit = DEFAULT_MAX_BODY_BYTES
    too_large, at_limit = json_of_size(limit + 1), json_of_size(limit)
    looked_into: list[int] = []  # the length of each body the consumer parsed for a trace id
    trace_id_of = signals_in.trace_id_of

    def recording_trace_id_of(body: bytes) -> str | None:
        looked_into.append(len(body))
        return trace_id_of(body)

    monkeypatch.setattr(signals_in, "trace_id_of", recording_trace_id_of)
    handler = Recorder()
    with structlog.testing.capture_logs() as logs:
        await consumer_on(broker, topology, handler, prefetch=1)
        await publish(broker.connection, topology.signal_queue, [too_large, at_limit, b"next"])
        dead = await take(broker.connection, topology.dead_letter_queue, 1)
        await eventually(lambda: handler.bodies == [at_limit, b"next"])

    letter = dead[0]
    assert letter.body == too_large
    assert letter.message_id == "m0"
    assert letter.headers[REASON_HEADER] == "SIGNAL_TOO_LARGE"
    assert letter.headers[DETAIL_HEADER] == (
        f"the body is {limit + 1} bytes, over the limit of {limit}"
    )
    assert letter.headers[QUEUE_HEADER] == topology.signal_queue
    assert looked_into == [limit, len(b"next")]  # the oversized body was never parsed
    [logged] = [entry for entry in logs if entry["event"] == "signal.dead_lettered"]
    assert (logged["reason"], logged["body_bytes"], logged["message_id"]) == (
        "SIGNAL_TOO_LARGE",
        limit + 1,
        "m0",
    )
    assert "trace_id" not in logged
    await wait_for_depth(broker.connection, topology.signal_queue, 0)


async def test_consumer_body_limit_is_the_one_it_was_given(broker, topology):
    handler = Recorder()
    await consumer_on(broker, topology, handler, prefetch=1, max_body_bytes=8)
    await publish(broker.connection, topology.signal_queue, [b"123456789", b"12345678"])

    dead = await take(broker.connection, topology.dead_letter_queue, 1)
    await eventually(lambda: handler.bodies == [b"12345678"])

    assert dead[0].body == b"123456789"
    assert dead[0].headers[REASON_HEADER] == "SIGNAL_TOO_LARGE"


async def test_consumer_unexpected_exception_is_dead_lettered_as_internal_error(broker, topology):
    async def crash_once(body: bytes, _: SignalDelivery) -> None:
        if body == b"first":
            raise ZeroDivisionError("a bug in the handler")

    handler = Recorder(crash_once)
    with structlog.testing.capture_logs() as logs:
        await consumer_on(broker, topology, handler)
        await publish(broker.connection, topology.signal_queue, [b"first", b"second"])
        dead = await take(broker.connection, topology.dead_letter_queue, 1)
        await eventually(lambda: sorted(handler.bodies) == [b"first", b"second"])

    assert dead[0].body == b"first"
    assert dead[0].headers[REASON_HEADER] == "INTERNAL_ERROR"
    assert dead[0].headers[DETAIL_HEADER] == "ZeroDivisionError: a bug in the handler"
    bugs = [entry for entry in logs if entry["event"] == "signal.handler_bug"]
    assert len(bugs) == 1
    assert bugs[0]["exc_info"] is True  # logged with its traceback
    assert bugs[0]["message_id"] == "m0"


async def test_consumer_long_detail_is_truncated_in_the_dead_letter(broker, topology):
    async def reject(_: bytes, __: SignalDelivery) -> None:
        raise InvalidSignal("x" * 5000)

    await consumer_on(broker, topology, Recorder(reject))
    await publish(broker.connection, topology.signal_queue, [b"{}"])

    dead = await take(broker.connection, topology.dead_letter_queue, 1)
    assert dead[0].headers[REASON_HEADER] == "SIGNAL_INVALID"
    detail = dead[0].headers[DETAIL_HEADER]
    assert isinstance(detail, str)
    assert len(detail) == 1000
    assert detail.endswith("…")


@pytest.mark.parametrize(
    "error",
    [
        JournalFenced("partition 3 has epoch 8 now"),
        EngineStopped("the engine stopped"),
        JournalCorrupted("the chain does not verify"),
    ],
)
async def test_consumer_that_can_no_longer_journal_stops_and_the_next_consumer_gets_the_message(
    broker, topology, error
):
    stopped: list[OrderGateError] = []

    async def refuse(_: bytes, __: SignalDelivery) -> None:
        raise error

    first_handler = Recorder(refuse)
    first, _ = await consumer_on(broker, topology, first_handler, on_stopped=stopped.append)
    second_handler = Recorder()
    second, _ = await consumer_on(broker, topology, second_handler)
    await publish(broker.connection, topology.signal_queue, [b"signal"])

    await eventually(lambda: stopped == [error])
    assert not first.active
    assert second.active
    await eventually(lambda: second_handler.bodies == [b"signal"])
    _, redelivery = second_handler.deliveries[0]
    assert redelivery.redelivered is True
    assert redelivery.delivery_count == 1
    assert first_handler.bodies == [b"signal"]
    assert await queue_depth(broker.connection, topology.dead_letter_queue) == 0


async def test_single_active_consumer_only_one_receives_until_its_connection_closes(
    broker, topology
):
    handlers = (Recorder(), Recorder())
    first, first_connection = await consumer_on(broker, topology, handlers[0])
    await consumer_on(broker, topology, handlers[1])
    await publish(broker.connection, topology.signal_queue, [b"1", b"2", b"3"])
    # Every message handled and acknowledged by the first: none is left for the second.
    await eventually(lambda: len(handlers[0].bodies) == 3 and first.in_flight == 0)
    await wait_for_depth(broker.connection, topology.signal_queue, 0)
    assert handlers[1].bodies == []

    await first_connection.close()
    await publish(broker.connection, topology.signal_queue, [b"4", b"5"])
    await eventually(lambda: handlers[1].bodies == [b"4", b"5"])
    assert handlers[0].bodies == [b"1", b"2", b"3"]


async def test_consumer_handles_messages_concurrently_up_to_the_prefetch(broker, topology):
    release = asyncio.Event()

    async def block(_: bytes, __: SignalDelivery) -> None:
        await release.wait()

    handler = Recorder(block)
    consumer, _ = await consumer_on(broker, topology, handler, prefetch=3)
    await publish(broker.connection, topology.signal_queue, [b"1", b"2", b"3", b"4", b"5"])

    await eventually(lambda: consumer.in_flight == 3)
    # The broker keeps the other two: it would have delivered them at once, were they due.
    await wait_for_depth(broker.connection, topology.signal_queue, 2)
    assert consumer.in_flight == 3
    assert handler.bodies == [b"1", b"2", b"3"]
    release.set()
    await eventually(lambda: len(handler.bodies) == 5 and consumer.in_flight == 0)
    await consumer.stop()
    assert await queue_depth(broker.connection, topology.signal_queue) == 0


async def test_consumer_stop_waits_for_the_handlers_in_flight(broker, topology):
    release = asyncio.Event()

    async def block(_: bytes, __: SignalDelivery) -> None:
        await release.wait()

    handler = Recorder(block)
    consumer, _ = await consumer_on(broker, topology, handler)
    await publish(broker.connection, topology.signal_queue, [b"{}"])
    await eventually(lambda: consumer.in_flight == 1)

    stopping = asyncio.create_task(consumer.stop())
    # The stop has begun; the handler still holds its message, so it cannot have ended.
    await eventually(lambda: not consumer.active, message="the stop to begin")
    assert consumer.in_flight == 1
    assert await consumer_count(broker.connection, topology.signal_queue) == 1
    assert not stopping.done()
    assert not consumer.active
    release.set()
    await stopping

    assert await queue_depth(broker.connection, topology.signal_queue) == 0  # acked first

    async def no_consumer() -> bool:  # the broker drops it once it has seen the channel go
        return await consumer_count(broker.connection, topology.signal_queue) == 0

    await eventually(no_consumer, message="the consumer to be gone")


async def test_consumer_stop_after_the_timeout_cancels_the_handler_and_returns_the_message(
    broker, topology
):
    cancelled = asyncio.Event()

    async def hang(_: bytes, __: SignalDelivery) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    consumer, _ = await consumer_on(broker, topology, Recorder(hang), stop_timeout=0.2)
    await publish(broker.connection, topology.signal_queue, [b"{}"])
    await eventually(lambda: consumer.in_flight == 1)

    await consumer.stop()

    assert cancelled.is_set()
    await wait_for_depth(broker.connection, topology.signal_queue, 1)  # returned, not acked


async def test_consumer_ack_on_a_dropped_connection_is_logged_and_the_message_redelivered(
    broker, topology
):
    release = asyncio.Event()

    async def block_first(_: bytes, delivery: SignalDelivery) -> None:
        if not delivery.redelivered:
            await release.wait()

    handler = Recorder(block_first)
    async with AmqpProxy(broker.url) as proxy:
        consumer, _ = await consumer_on(broker, topology, handler, url=proxy.url)
        await publish(broker.connection, topology.signal_queue, [b"signal"])
        await eventually(lambda: len(handler.deliveries) == 1)

        with structlog.testing.capture_logs() as logs:
            proxy.cut()  # the link drops mid-message
            # The client reconnects only once it has seen its link go: the channel the
            # message came on is gone with it.
            await eventually(lambda: proxy.accepted >= 2, message="the client to reconnect")
            release.set()  # the outcome is journaled; the ack cannot be sent
            await eventually(lambda: len(handler.deliveries) == 2)
            await eventually(lambda: consumer.in_flight == 0)

        assert consumer.active
        assert [d.redelivered for _, d in handler.deliveries] == [False, True]
        assert any(entry["event"] == "signal.settle_failed" for entry in logs)
        await consumer.stop()
    assert await queue_depth(broker.connection, topology.signal_queue) == 0


async def test_consumer_start_on_a_missing_queue_raises_not_found(broker):
    connection = broker.adopt(await connect(broker.url, name="test-missing"))
    consumer = SignalConsumer(
        connection,
        broker.unique("test.absent"),
        Recorder(),
        dead_letter_queue=broker.unique("test.absent.dlq"),
    )
    with pytest.raises(NotFound):
        await consumer.start()
    assert not consumer.active


async def test_consumer_without_a_dead_letter_queue_requeues_until_there_is_one(broker, topology):
    async def reject(_: bytes, __: SignalDelivery) -> None:
        raise InvalidSignal("no such instrument")

    handler = Recorder(reject)
    async with aio_pika.Channel(broker.connection, publisher_confirms=False) as channel:
        await channel.queue_delete(topology.dead_letter_queue)  # an operator deleted it
    with structlog.testing.capture_logs() as logs:
        await consumer_on(broker, topology, handler, requeue_delay=0.1)
        await publish(broker.connection, topology.signal_queue, [b"signal"])
        await eventually(lambda: len(handler.deliveries) >= 2)
        await declare_dead_letters(broker.connection, topology)
        dead = await take(broker.connection, topology.dead_letter_queue, 1)

    assert dead[0].body == b"signal"
    assert dead[0].headers[REASON_HEADER] == "SIGNAL_INVALID"
    assert handler.deliveries[1][1].redelivered is True
    requeued = [entry for entry in logs if entry["event"] == "signal.requeued"]
    assert requeued
    assert requeued[0]["reason"] == "BUS_UNAVAILABLE"


async def test_consumer_started_again_after_a_stop_consumes_again(broker, topology):
    handler = Recorder()
    consumer, _ = await consumer_on(broker, topology, handler)
    await consumer.stop()
    assert not consumer.active
    await publish(broker.connection, topology.signal_queue, [b"while stopped"])
    await wait_for_depth(broker.connection, topology.signal_queue, 1)  # waiting, undelivered
    assert handler.bodies == []

    await consumer.start()
    await eventually(lambda: handler.bodies == [b"while stopped"])
    with pytest.raises(Conflict):
        await consumer.start()


async def test_connect_asks_for_a_five_second_heartbeat_unless_told_otherwise(broker):
    default = broker.adopt(await connect(broker.url, name="test-heartbeat"))
    chosen = broker.adopt(await connect(broker.url, name="test-heartbeat", heartbeat=7))
    from_url = broker.adopt(await connect(f"{broker.url}?heartbeat=9", name="test-heartbeat"))

    assert [c.transport.connection.heartbeat_timeout for c in (default, chosen, from_url)] == [
        5,
        7,
        9,
    ]


async def test_stopping_consumer_hands_over_its_messages_before_newer_ones(broker, topology):
    """A fenced node keeps its subscription while its handlers finish, then closes the
    channel: the standby gets the returned messages first, in order, then the new one."""
    release = asyncio.Event()
    third_journaled = asyncio.Event()

    async def fenced(body: bytes, _: SignalDelivery) -> None:
        await release.wait()
        if body == b"3":
            await third_journaled.wait()  # still journaling when the fence is discovered
        raise JournalFenced("another node owns the partition")

    first_handler = Recorder(fenced)
    first, _ = await consumer_on(broker, topology, first_handler)
    second_handler = Recorder()
    await consumer_on(broker, topology, second_handler)
    await publish(broker.connection, topology.signal_queue, [b"1", b"2", b"3"])
    await eventually(lambda: first.in_flight == 3)

    release.set()
    await eventually(lambda: not first.active)  # stopping, waiting for the third handler
    await publish(broker.connection, topology.signal_queue, [b"4"])
    assert first.in_flight == 1
    third_journaled.set()

    await eventually(lambda: len(second_handler.bodies) == 4)
    assert second_handler.bodies == [b"1", b"2", b"3", b"4"]
    assert first_handler.bodies == [b"1", b"2", b"3"]
