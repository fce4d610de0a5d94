"""SignalRouter on a real RabbitMQ: partitions, order per account, dead letters, restarts."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage
from tests.amqp_support import (
    AmqpProxy,
    BrokerSession,
    publish,
    take,
    wait_for_depth,
)
from tests.waiting import eventually

from ordergate.bus.connection import connect
from ordergate.bus.router import SignalRouter, account_of
from ordergate.bus.signals_in import REASON_HEADER
from ordergate.bus.topology import (
    SignalTopology,
    declare_partitions,
    declare_signal_queue,
    partition_routing_key,
)
from ordergate.domain.errors import InvalidRequest, NotFound
from ordergate.engine.ids import partition_of

PARTITIONS = 4


@pytest.fixture
async def topology(broker: BrokerSession) -> SignalTopology:
    topology = SignalTopology(
        signal_queue=broker.unique("test.signals"),
        partition_exchange=broker.unique("test.partitions"),
        partitions=PARTITIONS,
    )
    broker.track(
        queues=(topology.signal_queue, topology.dead_letter_queue, *topology.partition_queues),
        exchanges=(topology.dead_letter_exchange, topology.partition_exchange),
    )
    await declare_signal_queue(broker.connection, topology)
    await declare_partitions(broker.connection, topology)
    return topology


async def router_on(
    broker: BrokerSession, topology: SignalTopology, *, url: str | None = None, **options: object
) -> SignalRouter:
    connection = broker.adopt(
        await connect(url or broker.url, name="test-router", reconnect_interval=0.1)
    )
    router = SignalRouter(connection, topology, **options)  # type: ignore[arg-type]
    await router.start()
    return router


MARKER_HEADER = "x-test-marker"


class PartitionCollector:
    """Consume every partition queue, as the partition owners would, recording arrivals
    (and, apart from them, the test's own markers: see `caught_up`)."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[int, AbstractIncomingMessage]] = []
        self.markers: set[int] = set()

    async def start(self, broker: BrokerSession, topology: SignalTopology) -> None:
        channel = await broker.connection.channel(publisher_confirms=False)
        await channel.set_qos(prefetch_count=1000)
        for partition in range(topology.partitions):
            queue = await channel.declare_queue(topology.partition_queue(partition), passive=True)
            await queue.consume(self._keeper(partition))

    def _keeper(self, partition: int):
        async def keep(message: AbstractIncomingMessage) -> None:
            if MARKER_HEADER in message.headers:
                self.markers.add(partition)
            else:
                self.arrivals.append((partition, message))
            await message.ack()

        return keep

    async def caught_up(self, broker: BrokerSession, topology: SignalTopology) -> None:
        """Return once everything in the partition queues now has arrived: a marker put at
        the end of each queue comes out after everything before it."""
        self.markers.clear()
        for partition in range(topology.partitions):
            queue = topology.partition_queue(partition)
            await publish(broker.connection, queue, [b"marker"], headers={MARKER_HEADER: True})
        await eventually(
            lambda: len(self.markers) == topology.partitions, message="every partition's marker"
        )

    def signals(self) -> list[tuple[int, dict[str, object]]]:
        return [(partition, json.loads(m.body)) for partition, m in self.arrivals]


def signal(account: str | None, seq: int) -> bytes:
    body: dict[str, object] = {"seq": seq, "trace_id": f"t-{seq}", "side": "BUY"}
    if account is not None:
        body["account"] = account
    return json.dumps(body).encode()


def stream(accounts: list[str | None], count: int) -> tuple[list[bytes], Counter[str | None]]:
    """`count` signals round-robin over the accounts, numbered per account."""
    per_account: Counter[str | None] = Counter()
    bodies = []
    for number in range(count):
        account = accounts[number % len(accounts)]
        bodies.append(signal(account, per_account[account]))
        per_account[account] += 1
    return bodies, per_account


def check_in_order_per_account(
    arrivals: list[tuple[int, dict[str, object]]], expected: Counter[str | None]
) -> int:
    """Assert each account's signals reached its partition, complete and in order, where a
    redelivered earlier signal may repeat (at-least-once); return how many repeated."""
    next_seq: dict[str | None, int] = defaultdict(int)
    duplicates = 0
    for partition, body in arrivals:
        account = body.get("account")
        assert isinstance(account, str | None)
        assert partition == partition_of(account or "default", PARTITIONS)
        seq = body["seq"]
        assert isinstance(seq, int)
        if seq < next_seq[account]:
            duplicates += 1
            continue
        assert seq == next_seq[account], f"{account}: got {seq}, expected {next_seq[account]}"
        next_seq[account] += 1
    assert dict(next_seq) == dict(expected)
    return duplicates


@pytest.mark.parametrize(
    ("body", "account"),
    [
        (b'{"account": "acme", "side": "BUY", "nested": {"x": [1, 2]}}', "acme"),
        (b'{"side": "BUY"}', "default"),
        (b'{"account": null}', "default"),
        (b'{"account": ""}', ""),
    ],
)
def test_account_of_reads_the_account_or_the_default(body, account):
    assert account_of(body, "default")[0] == account


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'"acme"',
        b'{"account": 7}',
        b"",
        b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # too deep to decode
    ],
)
def test_account_of_unroutable_body_is_malformed(body):
    with pytest.raises(InvalidRequest) as caught:
        account_of(body, "default")
    assert caught.value.code == "SIGNAL_MALFORMED"


