"""RabbitMQ beside an engine: signals in, journaled events out (`--amqp-url`).

For one partition's engine, `open_messaging` starts:
- the event relay: every journaled event to the `events_exchange` topic exchange, from the
  journal after commit, woken by each commit (`EventRelay`);
- the signal consumer on `queue`: each message is decoded (`decode_signal`) and handed to
  the engine, and acknowledged once the engine has journaled its outcome; a message that
  is not a signal, or that reuses a signal id for other content, is dead-lettered with
  its reason; a consumer whose engine can no longer journal stops and leaves the message
  for whoever consumes next.

The trace id of a signal is bound to the log context while it is handled, so it follows
the order into the venue call's logs; it travels in the order and its events itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import structlog
from aio_pika.abc import AbstractRobustConnection

from ordergate.bus.events_out import EventRelay, OutboxCursor
from ordergate.bus.signals_in import (
    SignalConsumer,
    SignalDelivery,
    SignalHandler,
    SignalObserver,
)
from ordergate.domain.errors import OrderGateError
from ordergate.domain.signal_model import decode_signal
from ordergate.engine.commands import ProcessSignal
from ordergate.engine.engine import Engine
from ordergate.engine.ports import RecordSource

log = structlog.get_logger("ordergate.messaging")


class OutboxJournal(RecordSource, OutboxCursor, Protocol):
    """What the relay reads and where it keeps its cursor: the partition's store."""


@dataclass
class Messaging:
    """The relay and the consumer of one engine, on a connection its caller owns."""

    relay: EventRelay
    consumer: SignalConsumer | None
    unsubscribe: Callable[[], None]

    async def aclose(self) -> None:
        """Stop consuming first (nothing new comes in), then let the relay finish."""
        if self.consumer is not None:
            await self.consumer.stop()
        self.unsubscribe()
        await self.relay.stop()


def _nothing() -> None:
    return None


def signal_handler(engine: Engine, default_account: str) -> SignalHandler:
    """Decode, act, return once journaled: what the consumer acknowledges after."""

    async def handle(body: bytes, delivery: SignalDelivery) -> None:
        signal = decode_signal(body, default_account)  # InvalidSignal: dead-lettered
        with structlog.contextvars.bound_contextvars(
            trace_id=signal.trace_id, signal_id=signal.signal_id
        ):
            result = await engine.process_signal(ProcessSignal(signal))
            log.info(
                "signal taken",
                duplicate=result.duplicate,
                redelivered=delivery.redelivered,
                orders=[o.order_id for o in result.orders],
                reason_code=result.received.reason_code,
            )

    return handle


async def open_messaging(
    *,
    connection: AbstractRobustConnection,
    partition: int,
    engine: Engine,
    journal: OutboxJournal,
    events_exchange: str,
    queue: str | None,
    dead_letter_queue: str,
    default_account: str,
    prefetch: int,
    events_window: int,
    max_body_bytes: int,
    on_consumer_stopped: Callable[[OrderGateError], None] | None = None,
    signal_observer: SignalObserver | None = None,
) -> Messaging:
    """Start the relay, then (if `queue`) the consumer; on failure stop what was started."""
    relay = EventRelay(
        partition, journal, journal, connection, events_exchange, window=events_window
    )
    consumer: SignalConsumer | None = None
    unsubscribe: Callable[[], None] = _nothing
    try:
        await relay.start()
        unsubscribe = engine.subscribe(lambda _event: relay.notify())
        if queue is not None:
            consumer = SignalConsumer(
                connection,
                queue,
                signal_handler(engine, default_account),
                dead_letter_queue=dead_letter_queue,
                prefetch=prefetch,
                on_stopped=on_consumer_stopped,
                max_body_bytes=max_body_bytes,
                observer=signal_observer,
            )
            await consumer.start()
    except BaseException:
        unsubscribe()
        await relay.stop()
        raise
    return Messaging(relay, consumer, unsubscribe)
