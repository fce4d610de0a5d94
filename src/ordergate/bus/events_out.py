"""The outbox relay: every journaled event out to a RabbitMQ topic exchange, after commit.

The journal is the outbox. The relay reads records past its cursor, publishes them with
publisher confirms, and moves the cursor over what the broker confirmed, never further.
A crash, a nack or a lost connection therefore re-sends from the cursor: a consumer may
see a message twice (it de-duplicates by message id) but never misses one. Reading from
the journal rather than from the engine's memory is what makes a restart resume exactly
where the broker's confirmations stopped (notes/scale-out.md section 3).

One relay per partition, run by whoever owns the partition. Per window of up to `window`
records it:

1. folds the records into its own `OmsState` (so each message carries the order and
   position after its event) and builds their messages (`bus.envelope`);
2. publishes them all, persistent, on one channel in confirm mode;
3. awaits every confirmation, then advances the cursor over the confirmed prefix;
4. on a failure, keeps the unconfirmed rest and publishes it again after a backoff.

Messages go out with `mandatory=False`: on a topic exchange nobody bound means nobody is
interested in that key (say, PositionChanged of an account no service watches), and the
broker confirms such a message at once; `mandatory=True` would turn every such message
into a return. A consumer that must not miss anything binds a durable queue before it
needs the events; the journal keeps the full history for anyone who comes later.

Wake-ups: `notify()` after each commit (the engine's `subscribe` hook), and a poll every
`poll_interval` seconds for commits made elsewhere (another process, a missed call).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any, Final, Protocol

import aio_pika
import structlog
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange
from aio_pika.exceptions import CONNECTION_EXCEPTIONS, DeliveryError

from ordergate.bus.envelope import Envelope, EnvelopeFold
from ordergate.domain.errors import (
    EventPublishFailed,
    JournalCorrupted,
    JournalError,
)
from ordergate.engine.ports import RecordSource
from ordergate.engine.records import JournalRecord

DEFAULT_EXCHANGE: Final = "order-manager.order_events"
APP_ID: Final = "ordergate"
# What aio-pika and aiormq raise when the broker or the link misbehaves (their own list),
# plus our timeouts: translated once, here, into EventPublishFailed.
_BROKER_ERRORS: Final = (*CONNECTION_EXCEPTIONS, TimeoutError)

log = structlog.get_logger("ordergate.bus.events_out")


class OutboxCursor(Protocol):
    """Where the relay keeps how far the broker has confirmed, per partition."""

    async def outbox_cursor(self) -> int:
        """The last seq whose messages the broker confirmed (0: none)."""
        ...

    async def advance_outbox_cursor(self, seq: int, updated_ts: int) -> None:
        """Move the cursor to `seq`; a lower seq than the stored one changes nothing."""
        ...


class EventRelay:
    """Publish one partition's journal to a topic exchange, resuming from a stored cursor.

    `connection_or_url`: an AMQP URL (the relay opens a robust connection and closes it on
    `stop()`), or a connection the caller owns and closes. A robust connection is what
    lets the relay carry on after the broker comes back.
    """

    def __init__(
        self,
        partition: int,
        source: RecordSource,
        cursor: OutboxCursor,
        connection_or_url: str | AbstractConnection,
        exchange_name: str = DEFAULT_EXCHANGE,
        *,
        window: int = 500,
        poll_interval: float = 1.0,
        publish_timeout: float = 10.0,
        stop_timeout: float = 10.0,
        retry_delay: float = 0.1,
        max_retry_delay: float = 5.0,
        now_ns: Callable[[], int] = time.time_ns,
        connection_name: str | None = None,
    ) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        if min(poll_interval, publish_timeout, stop_timeout, retry_delay) <= 0:
            raise ValueError("intervals and timeouts must be positive")
        self._partition = partition
        self._source = source
        self._cursor = cursor
        self._url = connection_or_url if isinstance(connection_or_url, str) else None
        self._connection = None if isinstance(connection_or_url, str) else connection_or_url
        self._exchange_name = exchange_name
        self._window = window
        self._poll_interval = poll_interval
        self._publish_timeout = publish_timeout
        self._stop_timeout = stop_timeout
        self._retry_delay = retry_delay
        self._max_retry_delay = max(max_retry_delay, retry_delay)
        self._now_ns = now_ns
        self._connection_name = connection_name or f"ordergate-events-out-p{partition}"
        self._fold = EnvelopeFold(partition)
        self._pending: list[Envelope] = []  # built, not yet confirmed, in seq order
        self._confirmed_seq = 0
        self._cursor_seq = 0
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stop_requested = asyncio.Event()
        self._stopping = False
        self._failure: BaseException | None = None
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._log = log.bind(partition=partition, exchange=exchange_name)

    # --- public -------------------------------------------------------------------------

    @property
    def published_seq(self) -> int:
        """The last seq the broker confirmed, with every message of it and before it."""
        return self._confirmed_seq

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def failure(self) -> BaseException | None:
        """What stopped the relay for good (a corrupt journal, a bug); None otherwise."""
        return self._failure

    async def start(self) -> None:
        """Fold the journal up to the cursor, connect, declare the exchange, and run.

        Raises `EventPublishFailed` if the broker cannot be reached or the exchange cannot
        be declared now (later outages are retried in the background), and
        `JournalCorrupted` if the journal does not fold or ends before the cursor.
        """
        if self._task is not None:
            raise RuntimeError("the relay was started already")
        cursor = await self._cursor.outbox_cursor()
        await self._catch_up(cursor)
        self._confirmed_seq = self._cursor_seq = cursor
        if self._connection is None:
            self._connection = await self._connect()
        try:
            await self._ensure_exchange()
        except BaseException:
            await self._close_connection()
            raise
        self._stopping = False
        self._stop_requested.clear()
        self._task = asyncio.create_task(self._run(), name=f"events-out-p{self._partition}")
        self._task.add_done_callback(self._on_done)
        self._log.info("events relay started", cursor=cursor)

    async def wait_for_published(self, seq: int) -> None:
        """Return once every message up to `seq` is confirmed (for a drain before a
        shutdown, or a test). Raises what stopped the relay if it stops first; bound the
        wait with `asyncio.timeout` if the broker may stay away."""
        if self._confirmed_seq >= seq:
            return
        if not self.running:
            raise self._failure or EventPublishFailed("the events relay is not running")
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((seq, waiter))
        await waiter

    def notify(self) -> None:
        """Say that new records may have been committed: the relay reads without waiting
        for the next poll. Cheap; call it from the event loop after every commit."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop after the window in flight, or give up on it after `stop_timeout`.

        Giving up leaves the cursor where the last confirmed window put it, so the
        unconfirmed messages go out again on the next start. Closes the connection if the
        relay opened it.
        """
        task = self._task
        if task is None:
            return
        self._stopping = True
        self._stop_requested.set()
        self._wake.set()
        if not task.done():
            done, _ = await asyncio.wait({task}, timeout=self._stop_timeout)
            if not done:
                self._log.warning(
                    "events relay gave up on the window in flight",
                    published_seq=self._confirmed_seq,
                    unconfirmed=len(self._pending),
                )
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await self._drop_channel()
        await self._close_connection()
        self._task = None
        self._log.info("events relay stopped", published_seq=self._confirmed_seq)

    # --- the loop -----------------------------------------------------------------------

    async def _run(self) -> None:
        delay = self._retry_delay
        while not self._stopping:
            try:
                busy = await self._step()
            except (EventPublishFailed, JournalError) as exc:
                if isinstance(exc, JournalCorrupted):
                    raise
                self._log.warning(
                    "events relay will retry",
                    error=str(exc),
                    code=exc.code,
                    retry_in=delay,
                    published_seq=self._confirmed_seq,
                    unconfirmed=len(self._pending),
                )
                await self._pause(self._stop_requested, delay)
                delay = min(delay * 2, self._max_retry_delay)
                continue
            delay = self._retry_delay
            if not busy:
                await self._pause(self._wake, self._poll_interval)

    async def _step(self) -> bool:
        """Publish one window (or what a failure left of it); False if there was none."""
        await self._advance_cursor()  # one whose write failed last time
        if not self._pending:
            self._wake.clear()  # before reading: a commit after this point wakes us again
            await self._read_window()
            if not self._pending:
                return False
        await self._publish_pending()
        return True

    async def _read_window(self) -> None:
        # Envelopes go straight into `_pending`: a read that fails half-way keeps what it
        # folded, since the fold cannot go back.
        records = self._source.records_after(self._fold.seq)
        try:
            count = 0
            async for record in records:
                self._pending.extend(self._fold.envelopes(record))
                count += 1
                if count >= self._window:
                    break
        finally:
            await _close_iterator(records)

    async def _publish_pending(self) -> None:
        exchange = await self._ensure_exchange()
        pending = self._pending
        # Tasks take the channel's lock in creation order, so the broker gets them in seq
        # order, and their confirmations are awaited together.
        tasks = [
            asyncio.create_task(exchange.publish(_amqp_message(e), e.routing_key, mandatory=False))
            for e in pending
        ]
        try:
            await asyncio.wait(tasks, timeout=self._publish_timeout)
        finally:
            for task in tasks:
                task.cancel()  # a no-op on the finished ones
            await asyncio.gather(*tasks, return_exceptions=True)
        confirmed, failure = _confirmed_prefix(tasks, self._publish_timeout)
        self._pending = pending[confirmed:]
        if confirmed:
            last = pending[confirmed - 1].seq
            if self._pending and self._pending[0].seq == last:
                last -= 1  # a fill whose position message is not confirmed yet
            self._confirmed_seq = max(self._confirmed_seq, last)
            self._release_waiters()
            self._log.debug(
                "events confirmed",
                first_seq=pending[0].seq,
                last_seq=last,
                messages=confirmed,
            )
        await self._advance_cursor()
        if failure is None:
            return
        if not isinstance(failure, _BROKER_ERRORS):
            raise failure  # not the broker: a bug, which retrying would not fix
        if not isinstance(failure, DeliveryError):
            await self._drop_channel()  # a nack leaves the channel usable; the rest do not
        raise EventPublishFailed(
            f"{type(failure).__name__} publishing {pending[confirmed].message_id}: {failure}"
        ) from failure

    async def _advance_cursor(self) -> None:
        if self._confirmed_seq > self._cursor_seq:
            seq = self._confirmed_seq
            await self._cursor.advance_outbox_cursor(seq, self._now_ns())
            self._cursor_seq = seq

    async def _pause(self, event: asyncio.Event, timeout: float) -> None:
        try:
            async with asyncio.timeout(timeout):
                await event.wait()
        except TimeoutError:
            return

    def _release_waiters(self) -> None:
        waiting = []
        for seq, waiter in self._waiters:
            if waiter.done():
                continue  # its caller gave up
            if seq <= self._confirmed_seq:
                waiter.set_result(None)
            else:
                waiting.append((seq, waiter))
        self._waiters = waiting

    def _on_done(self, task: asyncio.Task[None]) -> None:
        exc = None if task.cancelled() else task.exception()
        if exc is not None:
            self._failure = exc
            self._log.error(
                "events relay stopped on an error",
                error=str(exc),
                published_seq=self._confirmed_seq,
                exc_info=exc,
            )
        waiters, self._waiters = self._waiters, []
        for seq, waiter in waiters:
            if not waiter.done():
                waiter.set_exception(
                    exc or EventPublishFailed(f"the events relay stopped before seq {seq}")
                )

    # --- journal ------------------------------------------------------------------------

    async def _catch_up(self, cursor: int) -> None:
        """Fold records 1..cursor: what was published before, so later messages are
        enriched from the same state the first run had."""
        if cursor <= self._fold.seq:
            return
        records = self._source.records_after(self._fold.seq)
        try:
            async for record in records:
                self._fold.fold(record)
                if self._fold.seq >= cursor:
                    break
        finally:
            await _close_iterator(records)
        if self._fold.seq < cursor:
            raise JournalCorrupted(
                f"the outbox cursor is at {cursor} but partition {self._partition}'s "
                f"journal ends at {self._fold.seq}"
            )

    # --- broker -------------------------------------------------------------------------

    async def _connect(self) -> AbstractConnection:
        if self._url is None:
            raise RuntimeError("the relay has neither a connection nor a URL")
        try:
            return await aio_pika.connect_robust(
                self._url,
                timeout=self._publish_timeout,
                client_properties={"connection_name": self._connection_name},
            )
        except _BROKER_ERRORS as exc:
            raise EventPublishFailed(f"cannot connect to RabbitMQ: {exc!r}") from exc

    async def _ensure_exchange(self) -> AbstractExchange:
        """The exchange on an open confirm-mode channel, opening and declaring if needed
        (declaring is idempotent: the same durable topic exchange every time)."""
        channel, exchange = self._channel, self._exchange
        if exchange is not None and channel is not None and not channel.is_closed:
            return exchange
        await self._drop_channel()
        connection = self._connection
        if connection is None:
            raise RuntimeError("the relay is not started")
        try:
            async with asyncio.timeout(self._publish_timeout):
                await connection.ready()  # a robust connection may be reconnecting
                self._channel = await connection.channel(publisher_confirms=True)
                self._exchange = await self._channel.declare_exchange(
                    self._exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
                )
        except _BROKER_ERRORS as exc:
            await self._drop_channel()
            raise EventPublishFailed(
                f"cannot open a channel or declare exchange {self._exchange_name!r}: {exc!r}"
            ) from exc
        return self._exchange

    async def _drop_channel(self) -> None:
        channel, self._channel, self._exchange = self._channel, None, None
        if channel is None or channel.is_closed:
            return
        try:
            await asyncio.wait_for(channel.close(), self._publish_timeout)
        except _BROKER_ERRORS as exc:
            self._log.debug("closing the channel failed", error=repr(exc))

    async def _close_connection(self) -> None:
        if self._url is None or self._connection is None:
            return  # the caller's connection: the caller closes it
        connection, self._connection = self._connection, None
        try:
            await asyncio.wait_for(connection.close(), self._publish_timeout)
        except _BROKER_ERRORS as exc:
            self._log.warning("closing the connection failed", error=repr(exc))


def _amqp_message(envelope: Envelope) -> aio_pika.Message:
    """The AMQP message of an envelope: every property derives from the journal, so a
    re-sent copy is identical to the first."""
    headers: dict[str, Any] = {
        "x-ordergate-partition": envelope.partition,
        "x-ordergate-seq": envelope.seq,
        "x-ordergate-type": envelope.type,
        "x-ordergate-part": envelope.part,
    }
    if envelope.trace_id is not None:
        headers["trace_id"] = envelope.trace_id
    return aio_pika.Message(
        envelope.body,
        headers=headers,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=envelope.message_id,
        correlation_id=envelope.trace_id,
        timestamp=datetime.fromtimestamp(envelope.ts // 1_000_000_000, UTC),
        type=envelope.type,
        app_id=APP_ID,
    )


def _confirmed_prefix(
    tasks: list[asyncio.Task[Any]], timeout: float
) -> tuple[int, BaseException | None]:
    """How many publishes from the first were confirmed, and what stopped the run."""
    for index, task in enumerate(tasks):
        if task.cancelled():
            return index, TimeoutError(f"no confirmation within {timeout} s")
        exc = task.exception()
        if exc is not None:
            return index, exc
    return len(tasks), None


async def _close_iterator(records: AsyncIterator[JournalRecord]) -> None:
    """Close a record iterator left early (an async generator holds a cursor open)."""
    aclose = getattr(records, "aclose", None)
    if aclose is not None:
        await aclose()
