"""Consume signals from one queue; acknowledge each only once its outcome is journaled.

Every message is handed to the handler in a task of its own, up to `prefetch` at once, and
settled by what the handler does::

    body over `max_body_bytes`             dead-lettered as SIGNAL_TOO_LARGE, unread, then acked
    handler …                              the message is …
    returns                                acknowledged: the outcome is journaled
    raises InvalidRequest (any subclass)   dead-lettered with the error's code, then acked
    raises JournalError or EngineStopped   left unacknowledged; the consumer stops
    raises BusUnavailable                  requeued after a pause: the broker is in trouble
    raises another OrderGateError          dead-lettered with the error's code, then acked
    raises anything else (a bug)           dead-lettered as INTERNAL_ERROR, then acked

A poison message never stops the consumer: it is copied to the dead-letter queue with the
reason in `x-ordergate-reason` and `x-ordergate-detail`, under publisher confirms, and only
then acknowledged. Were it rejected or requeued instead, the queue's delivery limit would
dead-letter it without a reason, together with the good signals prefetched behind it.

A body over `max_body_bytes` is refused on its length alone: neither the handler nor the
trace-id lookup sees it, so no JSON parser ever works on it. It has already been read into
memory by then: aiormq assembles a message whole, and the broker's `max_message_size`
(128 MiB by default before RabbitMQ 4.0, 16 MiB since, 512 MiB at most) is the only bound
on that. The limit keeps a huge or hostile body from costing a decode, and from reaching
the engine.

A node that can no longer journal (fenced, or its engine stopped) must let the next owner
consume: it stops handing messages over, waits for the handlers in flight, then closes its
channel. Closing the channel cancels the consumer and returns every unacknowledged message
in delivery order, in one step; a basic.cancel followed by a wait would activate the
standby first, and the standby would see newer signals before the returned older ones.
Requeueing instead would keep this consumer active and burn the delivery limit.

An acknowledgement on a channel that died with its connection cannot be sent; that is
logged, and the broker redelivers the message after the robust connection reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final, Protocol

import aio_pika
import msgspec
import structlog
from aio_pika.abc import (
    AbstractIncomingMessage,
    AbstractRobustChannel,
    AbstractRobustConnection,
    DeliveryMode,
    HeadersType,
)
from aio_pika.exceptions import (
    CONNECTION_EXCEPTIONS,
    ChannelInvalidStateError,
    ChannelNotFoundEntity,
)

from ordergate.bus.connection import bus_unavailable
from ordergate.domain.errors import (
    BusUnavailable,
    Conflict,
    EngineStopped,
    InvalidRequest,
    JournalError,
    NotFound,
    OrderGateError,
)
from ordergate.domain.signal_model import SignalReason

REASON_HEADER: Final = "x-ordergate-reason"
DETAIL_HEADER: Final = "x-ordergate-detail"
QUEUE_HEADER: Final = "x-ordergate-queue"
EXCHANGE_HEADER: Final = "x-ordergate-exchange"
ROUTING_KEY_HEADER: Final = "x-ordergate-routing-key"
DELIVERY_COUNT_HEADER: Final = "x-ordergate-delivery-count"
INTERNAL_ERROR: Final = "INTERNAL_ERROR"
SIGNAL_TOO_LARGE: Final = SignalReason.SIGNAL_TOO_LARGE.value
DEFAULT_MAX_BODY_BYTES: Final = 64 * 1024  # a version 1 signal is a few hundred bytes
DETAIL_LIMIT: Final = 1000  # characters of the error message kept in a dead letter
BROKER_DELIVERY_COUNT: Final = "x-delivery-count"  # set by quorum queues on redelivery

log = structlog.get_logger("ordergate.bus")


@dataclass(frozen=True, slots=True)
class MessageProperties:
    """The AMQP properties of a delivery besides those `SignalDelivery` names."""

    content_type: str | None = None
    content_encoding: str | None = None
    delivery_mode: int | None = None
    priority: int | None = None
    reply_to: str | None = None
    expiration: float | None = None  # seconds
    timestamp: datetime | None = None
    type: str | None = None
    user_id: str | None = None
    app_id: str | None = None


@dataclass(frozen=True, slots=True)
class SignalDelivery:
    """What the broker said about one delivered message, beside its body.

    `delivery_count` is the broker's `x-delivery-count` (quorum queues set it from the
    first redelivery on), else None. `headers` is a read-only copy.
    """

    message_id: str | None
    correlation_id: str | None
    headers: Mapping[str, Any]
    redelivered: bool
    delivery_count: int | None
    routing_key: str
    exchange: str
    queue: str
    properties: MessageProperties = MessageProperties()


SignalHandler = Callable[[bytes, SignalDelivery], Awaitable[None]]
StopHandler = Callable[[OrderGateError], None]


class SignalObserver(Protocol):
    """Told how each message was settled, for the metrics: `acked` (its outcome is
    journaled), `dead_lettered` (with the reason code) or `requeued`; `redelivered`: the
    broker had delivered it before."""

    def signal_settled(self, outcome: str, reason_code: str | None, redelivered: bool) -> None: ...


def delivery_of(message: AbstractIncomingMessage, queue: str) -> SignalDelivery:
    """Describe a delivered message without exposing the broker's message object."""
    headers = dict(message.headers or {})
    count = headers.get(BROKER_DELIVERY_COUNT)
    return SignalDelivery(
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        headers=MappingProxyType(headers),
        redelivered=bool(message.redelivered),
        delivery_count=count if isinstance(count, int) and not isinstance(count, bool) else None,
        routing_key=message.routing_key or "",
        exchange=message.exchange or "",
        queue=queue,
        properties=MessageProperties(
            content_type=message.content_type,
            content_encoding=message.content_encoding,
            delivery_mode=int(message.delivery_mode) if message.delivery_mode else None,
            priority=message.priority,
            reply_to=message.reply_to,
            expiration=_seconds(message.expiration),
            timestamp=message.timestamp,
            type=message.type,
            user_id=message.user_id,
            app_id=message.app_id,
        ),
    )