async def test_router_sends_every_account_to_its_partition_in_order(broker, topology):
    accounts: list[str | None] = [f"acct-{n}" for n in range(11)] + [None]
    bodies, expected = stream(accounts, 240)
    await publish(
        broker.connection,
        topology.signal_queue,
        bodies,
        content_type="application/json",
        correlation_id="corr",
        headers={"x-producer": "model-service"},
        app_id="model",
    )
    collector = PartitionCollector()
    await collector.start(broker, topology)

    router = await router_on(broker, topology, prefetch=50)
    await eventually(lambda: len(collector.arrivals) == 240)
    await router.stop()

    assert check_in_order_per_account(collector.signals(), expected) == 0
    assert len({p for p, _ in collector.arrivals}) == PARTITIONS  # all partitions used
    _, first = next((p, m) for p, m in collector.arrivals if m.message_id == "m0")
    assert first.body == bodies[0]
    assert first.content_type == "application/json"
    assert first.correlation_id == "corr"
    assert first.app_id == "model"
    assert first.headers["x-producer"] == "model-service"
    assert first.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert first.routing_key == partition_routing_key(partition_of("acct-0", PARTITIONS))
    await wait_for_depth(broker.connection, topology.signal_queue, 0)


async def test_router_malformed_bodies_are_dead_lettered_and_the_next_routed(broker, topology):
    bad = [b"not json", b"[1, 2]", b'{"account": 7}', b'{"account": ["acme"]}']
    await publish(broker.connection, topology.signal_queue, [*bad, signal("acme", 0)])
    collector = PartitionCollector()
    await collector.start(broker, topology)

    await router_on(broker, topology)
    dead = await take(broker.connection, topology.dead_letter_queue, len(bad))
    await eventually(lambda: len(collector.arrivals) == 1)

    assert sorted(m.body for m in dead) == sorted(bad)
    assert {m.headers[REASON_HEADER] for m in dead} == {"SIGNAL_MALFORMED"}
    assert collector.signals()[0][1]["account"] == "acme"
    await wait_for_depth(broker.connection, topology.signal_queue, 0)


async def test_router_body_over_the_limit_is_dead_lettered_unread_and_the_next_routed(
    broker, topology
):
    big = json.dumps({"account": "acme", "padding": "x" * 2000}).encode()
    await publish(broker.connection, topology.signal_queue, [big, signal("acme", 0)])
    collector = PartitionCollector()
    await collector.start(broker, topology)

    await router_on(broker, topology, max_body_bytes=1024)
    dead = await take(broker.connection, topology.dead_letter_queue, 1)
    await eventually(lambda: len(collector.arrivals) == 1)

    assert dead[0].body == big
    assert dead[0].headers[REASON_HEADER] == "SIGNAL_TOO_LARGE"
    assert collector.signals()[0][1] == json.loads(signal("acme", 0))
    await wait_for_depth(broker.connection, topology.signal_queue, 0)


async def test_router_unroutable_signal_is_dead_lettered_not_dropped(broker, topology):
    account = "acme"
    partition = partition_of(account, PARTITIONS)
    async with aio_pika.Channel(broker.connection, publisher_confirms=False) as channel:
        queue = await channel.declare_queue(topology.partition_queue(partition), passive=True)
        await queue.unbind(topology.partition_exchange, partition_routing_key(partition))
    await publish(broker.connection, topology.signal_queue, [signal(account, 0)])

    await router_on(broker, topology)
    dead = await take(broker.connection, topology.dead_letter_queue, 1)

    assert dead[0].body == signal(account, 0)
    assert dead[0].headers[REASON_HEADER] == "SIGNAL_UNROUTABLE"
    await wait_for_depth(broker.connection, topology.signal_queue, 0)


@pytest.mark.parametrize("restart", ["crash", "stop"])
async def test_router_restarted_mid_stream_loses_nothing(broker, topology, restart):
    accounts: list[str | None] = [f"acct-{n}" for n in range(16)]
    bodies, expected = stream(accounts, 600)
    await publish(broker.connection, topology.signal_queue, bodies)
    collector = PartitionCollector()
    await collector.start(broker, topology)

    async with AmqpProxy(broker.url) as proxy:
        first = await router_on(broker, topology, url=proxy.url, prefetch=100)
        await eventually(lambda: len(collector.arrivals) >= 100)
        if restart == "crash":
            proxy.cut()  # the router's node dies mid-stream; the proxy stops listening too
        else:
            await first.stop()
    routed_before = len(collector.arrivals)
    assert routed_before < 600  # the restart happened mid-stream

    second = await router_on(broker, topology, prefetch=100)
    await eventually(lambda: len(collector.arrivals) >= 600)
    await wait_for_depth(broker.connection, topology.signal_queue, 0)
    # Before counting: the router routes nothing more (its publishes in flight are
    # confirmed), and whatever it routed has come out of the partition queues.
    await second.stop()
    await collector.caught_up(broker, topology)

    duplicates = check_in_order_per_account(collector.signals(), expected)
    assert len(collector.arrivals) == 600 + duplicates
    if restart == "stop":
        assert duplicates == 0  # a clean stop acknowledges everything it routed


async def test_router_start_without_the_partition_exchange_raises_not_found(broker):
    topology = SignalTopology(
        signal_queue=broker.unique("test.signals"), partition_exchange=broker.unique("test.none")
    )
    broker.track(
        queues=(topology.signal_queue, topology.dead_letter_queue),
        exchanges=(topology.dead_letter_exchange,),
    )
    await declare_signal_queue(broker.connection, topology)
    connection = broker.adopt(await connect(broker.url, name="test-router"))
    router = SignalRouter(connection, topology)
    with pytest.raises(NotFound):
        await router.start()
    assert not router.active
