"""Declare the queues and exchanges signals travel through; every declare is idempotent.

::

    model-service.trading_signals         quorum · single active consumer · delivery limit
      │   (one SignalRouter active)                └─ dead letters ─▶ <queue>.dlx ─▶ <queue>.dlq
      ▼
    ordergate.signals  (direct exchange)
      ├─ p00 ─▶ ordergate.signals.p00     quorum · single active consumer · delivery limit
      │                                   └─ dead letters ─▶ the same DLX
      ├─ p01 ─▶ ordergate.signals.p01
      └─ …

Quorum queues are replicated and count deliveries, so a message that keeps failing ends in
the dead-letter queue instead of looping; `at-least-once` dead-lettering (which requires
`overflow=reject-publish`) loses no dead letter when the broker fails over. The dead-letter
exchange is a fanout: a dead letter keeps its original routing key, whatever queue it
came from, and every one must reach the one dead-letter queue.

A queue that already exists with other arguments, e.g. a classic queue the producer
declared first, is not an error: the broker refuses to change a queue, so a warning names
the difference and the queue is used as it is.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Final

import aio_pika
import structlog
from aio_pika.abc import AbstractConnection, AbstractQueue, ExchangeType
from aio_pika.exceptions import CONNECTION_EXCEPTIONS, ChannelPreconditionFailed
from pamqp.common import FieldTable

from ordergate.bus.connection import bus_unavailable
from ordergate.domain.errors import InvalidRequest

DEFAULT_SIGNAL_QUEUE: Final = "model-service.trading_signals"
DEFAULT_PARTITION_EXCHANGE: Final = "ordergate.signals"
DEFAULT_PARTITIONS: Final = 64
DEFAULT_DELIVERY_LIMIT: Final = 5
_MAX_NAME_BYTES: Final = 255  # AMQP short string
_INVALID: Final = "BUS_TOPOLOGY_INVALID"

log = structlog.get_logger("ordergate.bus")


def partition_routing_key(partition: int) -> str:
    """Name the routing key of a partition: `p07`, `p42`, `p123` (two digits at least)."""
    if partition < 0:
        raise InvalidRequest(f"partition {partition} is negative", code=_INVALID)
    return f"p{partition:02d}"


@dataclass(frozen=True, slots=True)
class SignalTopology:
    """The names and limits of the signal path; empty names take the documented defaults."""

    signal_queue: str = DEFAULT_SIGNAL_QUEUE
    partition_exchange: str = DEFAULT_PARTITION_EXCHANGE
    partitions: int = DEFAULT_PARTITIONS
    delivery_limit: int = DEFAULT_DELIVERY_LIMIT
    dead_letter_exchange: str = field(default="")  # "" → "<signal_queue>.dlx"
    dead_letter_queue: str = field(default="")  # "" → "<signal_queue>.dlq"
    partition_queue_prefix: str = field(default="")  # "" → "<partition_exchange>"

    def __post_init__(self) -> None:
        if not self.dead_letter_exchange:
            object.__setattr__(self, "dead_letter_exchange", f"{self.signal_queue}.dlx")
        if not self.dead_letter_queue:
            object.__setattr__(self, "dead_letter_queue", f"{self.signal_queue}.dlq")
        if not self.partition_queue_prefix:
            object.__setattr__(self, "partition_queue_prefix", self.partition_exchange)
        if self.partitions < 1:
            raise InvalidRequest("there must be at least one partition", code=_INVALID)
        if self.delivery_limit < 1:
            raise InvalidRequest("the delivery limit must be at least 1", code=_INVALID)
        names = (
            self.signal_queue,
            self.partition_exchange,
            self.dead_letter_exchange,
            self.dead_letter_queue,
            self.partition_queue(self.partitions - 1),
        )
        for name in names:
            if not name or len(name.encode()) > _MAX_NAME_BYTES or name.startswith("amq."):
                raise InvalidRequest(
                    f"{name!r} cannot name a queue or exchange (1 to 255 bytes, not 'amq.…')",
                    code=_INVALID,
                )

    def partition_queue(self, partition: int) -> str:
        """Name the queue of a partition: `ordergate.signals.p07`."""
        return f"{self.partition_queue_prefix}.{partition_routing_key(partition)}"

    @property
    def partition_queues(self) -> tuple[str, ...]:
        return tuple(self.partition_queue(p) for p in range(self.partitions))

    def work_queue_arguments(self) -> FieldTable:
        """The arguments of the signal queue and of every partition queue."""
        return {
            "x-queue-type": "quorum",
            "x-single-active-consumer": True,
            "x-delivery-limit": self.delivery_limit,
            "x-dead-letter-exchange": self.dead_letter_exchange,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }


@dataclass(frozen=True, slots=True)
class DeclaredQueue:
    """A queue as the broker has it after the declare.

    `difference` is None when the queue has the arguments asked for; otherwise it is the
    broker's own words for the first argument that differs, and the queue was used as it is.
    """

    name: str
    message_count: int
    consumer_count: int
    difference: str | None = None


async def declare_dead_letters(
    connection: AbstractConnection, topology: SignalTopology
) -> DeclaredQueue:
    """Declare the dead-letter exchange (fanout) and queue, and bind them."""
    async with _Declarer(connection) as declare:
        return await declare.dead_letters(topology)


async def declare_signal_queue(
    connection: AbstractConnection, topology: SignalTopology
) -> DeclaredQueue:
    """Declare the dead letters, then the queue the model service publishes signals to."""
    async with _Declarer(connection) as declare:
        await declare.dead_letters(topology)
        return await declare.queue(topology.signal_queue, topology.work_queue_arguments())


async def declare_partitions(
    connection: AbstractConnection, topology: SignalTopology
) -> tuple[DeclaredQueue, ...]:
    """Declare the dead letters, the partition exchange and one bound queue per partition."""
    async with _Declarer(connection) as declare:
        await declare.dead_letters(topology)
        await declare.exchange(topology.partition_exchange, ExchangeType.DIRECT)
        declared: list[DeclaredQueue] = []
        for partition in range(topology.partitions):
            queue = await declare.queue(
                topology.partition_queue(partition), topology.work_queue_arguments()
            )
            await declare.bind(
                queue.name, topology.partition_exchange, partition_routing_key(partition)
            )
            declared.append(queue)
        return tuple(declared)


class _Declarer:
    """Run declares on one plain channel, replaced after the broker closes it.

    The broker closes a channel that asks for a queue or exchange with other arguments than
    it has; the next declare then needs a fresh channel. A plain channel, not a robust one:
    a robust channel would reopen itself behind our back and outlive this declarer.
    """

    def __init__(self, connection: AbstractConnection) -> None:
        self._connection = connection
        self._channel: aio_pika.Channel | None = None

    async def __aenter__(self) -> _Declarer:
        return self

    async def __aexit__(self, *_: object) -> None:
        channel, self._channel = self._channel, None
        if channel is not None and not channel.is_closed:
            with contextlib.suppress(*CONNECTION_EXCEPTIONS):
                await channel.close()

    async def _open_channel(self) -> aio_pika.Channel:
        if self._channel is None or self._channel.is_closed:
            self._channel = aio_pika.Channel(self._connection, publisher_confirms=False)
            await self._channel.initialize()
        return self._channel

    async def dead_letters(self, topology: SignalTopology) -> DeclaredQueue:
        await self.exchange(topology.dead_letter_exchange, ExchangeType.FANOUT)
        declared = await self.queue(topology.dead_letter_queue, {"x-queue-type": "quorum"})
        await self.bind(declared.name, topology.dead_letter_exchange, "")
        return declared

    async def queue(self, name: str, arguments: FieldTable) -> DeclaredQueue:
        """Declare a durable queue; if it exists with other arguments, warn and use it."""
        try:
            channel = await self._open_channel()
            queue = await channel.declare_queue(name, durable=True, arguments=arguments)
            return _declared(name, queue, None)
        except ChannelPreconditionFailed as exc:
            difference = str(exc)
        except CONNECTION_EXCEPTIONS as exc:
            raise bus_unavailable(f"cannot declare queue {name!r}", exc) from exc
        log.warning(
            "bus.queue_differs",
            queue=name,
            difference=difference,
            wanted=arguments,
            action="using the existing queue as it is",
        )
        try:
            channel = await self._open_channel()
            queue = await channel.declare_queue(name, passive=True)
            return _declared(name, queue, difference)
        except CONNECTION_EXCEPTIONS as exc:
            raise bus_unavailable(f"cannot use the existing queue {name!r}", exc) from exc

    async def exchange(self, name: str, kind: ExchangeType) -> None:
        """Declare a durable exchange; if it exists as another kind, warn and use it."""
        try:
            channel = await self._open_channel()
            await channel.declare_exchange(name, kind, durable=True)
            return
        except ChannelPreconditionFailed as exc:
            difference = str(exc)
        except CONNECTION_EXCEPTIONS as exc:
            raise bus_unavailable(f"cannot declare exchange {name!r}", exc) from exc
        log.warning(
            "bus.exchange_differs",
            exchange=name,
            difference=difference,
            wanted=kind.value,
            action="using the existing exchange as it is",
        )
        try:
            channel = await self._open_channel()
            await channel.declare_exchange(name, passive=True)
        except CONNECTION_EXCEPTIONS as exc:
            raise bus_unavailable(f"cannot use the existing exchange {name!r}", exc) from exc

    async def bind(self, queue: str, exchange: str, key: str) -> None:
        try:
            channel = await self._open_channel()
            bound = await channel.get_queue(queue, ensure=False)
            await bound.bind(exchange, routing_key=key)
        except CONNECTION_EXCEPTIONS as exc:
            raise bus_unavailable(f"cannot bind {queue!r} to {exchange!r} as {key!r}", exc) from exc


def _declared(name: str, queue: AbstractQueue, difference: str | None) -> DeclaredQueue:
    result = queue.declaration_result
    return DeclaredQueue(
        name=name,
        message_count=result.message_count or 0,
        consumer_count=result.consumer_count or 0,
        difference=difference,
    )
