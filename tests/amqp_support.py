"""Helpers for tests against a real RabbitMQ.

The broker is `ORDERGATE_TEST_AMQP_URL` (default amqp://guest:guest@127.0.0.1:5672/).
When it cannot be reached the test is skipped with the reason, unless `CI=true`: then
it fails, as a missing service in CI is a broken build, not a pass.

Every test shares the broker with other tests and other people's test runs: name what you
declare with `BrokerSession.unique` (a random suffix) and let the session delete it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Final

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from aio_pika.exceptions import CONNECTION_EXCEPTIONS
from yarl import URL

from tests.tcp_proxy import TcpProxy
from tests.waiting import TIMEOUT, eventually

AMQP_URL_ENV: Final = "ORDERGATE_TEST_AMQP_URL"
DEFAULT_AMQP_URL: Final = "amqp://guest:guest@127.0.0.1:5672/"


def amqp_url() -> str:
    return os.environ.get(AMQP_URL_ENV) or DEFAULT_AMQP_URL


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def amqp_unreachable_reason(url: str | None = None) -> str | None:
    """Why the broker cannot be reached (a TCP connect within 2 s), or None if it can."""
    parsed = URL(url or amqp_url())
    host, port = parsed.host or "127.0.0.1", parsed.port or 5672
    try:
        with socket.create_connection((host, port), timeout=2.0):
            return None
    except OSError as exc:
        return f"RabbitMQ is not reachable at {host}:{port} ({exc}); set {AMQP_URL_ENV}"


def require_amqp() -> str:
    """Return the broker URL; skip the test if it is unreachable, or fail when CI=true."""
    url = amqp_url()
    reason = amqp_unreachable_reason(url)
    if reason is not None:
        if in_ci():
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    return url


def unique_name(prefix: str) -> str:
    """A queue or exchange name no other test run will use: `<prefix>.<random>`."""
    return f"{prefix}.{uuid.uuid4().hex[:12]}"


async def queue_depth(connection: AbstractRobustConnection, queue: str) -> int:
    """Messages ready in a queue (delivered but unacknowledged ones are not counted)."""
    async with aio_pika.Channel(connection, publisher_confirms=False) as channel:
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count or 0


async def wait_for_depth(
    connection: AbstractRobustConnection, queue: str, expected: int, *, timeout: float = TIMEOUT
) -> None:
    """Wait until exactly `expected` messages are ready in the queue."""

    async def reached() -> bool:
        return await queue_depth(connection, queue) == expected

    await eventually(reached, timeout=timeout, message=f"{expected} messages ready in {queue}")


async def consumer_count(connection: AbstractRobustConnection, queue: str) -> int:
    async with aio_pika.Channel(connection, publisher_confirms=False) as channel:
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.consumer_count or 0


async def take(
    connection: AbstractRobustConnection, queue: str, count: int, *, timeout: float = TIMEOUT
) -> list[AbstractIncomingMessage]:
    """Consume and acknowledge `count` messages from a queue, failing on timeout.

    A consumer, not basic.get: quorum queues with a single active consumer refuse basic.get.
    """
    taken: list[AbstractIncomingMessage] = []
    enough = asyncio.Event()

    async def keep(message: AbstractIncomingMessage) -> None:
        if len(taken) >= count:
            return  # over the count: left unacknowledged, returned when the channel closes
        await message.ack()
        taken.append(message)
        if len(taken) >= count:
            enough.set()

    channel = await connection.channel(publisher_confirms=False)
    try:
        await channel.set_qos(prefetch_count=count)
        source = await channel.declare_queue(queue, passive=True)
        await source.consume(keep)
        try:
            async with asyncio.timeout(timeout):
                await enough.wait()
        except TimeoutError:
            pytest.fail(f"{queue}: got {len(taken)} of {count} messages in {timeout} s")
    finally:
        await channel.close()
    return taken


async def publish(
    connection: AbstractRobustConnection,
    queue: str,
    bodies: list[bytes],
    **properties: object,
) -> None:
    """Publish persistent messages to a queue, in order, and wait for every confirm.

    The publishes are pipelined: each is written in turn on one channel (which keeps
    their order), and the confirms are awaited together.
    """
    channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    try:
        await asyncio.gather(
            *(
                channel.default_exchange.publish(
                    aio_pika.Message(
                        body,
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        message_id=f"m{number}",
                        **properties,  # type: ignore[arg-type]
                    ),
                    routing_key=queue,
                )
                for number, body in enumerate(bodies)
            )
        )
    finally:
        await channel.close()


class BrokerSession:
    """One test's view of the broker: an admin connection, unique names, cleanup."""

    def __init__(self, url: str, connection: AbstractRobustConnection) -> None:
        self.url = url
        self.connection = connection
        self._queues: list[str] = []
        self._exchanges: list[str] = []
        self._connections: list[AbstractRobustConnection] = []

    def unique(self, prefix: str) -> str:
        return unique_name(prefix)

    def track(self, *, queues: tuple[str, ...] = (), exchanges: tuple[str, ...] = ()) -> None:
        """Delete these queues and exchanges when the test ends."""
        self._queues.extend(queues)
        self._exchanges.extend(exchanges)

    def adopt(self, connection: AbstractRobustConnection) -> AbstractRobustConnection:
        """Close this connection when the test ends (if the test did not)."""
        self._connections.append(connection)
        return connection

    async def close(self) -> None:
        for connection in reversed(self._connections):
            if not connection.is_closed:
                with contextlib.suppress(*CONNECTION_EXCEPTIONS):
                    await connection.close()
        for name in self._queues:
            async with aio_pika.Channel(self.connection, publisher_confirms=False) as channel:
                await channel.queue_delete(name)
        for name in self._exchanges:
            async with aio_pika.Channel(self.connection, publisher_confirms=False) as channel:
                await channel.exchange_delete(name)
        await self.connection.close()


@contextlib.asynccontextmanager
async def broker_session() -> AsyncIterator[BrokerSession]:
    """Open a session on the test broker (skipping or failing per `require_amqp`)."""
    url = require_amqp()
    connection = await aio_pika.connect_robust(
        url, client_properties={"connection_name": "ordergate-tests-admin"}
    )
    session = BrokerSession(url, connection)
    try:
        yield session
    finally:
        await session.close()


class AmqpProxy(TcpProxy):
    """A `TcpProxy` in front of the broker at `url`, and the URL that goes through it.

    `cut()` aborts both sides of each connection, as a dropped link would: the broker
    returns the client's unacknowledged messages, and a robust client reconnects (through
    the proxy, which keeps listening).
    """

    def __init__(self, url: str, *, reply_delay: float = 0.0) -> None:
        self._target = URL(url)
        super().__init__(
            self._target.host or "127.0.0.1", self._target.port or 5672, reply_delay=reply_delay
        )

    @property
    def url(self) -> str:
        return str(self._target.with_host("127.0.0.1").with_port(self.port))
