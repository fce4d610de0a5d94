"""The dead-letter queue, for operators: what is in it, and sending signals back.

A signal lands in `<queue>.dlq` when ordergate refuses it (`x-ordergate-reason`,
`x-ordergate-detail`) or when the broker gives up on it at its delivery limit (`x-death`,
`x-first-death-reason`). Once the cause is fixed (a producer's schema corrected, a venue
back up), `replay_dead_letters` sends them back to the signal queue. That is safe to do
with any of them: a signal already journaled is answered from the journal and places
nothing, and one that is still bad is dead-lettered again with its reason.

Both read the queue with `basic.get` and hold what they take, unacknowledged, until the
pass ends: the broker does not hand a held message out again, so a pass sees each message
once. What a pass leaves goes back to the queue when the pass's channel closes. A replayed
message is acknowledged only once the broker has confirmed its copy in the signal queue,
so a replay that fails half-way loses nothing; it may send a signal twice, which the
journal absorbs.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Final

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from aio_pika.exceptions import CONNECTION_EXCEPTIONS, ChannelNotFoundEntity

from ordergate.bus.connection import bus_unavailable
from ordergate.bus.signals_in import (
    DELIVERY_COUNT_HEADER,
    DETAIL_HEADER,
    EXCHANGE_HEADER,
    QUEUE_HEADER,
    REASON_HEADER,
    ROUTING_KEY_HEADER,
    SIGNAL_TOO_LARGE,
    delivery_of,
    login_of,
    republished,
)
from ordergate.bus.topology import SignalTopology
from ordergate.domain.errors import NotFound

# What a dead letter carries about its death, and a replayed signal must not: it would
# read as dead already to whoever looks at it next.
_DEATH_HEADERS: Final = frozenset(
    {
        REASON_HEADER,
        DETAIL_HEADER,
        QUEUE_HEADER,
        EXCHANGE_HEADER,
        ROUTING_KEY_HEADER,
        DELIVERY_COUNT_HEADER,
        "x-death",
        "x-first-death-reason",
        "x-first-death-queue",
        "x-first-death-exchange",
        "x-last-death-reason",
        "x-last-death-queue",
        "x-last-death-exchange",
    }
)
UNKNOWN_REASON: Final = "UNKNOWN"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One message of the dead-letter queue, as an operator needs to see it."""

    signal_id: str | None
    reason: str
    detail: str | None
    queue: str | None  # where it was consumed from when it died
    body: bytes


@dataclass(frozen=True, slots=True)
class ReplayReport:
    replayed: int  # sent back to the signal queue, confirmed, and taken off the DLQ
    kept: int  # read but not chosen (another reason, or past the limit): still in the DLQ


def reason_of(headers: Mapping[str, Any]) -> str:
    """Why the message died: ordergate's reason code, else the broker's, upper-cased."""
    for key in (REASON_HEADER, "x-first-death-reason"):
        value = headers.get(key)
        if isinstance(value, bytes):
            value = value.decode(errors="replace")
        if isinstance(value, str) and value:
            return value.upper()
    return UNKNOWN_REASON


async def dead_letters(
    connection: AbstractRobustConnection, topology: SignalTopology, *, limit: int
) -> tuple[int, list[DeadLetter]]:
    """How many messages the dead-letter queue holds, and the first `limit` of them.

    Nothing is taken off the queue: every message read goes back when the pass ends.
    """
    async with _pass_channel(connection) as channel:  # closing it returns what was read
        queue = await _dead_letter_queue(channel, topology)
        total = queue.declaration_result.message_count or 0
        shown: list[DeadLetter] = []
        try:
            while len(shown) < min(limit, total):
                message = await queue.get(fail=False)
                if message is None:
                    break
                shown.append(_dead_letter(message))
        except CONNECTION_EXCEPTIONS as exc:
            raise bus_unavailable(f"reading {topology.dead_letter_queue!r}", exc) from exc
        return total, shown


async def replay_dead_letters(
    connection: AbstractRobustConnection,
    topology: SignalTopology,
    *,
    reason: str | None = None,
    limit: int | None = None,
) -> ReplayReport:
    """Send dead letters back to the signal queue: those of `reason` (any: None), at most
    `limit` (all: None), in queue order. Each is taken off the dead-letter queue once the
    broker has confirmed its copy; the rest stay there."""
    wanted = None if reason is None else reason.upper()
    login = login_of(connection)
    replayed = kept = 0
    async with _pass_channel(connection) as channel:  # closing it returns what is kept
        queue = await _dead_letter_queue(channel, topology)
        waiting = queue.declaration_result.message_count or 0
        try:
            for _ in range(waiting):
                message = await queue.get(fail=False)
                if message is None:
                    break
                chosen = (wanted is None or reason_of(message.headers or {}) == wanted) and (
                    limit is None or replayed < limit
                )
                if not chosen:
                    kept += 1
                    continue
                await channel.default_exchange.publish(
                    _replay_copy(message, topology.dead_letter_queue, login),
                    routing_key=topology.signal_queue,
                    mandatory=True,
                )
                await message.ack()
                replayed += 1
        except CONNECTION_EXCEPTIONS as exc:
            raise bus_unavailable(f"replaying {topology.dead_letter_queue!r}", exc) from exc
    return ReplayReport(replayed, kept)


def _replay_copy(
    message: AbstractIncomingMessage, queue: str, login: str | None
) -> aio_pika.Message:
    delivery = delivery_of(message, queue)
    alive = {k: v for k, v in delivery.headers.items() if k not in _DEATH_HEADERS}
    return republished(
        message.body,
        replace(delivery, headers=MappingProxyType(alive)),
        persistent=True,
        keep_expiration=False,
        login=login,
    )


def _dead_letter(message: AbstractIncomingMessage) -> DeadLetter:
    headers = message.headers or {}
    detail = headers.get(DETAIL_HEADER)
    queue = headers.get(QUEUE_HEADER) or headers.get("x-first-death-queue")
    reason = reason_of(headers)
    # A body refused for its size is not parsed here either: only its message id names it.
    too_large = reason == SIGNAL_TOO_LARGE
    return DeadLetter(
        signal_id=message.message_id if too_large else _signal_id(message),
        reason=reason,
        detail=detail if isinstance(detail, str) else None,
        queue=queue if isinstance(queue, str) else None,
        body=message.body,
    )


def _signal_id(message: AbstractIncomingMessage) -> str | None:
    """The body's `signal_id` when it is a JSON object with a string one; else the
    message id (a malformed body has no signal id of its own)."""
    try:
        body = json.loads(message.body)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("signal_id"), str):
        return str(body["signal_id"])
    return message.message_id


@asynccontextmanager
async def _pass_channel(connection: AbstractRobustConnection) -> AsyncIterator[AbstractChannel]:
    """A channel with publisher confirms for one pass; closing it returns to the queue
    whatever the pass still holds."""
    try:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    except CONNECTION_EXCEPTIONS as exc:
        raise bus_unavailable("cannot open a channel", exc) from exc
    try:
        yield channel
    finally:
        if not channel.is_closed:
            with contextlib.suppress(*CONNECTION_EXCEPTIONS):
                await channel.close()


async def _dead_letter_queue(channel: AbstractChannel, topology: SignalTopology) -> AbstractQueue:
    try:
        return await channel.declare_queue(topology.dead_letter_queue, passive=True)
    except ChannelNotFoundEntity as exc:
        raise NotFound(
            f"queue {topology.dead_letter_queue!r} does not exist: no signal was ever "
            "dead-lettered there (or the signal queue is named otherwise)"
        ) from exc
