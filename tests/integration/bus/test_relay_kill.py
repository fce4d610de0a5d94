"""kill -9 of the relay while a window is in flight: nothing is lost, and the only
duplicates are the re-sends of what came after the persisted cursor.

The relay runs in a subprocess over a SQLite journal this test writes beforehand (this
file is also the subprocess's script), and reaches the broker through a proxy in this
test. Once the relay has stored a cursor, the proxy holds back everything the broker
says to it: no confirmation reaches it any more, so its cursor stays where it is while it
publishes the rest of its window. Once a consumer has seen messages past that cursor, the
relay is killed with SIGKILL. A second relay then finishes the journal.

The proxy also delays the broker's replies a little, so that the first relay cannot
publish the whole journal before the test holds them, however slow the machine.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from aiormq.exceptions import AMQPError
from tests.amqp_support import AmqpProxy

from ordergate.bus.envelope import EnvelopeFold
from ordergate.bus.events_out import EventRelay
from ordergate.domain.events import (
    BalanceAdjusted,
    Event,
    InstrumentUpdated,
    OrderAccepted,
    OrderApproved,
    OrderFilled,
    OrderInitialized,
    OrderSubmitted,
)
from ordergate.domain.instruments import Instrument
from ordergate.domain.values import LiquiditySide, OrderType, Side, TimeInForce
from ordergate.engine.views import ReadModelChanges
from ordergate.store.sqlite import SqliteStore

AMQP_URL = os.environ.get("ORDERGATE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
REPO = Path(__file__).parents[3]
ORDERS = 600  # five records each: 3,002 records and 600 position messages
WINDOW = 250
D = Decimal
T0 = 1_700_000_000_000_000_000
BTC = Instrument("BTCUSDT", "BTC", "USDT", D("0.1"), D("0.001"), D("0.001"))


# --- the subprocess ---------------------------------------------------------------------


async def relay_until(db: Path, url: str, exchange: str, head: int) -> int:
    """Run a relay over the journal in `db` until it has published `head`; exit status."""
    store = SqliteStore(db)
    relay = EventRelay(0, store, store, url, exchange, window=WINDOW, poll_interval=0.05)
    await relay.start()
    try:
        await relay.wait_for_published(head)
    finally:
        await relay.stop()
        await store.close()
    return 0


# --- the test ---------------------------------------------------------------------------


def trading(orders: int) -> list[Event]:
    """Market buys of 0.01 BTC, each initialized, approved, submitted, accepted and filled."""
    events: list[Event] = [
        InstrumentUpdated(BTC, T0),
        BalanceAdjusted("acct-1", "USDT", D("1000000"), "deposit", T0),
    ]
    for n in range(1, orders + 1):
        oid, ts = f"0-{n}", T0 + n * 1000
        events += [
            OrderInitialized(
                oid, f"c{n}", "acct-1", BTC.symbol, Side.BUY, OrderType.MARKET, D("0.01"),
                None, None, TimeInForce.GTC, False, None, None, "s1", None, None, None,
                f"trace-{n}", ts,
            ),
            OrderApproved(oid, D("50000"), ts + 1),
            OrderSubmitted(oid, f"V{n}", ts + 2),
            OrderAccepted(oid, f"V{n}", ts + 3),
            OrderFilled(
                oid, "acct-1", BTC.symbol, Side.BUY, f"T{n}", D("0.01"), D("50000"), D("0.01"),
                "USDT", LiquiditySide.TAKER, ts + 4,
            ),
        ]  # fmt: skip
    return events


async def write_journal(db: Path) -> list[tuple[str, int, bytes]]:
    """Journal the session; return what the relay must publish: (message id, seq, body)."""
    store = SqliteStore(db, synchronous="NORMAL")
    try:
        events = trading(ORDERS)
        for start in range(0, len(events), 500):
            await store.append(events[start : start + 500], ReadModelChanges())
        fold = EnvelopeFold(0)
        return [
            (e.message_id, e.seq, e.body)
            async for r in store.records_after(0)
            for e in fold.envelopes(r)
        ]
    finally:
        await store.close()


def stored_cursor(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        row = con.execute("SELECT seq FROM outbox_cursor WHERE partition = 0").fetchone()
    return 0 if row is None else int(row[0])


async def connect_or_skip() -> AbstractRobustConnection:
    """A connection to the test broker; a missing broker skips, or fails when CI=true."""
    try:
        return await aio_pika.connect_robust(AMQP_URL, timeout=5)
    except (OSError, AMQPError, TimeoutError) as exc:
        reason = f"RabbitMQ is not reachable at {AMQP_URL}: {exc!r}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
async def amqp() -> AsyncIterator[AbstractRobustConnection]:
    connection = await connect_or_skip()
    yield connection
    await connection.close()


async def eventually(check: Callable[[], Awaitable[bool] | bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        outcome = check()
        if outcome if isinstance(outcome, bool) else await outcome:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s")
        await asyncio.sleep(0.002)


async def start_relay(
    db: Path, url: str, exchange: str, head: int, log: Path
) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            str(db),
            url,
            exchange,
            str(head),
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},  # this file imports from tests
            stdout=out,
            stderr=out,
        )


async def test_relay_killed_mid_window_loses_nothing_and_resends_only_after_its_cursor(
    amqp: AbstractRobustConnection, tmp_path: Path
) -> None:
    db = tmp_path / "journal.db"
    expected = await write_journal(db)
    head = expected[-1][1]
    exchange_name = f"test.events.{uuid.uuid4().hex[:10]}"
    channel = await amqp.channel()
    exchange = await channel.declare_exchange(
        exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
    )
    queue = await channel.declare_queue(f"{exchange_name}.all", durable=True)
    await queue.bind(exchange, "#")
    received: list[tuple[str, int, bytes]] = []

    async def collect(message: AbstractIncomingMessage) -> None:
        seq = message.headers["x-ordergate-seq"]
        assert message.message_id is not None
        assert isinstance(seq, int)
        received.append((message.message_id, seq, message.body))

    await queue.consume(collect, no_ack=True)
    log = tmp_path / "relay.log"
    processes: list[asyncio.subprocess.Process] = []
    try:
        async with AmqpProxy(AMQP_URL, reply_delay=0.05) as proxy:
            first = await start_relay(db, proxy.url, exchange_name, head, log)
            processes.append(first)
            await eventually(lambda: stored_cursor(db) > 0)
            proxy.hold_replies()
            await asyncio.sleep(0.3)  # the relay takes in the confirmations it already has
            cursor = stored_cursor(db)
            assert cursor < head, "the relay confirmed everything before the replies were held"
            # It publishes past its cursor, and hears no confirmation any more: kill -9 it.
            await eventually(lambda: bool(received) and received[-1][1] > cursor)
            first.kill()
            assert await first.wait() == -signal.SIGKILL
        assert stored_cursor(db) == cursor

        second = await start_relay(db, AMQP_URL, exchange_name, head, log)
        processes.append(second)
        assert await asyncio.wait_for(second.wait(), 20) == 0, log.read_text()
        await eventually(lambda: bool(received) and received[-1][0] == expected[-1][0])
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
        await channel.queue_delete(queue.name)
        await channel.exchange_delete(exchange_name)

    # Every message arrived at least once, and first copies come in journal order.
    assert {m for m, _, _ in received} == {m for m, _, _ in expected}
    first_copies: dict[str, tuple[str, int, bytes]] = {}
    for message in received:
        first_copies.setdefault(message[0], message)
    assert list(first_copies.values()) == expected
    # The queue holds the first run's prefix, then the second run from the cursor on.
    resumed_at = next(i for i, (_, seq, _) in enumerate(expected) if seq > cursor)
    sent_by_first = len(received) - (len(expected) - resumed_at)
    assert received[:sent_by_first] == expected[:sent_by_first]
    assert received[sent_by_first:] == expected[resumed_at:]
    # So the duplicates are exactly the re-sends of what followed the persisted cursor,
    # byte for byte (the second relay enriched them from the same folded state).
    duplicates = expected[resumed_at:sent_by_first]
    assert duplicates, "the kill did not land with a window in flight"
    assert all(seq > cursor for _, seq, _ in duplicates)
    copies = Counter(m for m, _, _ in received)
    assert {m for m, n in copies.items() if n > 1} == {m for m, _, _ in duplicates}
    assert max(copies.values()) == 2


if __name__ == "__main__":
    database, url, exchange, head_seq = sys.argv[1:5]
    sys.exit(asyncio.run(relay_until(Path(database), url, exchange, int(head_seq))))
