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
import uuid
from collections import Counter
from pathlib import Path

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
from tests.amqp_support import AmqpProxy, BrokerSession
from tests.integration.bus.relay_support import expected_envelopes, relay_over, trading
from tests.waiting import TIMEOUT, eventually

from ordergate.engine.views import ReadModelChanges
from ordergate.store.sqlite import SqliteStore

REPO = Path(__file__).parents[3]
ORDERS = 600  # five records each: 3,002 records and 600 position messages
WINDOW = 250
PATH = os.environ.get("PYTHONPATH", "")


# --- the subprocess ---------------------------------------------------------------------


async def relay_until(db: Path, url: str, exchange: str, head: int) -> int:
    """Run a relay over the journal in `db` until it has published `head`; exit status."""
    store = SqliteStore(db)
    # It never gives up on a held confirmation (the default is 10 s) before the test kills it.
    relay = relay_over(store, url, exchange, window=WINDOW, publish_timeout=300)
    await relay.start()
    try:
        await relay.wait_for_published(head)
    finally:
        await relay.stop()
        await store.close()
    return 0


# --- the test ---------------------------------------------------------------------------


async def write_journal(db: Path) -> list[tuple[str, int, bytes]]:
    """Journal the session; return what the relay must publish: (message id, seq, body)."""
    store = SqliteStore(db, synchronous="NORMAL")
    try:
        events = trading(ORDERS)
        for start in range(0, len(events), 500):
            await store.append(events[start : start + 500], ReadModelChanges())
        return [(e.message_id, e.seq, e.body) for e in await expected_envelopes(store)]
    finally:
        await store.close()


def stored_cursor(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        row = con.execute("SELECT seq FROM outbox_cursor WHERE partition = 0").fetchone()
    return 0 if row is None else int(row[0])


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
            # this file imports from tests (and ordergate from wherever the test run does)
            env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), PATH]))},
            stdout=out,
            stderr=out,
        )


async def test_relay_killed_mid_window_loses_nothing_and_resends_only_after_its_cursor(
    broker: BrokerSession, tmp_path: Path
) -> None:
    amqp = broker.connection
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
        async with AmqpProxy(broker.url, reply_delay=0.05) as proxy:
            first = await start_relay(db, proxy.url, exchange_name, head, log)
            processes.append(first)
            await eventually(lambda: stored_cursor(db) > 0, message="a first stored cursor")
            proxy.hold_replies()
            # The relay moves its cursor over a window once the window is confirmed, and only
            # then publishes the next one. Once the proxy holds back a confirmation, the window
            # it belongs to was published, so the cursor before it was stored, and it cannot
            # move again (or everything was confirmed before the hold: the assert says so).
            await eventually(
                lambda: proxy.holding or stored_cursor(db) == head,
                message="a confirmation held back by the proxy",
            )
            cursor = stored_cursor(db)
            assert cursor < head, "the relay confirmed everything before the replies were held"
            # It publishes past its cursor, and hears no confirmation any more: kill -9 it.
            await eventually(
                lambda: bool(received) and received[-1][1] > cursor,
                message="a message past the stored cursor",
            )
            first.kill()
            assert await first.wait() == -signal.SIGKILL
        assert stored_cursor(db) == cursor

        second = await start_relay(db, broker.url, exchange_name, head, log)
        processes.append(second)
        assert await asyncio.wait_for(second.wait(), TIMEOUT) == 0, log.read_text()
        await eventually(
            lambda: bool(received) and received[-1][0] == expected[-1][0],
            message="the journal's last message",
        )
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