def republished(
    body: bytes,
    delivery: SignalDelivery,
    *,
    extra_headers: Mapping[str, Any] | None = None,
    persistent: bool = False,
    keep_expiration: bool = True,
    login: str | None = None,
) -> aio_pika.Message:
    """Build a copy of a delivered message to publish again, with its properties.

    Two properties cannot travel unchanged. The broker's `x-delivery-count` belongs to the
    queue the message left, so it is dropped. `user_id` must equal the publishing
    connection's user or the broker closes the channel, so it is kept only when it does.
    """
    properties = delivery.properties
    headers: HeadersType = {
        key: value for key, value in delivery.headers.items() if key != BROKER_DELIVERY_COUNT
    }
    headers.update(extra_headers or {})
    mode = properties.delivery_mode
    return aio_pika.Message(
        body,
        headers=headers,
        content_type=properties.content_type,
        content_encoding=properties.content_encoding,
        delivery_mode=DeliveryMode.PERSISTENT if persistent else mode,
        priority=properties.priority,
        correlation_id=delivery.correlation_id,
        reply_to=properties.reply_to,
        expiration=properties.expiration if keep_expiration else None,
        message_id=delivery.message_id,
        timestamp=properties.timestamp,
        type=properties.type,
        user_id=properties.user_id if properties.user_id == login else None,
        app_id=properties.app_id,
    )


def login_of(connection: AbstractRobustConnection) -> str | None:
    """The user the connection logged in as (aio-pika keeps its URL on the connection)."""
    url = getattr(connection, "url", None)
    user = getattr(url, "user", None)
    return user if isinstance(user, str) else None


class _TraceField(msgspec.Struct):
    trace_id: str | None = None


def trace_id_of(body: bytes) -> str | None:
    """The body's `trace_id`, for logs, when it is a JSON object that has a string one."""
    try:
        return msgspec.json.decode(body, type=_TraceField).trace_id
    except (msgspec.MsgspecError, RecursionError):
        return None


