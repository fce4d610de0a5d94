"""Signal topology on a real RabbitMQ: idempotent declares, foreign queues, routing, DLX."""

from __future__ import annotations

import aio_pika
import pytest
import structlog
from aio_pika.abc import AbstractIncomingMessage
from tests.amqp_support import (
    BrokerSession,
    publish,
    queue_depth,
    take,
    wait_for_depth,
)

from ordergate.bus.connection import connect
from ordergate.bus.topology import (
    SignalTopology,
    declare_partitions,
    declare_signal_queue,
    partition_routing_key,
)
from ordergate.domain.errors import InvalidRequest, OrderGateError


@pytest.fixture
def topology(broker: BrokerSession) -> SignalTopology:
    topology = SignalTopology(
        signal_queue=broker.unique("test.signals"),
        partition_exchange=broker.unique("test.partitions"),
        partitions=3,
        delivery_limit=2,
    )
    broker.track(
        queues=(topology.signal_queue, topology.dead_letter_queue, *topology.partition_queues),
        exchanges=(topology.dead_letter_exchange, topology.partition_exchange),
    )
    return topology


def test_topology_names_default_to_the_seed_queue_and_two_digit_partitions():
    topology = SignalTopology()
    assert topology.signal_queue == "model-service.trading_signals"
    assert topology.dead_letter_queue == "model-service.trading_signals.dlq"
    assert topology.dead_letter_exchange == "model-service.trading_signals.dlx"
    assert topology.partition_exchange == "ordergate.signals"
    assert topology.partition_queue(7) == "ordergate.signals.p07"
    assert partition_routing_key(7) == "p07"
    assert partition_routing_key(123) == "p123"
    assert len(topology.partition_queues) == topology.partitions == 64


@pytest.mark.parametrize(
    "arguments",
    [{"partitions": 0}, {"delivery_limit": 0}, {"signal_queue": "amq.signals"}],
)
def test_topology_impossible_settings_refused(arguments):
    with pytest.raises(InvalidRequest):
        SignalTopology(**arguments)


async def test_connect_unreachable_broker_raises_bus_unavailable():
    with pytest.raises(OrderGateError) as caught:
        await connect("amqp://guest:guest@127.0.0.1:1/", name="nowhere", timeout=2.0)
    assert caught.value.code == "BUS_UNAVAILABLE"
    assert "guest:guest" not in caught.value.message  # the password is never shown


async def test_declaring_the_topology_twice_is_harmless(broker, topology):
    first = await declare_signal_queue(broker.connection, topology)
    await publish(broker.connection, topology.signal_queue, [b"{}"])
    again = await declare_signal_queue(broker.connection, topology)
    partitions = await declare_partitions(broker.connection, topology)
    partitions_again = await declare_partitions(broker.connection, topology)

    assert first.difference is None
    assert again.difference is None
    assert again.message_count == 1  # the queue was kept, with its message
    assert [q.name for q in partitions] == list(topology.partition_queues)
    assert all(q.difference is None for q in (*partitions, *partitions_again))


@pytest.mark.parametrize(
    ("argument", "other_value"),
    [("x-queue-type", "classic"), ("x-single-active-consumer", False), ("x-delivery-limit", 9)],
)
async def test_signal_queue_has_its_arguments(broker, topology, argument, other_value):
    await declare_signal_queue(broker.connection, topology)
    arguments = {**topology.work_queue_arguments(), argument: other_value}
    async with aio_pika.Channel(broker.connection, publisher_confirms=False) as channel:
        # The broker refuses a declare that differs in just this argument: the queue has it.
        with pytest.raises(aio_pika.exceptions.ChannelPreconditionFailed, match=argument):
            await channel.declare_queue(topology.signal_queue, durable=True, arguments=arguments)


async def test_existing_classic_queue_is_used_as_it_is_with_a_warning(broker, topology):
    async with aio_pika.Channel(broker.connection, publisher_confirms=False) as channel:
        await channel.declare_queue(topology.signal_queue, durable=True)
    await publish(broker.connection, topology.signal_queue, [b"{}", b"{}"])

    with structlog.testing.capture_logs() as logs:
        declared = await declare_signal_queue(broker.connection, topology)

    assert declared.difference is not None
    assert "inequivalent arg" in declared.difference
    assert declared.message_count == 2
    warnings = [entry for entry in logs if entry["event"] == "bus.queue_differs"]
    assert len(warnings) == 1
    assert warnings[0]["queue"] == topology.signal_queue
    assert warnings[0]["log_level"] == "warning"
    assert warnings[0]["difference"] == declared.difference
    # the connection and its later declares still work
    assert await queue_depth(broker.connection, topology.dead_letter_queue) == 0


async def test_partition_queues_receive_only_their_routing_key(broker, topology):
    await declare_partitions(broker.connection, topology)
    channel = await broker.connection.channel(publisher_confirms=True, on_return_raises=True)
    exchange = await channel.get_exchange(topology.partition_exchange)
    for partition in range(topology.partitions):
        for _ in range(partition + 1):
            await exchange.publish(
                aio_pika.Message(str(partition).encode()),
                routing_key=partition_routing_key(partition),
            )
    await channel.close()

    for partition in range(topology.partitions):
        queue = topology.partition_queue(partition)
        assert await queue_depth(broker.connection, queue) == partition + 1
        bodies = {m.body for m in await take(broker.connection, queue, partition + 1)}
        assert bodies == {str(partition).encode()}


async def test_message_over_the_delivery_limit_is_dead_lettered_by_the_broker(broker, topology):
    await declare_signal_queue(broker.connection, topology)
    await publish(broker.connection, topology.signal_queue, [b"poison"])
    returned = 0

    async def refuse(message: AbstractIncomingMessage) -> None:
        nonlocal returned
        returned += 1
        await message.nack(requeue=True)

    channel = await broker.connection.channel(publisher_confirms=False)
    queue = await channel.declare_queue(topology.signal_queue, passive=True)
    await queue.consume(refuse)
    await wait_for_depth(broker.connection, topology.dead_letter_queue, 1)
    await channel.close()

    dead = await take(broker.connection, topology.dead_letter_queue, 1)
    assert dead[0].body == b"poison"
    assert dead[0].headers["x-death"]  # the broker's own record of why
    assert returned == topology.delivery_limit + 1
