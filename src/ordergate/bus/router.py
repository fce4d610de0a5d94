"""Route each signal to its account's partition queue, for scale-out.

The router consumes the model service's signal queue (single active consumer: one router
works at a time across all nodes, the others stand by), reads only the `account` of the
JSON body, and republishes the message unchanged to the partition exchange with routing
key `pNN`, where NN is `partition_of(account, partitions)`: the hash REST and every node
share. The original is acknowledged only after the broker confirmed the copy, so a router
that dies mid-stream loses nothing; the next one routes the unacknowledged messages again
(at-least-once: duplicates are possible, and the engine drops them by signal id).

Publishes leave in delivery order on one channel, so each account's signals reach their
partition queue in the order the producer sent them.

The copy is `mandatory`, with aio-pika's `on_return_raises`: a message no queue is bound
for is returned by the broker and raises, instead of being confirmed and dropped. It is
then dead-lettered as `SIGNAL_UNROUTABLE`. A body the router cannot route (not a JSON
object, or an `account` that is neither a string nor null) is dead-lettered as
`SIGNAL_MALFORMED`; an absent or null account is the deployment's default account, as the
signal decoder has it. A body over `max_body_bytes` is dead-lettered as `SIGNAL_TOO_LARGE`
by the consumer underneath, before the router reads anything of it.
A publish can hang until a reconnect (aio-pika #636), so it has a timeout; a timed-out or
failed publish is requeued after a pause, never dead-lettered.
"""

from __future__ import annotations

import asyncio
from typing import Final

import msgspec
import structlog
from aio_pika.abc import AbstractExchange, AbstractRobustChannel, AbstractRobustConnection
from aio_pika.exceptions import CONNECTION_EXCEPTIONS, ChannelNotFoundEntity, PublishError

from ordergate.bus.connection import bus_unavailable
from ordergate.bus.signals_in import (
    DEFAULT_MAX_BODY_BYTES,
    SignalConsumer,
    SignalDelivery,
    login_of,
    republished,
)
from ordergate.bus.topology import SignalTopology, partition_routing_key
from ordergate.domain.errors import (
    BusError,
    BusUnavailable,
    Conflict,
    InvalidRequest,
    NotFound,
    OrderGateError,
)
from ordergate.engine.ids import partition_of

DEFAULT_ACCOUNT: Final = "default"
SIGNAL_MALFORMED: Final = "SIGNAL_MALFORMED"
SIGNAL_UNROUTABLE: Final = "SIGNAL_UNROUTABLE"

log = structlog.get_logger("ordergate.bus")


class _RoutingFields(msgspec.Struct):
    """The only fields the router reads; every other field is skipped, not decoded."""

    account: str | None = None  # null means absent, as in the signal decoder
    trace_id: object = None


def account_of(body: bytes, default_account: str) -> tuple[str, str | None]:
    """Read the account (the default when absent or null) and the trace id of a signal body.

    Raise `InvalidRequest` with code `SIGNAL_MALFORMED` when the body is not a JSON object
    or its `account` is not a string: such a message cannot be routed.
    """
    try:
        fields = msgspec.json.decode(body, type=_RoutingFields)
    except (msgspec.MsgspecError, RecursionError) as exc:
        raise InvalidRequest(f"cannot route the signal: {exc}", code=SIGNAL_MALFORMED) from exc
    account = default_account if fields.account is None else fields.account
    trace_id = fields.trace_id if isinstance(fields.trace_id, str) else None
    return account, trace_id


class SignalRouter:
    """Consume the signal queue and republish each signal to its partition queue."""

    def __init__(
        self,
        connection: AbstractRobustConnection,
        topology: SignalTopology,
        *,
        default_account: str = DEFAULT_ACCOUNT,
        prefetch: int = 100,
        publish_timeout: float = 5.0,
        stop_timeout: float = 10.0,
        requeue_delay: float = 1.0,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self._connection = connection
        self._topology = topology
        self._default_account = default_account
        self._publish_timeout = publish_timeout
        self._login = login_of(connection)
        self._channel: AbstractRobustChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._consumer = SignalConsumer(
            connection,
            topology.signal_queue,
            self._route,
            dead_letter_queue=topology.dead_letter_queue,
            prefetch=prefetch,
            stop_timeout=stop_timeout,
            publish_timeout=publish_timeout,
            requeue_delay=requeue_delay,
            max_body_bytes=max_body_bytes,
        )

    @property
    def active(self) -> bool:
        """Subscribed and not stopping (the broker picks the one router that receives)."""
        return self._consumer.active

    async def start(self) -> None:
        """Open the publishing channel on the partition exchange, then subscribe.

        Raise `NotFound` when the exchange or the signal queue does not exist.
        """
        if self._consumer.active:
            raise Conflict("the signal router is already running")
        await self._open_exchange()
        try:
            await self._consumer.start()
        except OrderGateError:
            await self._close_channel()
            raise
        log.info(
            "signal.router_started",
            queue=self._topology.signal_queue,
            exchange=self._topology.partition_exchange,
            partitions=self._topology.partitions,
        )

    async def stop(self) -> None:
        """Stop routing: wait for the publishes in flight, then close the channels."""
        await self._consumer.stop()
        await self._close_channel()

    async def _open_exchange(self) -> None:
        name = self._topology.partition_exchange
        try:
            self._channel = await self._connection.channel(
                publisher_confirms=True, on_return_raises=True
            )
            self._exchange = await self._channel.get_exchange(name, ensure=True)
        except ChannelNotFoundEntity as exc:
            await self._close_channel()
            raise NotFound(
                f"exchange {name!r} does not exist: declare the partitions first"
            ) from exc
        except CONNECTION_EXCEPTIONS as exc:
            await self._close_channel()
            raise bus_unavailable(f"cannot open exchange {name!r}", exc) from exc

    async def _close_channel(self) -> None:
        channel, self._channel, self._exchange = self._channel, None, None
        if channel is not None and not channel.is_closed:
            try:
                await channel.close()
            except CONNECTION_EXCEPTIONS as exc:
                log.debug("signal.router_channel_close_failed", error=repr(exc))

    async def _route(self, body: bytes, delivery: SignalDelivery) -> None:
        """Publish one signal to its partition; return once the broker confirmed it."""
        account, trace_id = account_of(body, self._default_account)
        key = partition_routing_key(partition_of(account, self._topology.partitions))
        exchange = self._exchange
        if exchange is None:
            raise BusUnavailable("the router is not started")
        copy = republished(body, delivery, persistent=True, login=self._login)
        try:
            async with asyncio.timeout(self._publish_timeout):
                await exchange.publish(copy, routing_key=key, mandatory=True)
        except PublishError as exc:
            raise BusError(
                f"no queue is bound to {key!r} on exchange {exchange.name!r}",
                code=SIGNAL_UNROUTABLE,
            ) from exc
        except (TimeoutError, *CONNECTION_EXCEPTIONS) as exc:
            raise bus_unavailable(f"cannot route to {key!r}", exc) from exc
        log.debug(
            "signal.routed",
            message_id=delivery.message_id,
            trace_id=trace_id,
            routing_key=key,
            redelivered=delivery.redelivered,
        )