class SignalConsumer:
    """Consume one queue, hand each message to `handler`, settle it by the outcome.

    `start()` subscribes; `stop()` stops handing messages over, waits up to `stop_timeout`
    seconds for the handlers in flight (then cancels them), and closes the channels, which
    returns every unacknowledged message to the queue. When the handler says the node can
    no longer journal, the consumer stops by itself and calls `on_stopped(error)`. A body
    longer than `max_body_bytes` never reaches the handler: it is dead-lettered as
    `SIGNAL_TOO_LARGE`.
    """

    def __init__(
        self,
        connection: AbstractRobustConnection,
        queue: str,
        handler: SignalHandler,
        *,
        dead_letter_queue: str,
        prefetch: int = 100,
        on_stopped: StopHandler | None = None,
        stop_timeout: float = 10.0,
        publish_timeout: float = 5.0,
        requeue_delay: float = 1.0,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        observer: SignalObserver | None = None,
    ) -> None:
        if prefetch < 1:
            raise InvalidRequest("prefetch must be at least 1", code="BUS_PREFETCH_INVALID")
        if max_body_bytes < 1:
            raise InvalidRequest("max_body_bytes must be at least 1", code="BUS_MAX_BODY_INVALID")
        self._connection = connection
        self._queue_name = queue
        self._handler = handler
        self._dead_letter_queue = dead_letter_queue
        self._prefetch = prefetch
        self._on_stopped = on_stopped
        self._stop_timeout = stop_timeout
        self._publish_timeout = publish_timeout
        self._requeue_delay = requeue_delay
        self._max_body_bytes = max_body_bytes
        self._observer = observer
        self._login = login_of(connection)
        self._consume_channel: AbstractRobustChannel | None = None
        self._publish_channel: AbstractRobustChannel | None = None
        self._in_flight: set[asyncio.Task[Any]] = set()
        self._running = False
        self._stopping = False
        self._shutdown: asyncio.Task[None] | None = None

    @property
    def queue(self) -> str:
        return self._queue_name

    @property
    def active(self) -> bool:
        """Subscribed and not stopping. On a single-active-consumer queue the broker still
        decides which of the subscribers receives."""
        return self._running and not self._stopping

    @property
    def in_flight(self) -> int:
        """How many messages the handler is working on now."""
        return len(self._in_flight)

    async def start(self) -> None:
        """Subscribe to the queue; raise `NotFound` if it does not exist."""
        if self._running:
            raise Conflict(f"the consumer of {self._queue_name!r} is already running")
        await self._require_queue()
        self._stopping = False
        self._shutdown = None
        try:
            self._publish_channel = await self._connection.channel(
                publisher_confirms=True, on_return_raises=True
            )
            self._consume_channel = await self._connection.channel(publisher_confirms=False)
            await self._consume_channel.set_qos(prefetch_count=self._prefetch)
            queue = await self._consume_channel.declare_queue(self._queue_name, passive=True)
            # Running before the first delivery can arrive: its handler may stop us.
            self._running = True
            await queue.consume(self._on_message)
        except CONNECTION_EXCEPTIONS as exc:
            self._running = False
            await self._close_channels()
            raise bus_unavailable(f"cannot consume {self._queue_name!r}", exc) from exc
        log.info("signal.consuming", queue=self._queue_name, prefetch=self._prefetch)

    async def stop(self) -> None:
        """Stop consuming; return once the channels are closed (see the class docstring).

        Called from inside the handler, it only begins the stop: a handler cannot wait for
        itself.
        """
        if not self._running and self._shutdown is None:
            return
        shutdown = self._begin_shutdown(None)
        if asyncio.current_task() in self._in_flight:
            return
        await asyncio.shield(shutdown)

    async def _require_queue(self) -> None:
        """Check the queue exists on a plain channel: a robust channel that the broker
        closed for a missing queue would reopen itself and linger."""
        try:
            async with aio_pika.Channel(self._connection, publisher_confirms=False) as channel:
                await channel.declare_queue(self._queue_name, passive=True)
        except ChannelNotFoundEntity as exc:
            raise NotFound(
                f"queue {self._queue_name!r} does not exist: declare the topology first"
            ) from exc
        except CONNECTION_EXCEPTIONS as exc:
            raise bus_unavailable(f"cannot reach queue {self._queue_name!r}", exc) from exc

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        """Start the message's handling in a task of our own, in delivery order.

        Not in aio-pika's task: that one is cancelled when the channel closes, and a dropped
        connection must not cancel a handler that is journaling; its ack then fails, is
        logged, and the broker redelivers.
        """
        if self._stopping:
            return  # not handed over: the broker returns it when the channel closes
        task = asyncio.get_running_loop().create_task(self._process(message))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _process(self, message: AbstractIncomingMessage) -> None:
        delivery = delivery_of(message, self._queue_name)
        context: dict[str, Any] = {"queue": self._queue_name, "message_id": delivery.message_id}
        size = len(message.body)
        if size > self._max_body_bytes:
            context["body_bytes"] = size
            detail = f"the body is {size} bytes, over the limit of {self._max_body_bytes}"
            await self._dead_letter(message, delivery, SIGNAL_TOO_LARGE, detail, context)
            return
        trace_id = trace_id_of(message.body)
        if trace_id is not None:
            context["trace_id"] = trace_id
        try:
            await self._handler(message.body, delivery)
        except InvalidRequest as exc:
            await self._dead_letter(message, delivery, exc.code, exc.message, context)
        except (JournalError, EngineStopped) as exc:
            log.warning(
                "signal.consumer_stopping",
                reason=exc.code,
                detail=exc.message,
                action="left unacknowledged for the next consumer",
                **context,
            )
            self._begin_shutdown(exc)
        except OrderGateError as exc:
            if isinstance(exc, BusUnavailable):
                await self._requeue(message, exc, context)
                self._observe("requeued", exc.code, delivery)
            else:
                log.error("signal.failed", reason=exc.code, detail=exc.message, **context)
                await self._dead_letter(message, delivery, exc.code, exc.message, context)
        except Exception as exc:
            log.exception("signal.handler_bug", **context)
            detail = f"{type(exc).__name__}: {exc}"
            await self._dead_letter(message, delivery, INTERNAL_ERROR, detail, context)
        else:
            await self._settle(message, requeue=None, context=context)
            self._observe("acked", None, delivery)

    def _observe(self, outcome: str, reason: str | None, delivery: SignalDelivery) -> None:
        if self._observer is not None:
            self._observer.signal_settled(outcome, reason, delivery.redelivered)

    async def _dead_letter(
        self,
        message: AbstractIncomingMessage,
        delivery: SignalDelivery,
        reason: str,
        detail: str,
        context: dict[str, Any],
    ) -> None:
        """Copy the message to the dead-letter queue under confirms, then acknowledge it."""
        if not _channel_open(message):
            log.warning("signal.channel_lost", action="the broker redelivers it", **context)
            return
        extra: dict[str, Any] = {
            REASON_HEADER: reason,
            DETAIL_HEADER: _truncated(detail),
            QUEUE_HEADER: self._queue_name,
            EXCHANGE_HEADER: delivery.exchange,
            ROUTING_KEY_HEADER: delivery.routing_key,
        }
        if delivery.delivery_count is not None:
            extra[DELIVERY_COUNT_HEADER] = delivery.delivery_count
        # Persistent and without a TTL: a dead letter must outlive a broker restart and wait
        # for an operator, however the original was sent.
        copy = republished(
            message.body,
            delivery,
            extra_headers=extra,
            persistent=True,
            keep_expiration=False,
            login=self._login,
        )
        try:
            channel = self._require_publish_channel()
            async with asyncio.timeout(self._publish_timeout):
                await channel.default_exchange.publish(
                    copy, routing_key=self._dead_letter_queue, mandatory=True
                )
        except (TimeoutError, *CONNECTION_EXCEPTIONS) as exc:
            error = bus_unavailable(f"cannot dead-letter to {self._dead_letter_queue!r}", exc)
            await self._requeue(message, error, context)
            self._observe("requeued", error.code, delivery)
            return
        log.warning(
            "signal.dead_lettered",
            reason=reason,
            detail=_truncated(detail),
            dead_letter_queue=self._dead_letter_queue,
            **context,
        )
        await self._settle(message, requeue=None, context=context)
        self._observe("dead_lettered", reason, delivery)

    async def _requeue(
        self, message: AbstractIncomingMessage, error: OrderGateError, context: dict[str, Any]
    ) -> None:
        """Give the message back after a pause: the broker, not the message, is at fault.

        The pause keeps a lasting fault from spinning; on a quorum queue every requeue
        counts toward the delivery limit, after which the broker dead-letters it itself.
        """
        log.error("signal.requeued", reason=error.code, detail=error.message, **context)
        if not self._stopping:
            await asyncio.sleep(self._requeue_delay)
        await self._settle(message, requeue=True, context=context)

    async def _settle(
        self, message: AbstractIncomingMessage, *, requeue: bool | None, context: dict[str, Any]
    ) -> None:
        """Ack (`requeue` None) or nack; a dead channel is logged, not raised."""
        try:
            if requeue is None:
                await message.ack()
            else:
                await message.nack(requeue=requeue)
        except CONNECTION_EXCEPTIONS as exc:
            log.warning(
                "signal.settle_failed",
                action="ack" if requeue is None else "nack",
                error=repr(exc),
                outcome="the broker redelivers it after the reconnect",
                **context,
            )

    def _require_publish_channel(self) -> AbstractRobustChannel:
        if self._publish_channel is None:
            raise ChannelInvalidStateError("the consumer has no publishing channel")
        return self._publish_channel

    def _begin_shutdown(self, cause: OrderGateError | None) -> asyncio.Task[None]:
        self._stopping = True
        if self._shutdown is None:
            self._shutdown = asyncio.get_running_loop().create_task(self._shut_down(cause))
        return self._shutdown

    async def _shut_down(self, cause: OrderGateError | None) -> None:
        pending = set(self._in_flight)
        if pending:
            _, pending = await asyncio.wait(pending, timeout=self._stop_timeout)
        if pending:
            log.warning(
                "signal.handlers_abandoned",
                queue=self._queue_name,
                count=len(pending),
                timeout=self._stop_timeout,
                outcome="cancelled; the broker redelivers their messages",
            )
            for task in pending:
                task.cancel()
            await asyncio.wait(pending)
        await self._close_channels()
        self._running = False
        log.info(
            "signal.consumer_stopped",
            queue=self._queue_name,
            reason=cause.code if cause is not None else "stop requested",
        )
        if cause is not None and self._on_stopped is not None:
            try:
                self._on_stopped(cause)
            except Exception:
                log.exception("signal.on_stopped_failed", queue=self._queue_name)

    async def _close_channels(self) -> None:
        # The consuming channel first: closing it returns the unacknowledged messages.
        for channel in (self._consume_channel, self._publish_channel):
            if channel is not None and not channel.is_closed:
                with contextlib.suppress(*CONNECTION_EXCEPTIONS):
                    await channel.close()
        self._consume_channel = None
        self._publish_channel = None


def _channel_open(message: AbstractIncomingMessage) -> bool:
    try:
        return not message.channel.is_closed
    except ChannelInvalidStateError:
        return False


def _seconds(expiration: object) -> float | None:
    if isinstance(expiration, int | float) and not isinstance(expiration, bool):
        return float(expiration)
    return None


def _truncated(detail: str) -> str:
    return detail if len(detail) <= DETAIL_LIMIT else detail[: DETAIL_LIMIT - 1] + "…"
