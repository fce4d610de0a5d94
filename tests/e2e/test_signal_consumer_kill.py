"""kill -9 of the signal consumer between journal commit and ack: nothing lost, nothing doubled.

`ordergate serve` (SQLite journal, paper venue) reaches RabbitMQ through a proxy in this
process (`HoldingAmqpProxy`). A first batch of signals goes through normally. Then the
proxy holds what the server sends, a second batch is published, and once the journal
has every signal of it and the proxy holds an ack for each, the server is killed with
SIGKILL and the held bytes are thrown away: the broker never learns of those acks. That
is the window, made certain rather than raced for.

The restarted server gets the second batch again (the broker returns unacked messages).
Each one must be answered from its journaled `SignalReceived`, placing nothing; every
signal has exactly one order in the journal and the read models; the journal verifies;
and every journal record reached the events exchange at least once, so a consumer that
de-duplicates by message id sees each seq once, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sqlite3
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
from aio_pika.abc import AbstractIncomingMessage
from tests.amqp_support import BrokerSession, publish, queue_depth
from tests.e2e.amqp_proxy import HoldingAmqpProxy
from tests.waiting import eventually

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent / "ordergate"
FIRST = [f"first-{i:02d}" for i in range(10)]
SECOND = [f"second-{i:02d}" for i in range(20)]  # below the prefetch: all in flight at once


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def signal_body(signal_id: str, index: int) -> bytes:
    return json.dumps(
        {
            "version": 1,
            "signal_id": signal_id,
            "strategy": "kill-window",
            "symbol": "BTCUSDT",
            "side": "BUY" if index % 2 == 0 else "SELL",
            "confidence": 0.95,
            "qty": "0.001",
            "trace_id": f"t-{signal_id}",
            "timestamp": "2026-12-02T19:00:00Z",
        }
    ).encode()


@dataclass
class ServerRun:
    """One `ordergate serve` process and its log."""

    process: asyncio.subprocess.Process
    log: Path
    port: int

    def lines(self) -> list[dict[str, Any]]:
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                with contextlib.suppress(json.JSONDecodeError):
                    found.append(json.loads(line))
        return found

    def signals_taken(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line.get("event") == "signal taken"]

    def settled(self) -> set[str]:
        """Trace ids of the signals this run took or dead-lettered (either ends a delivery)."""
        return {
            str(line.get("trace_id"))
            for line in self.lines()
            if line.get("event") in ("signal taken", "signal.dead_lettered")
        }

    async def ready(self) -> None:
        async with httpx.AsyncClient(timeout=1) as http:

            async def answers() -> bool:
                assert self.process.returncode is None, self.log.read_text()[-3000:]
                try:
                    got = await http.get(f"http://127.0.0.1:{self.port}/ready")
                except httpx.TransportError:
                    return False
                return got.status_code == 200

            await eventually(answers, timeout=30, interval=0.1)

    async def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        assert await self.process.wait() == -signal.SIGKILL

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(20):
                    return await self.process.wait()
            except TimeoutError:
                self.process.kill()
        return await self.process.wait()


@dataclass
class Rig:
    db: Path
    workdir: Path
    env: dict[str, str]
    queue: str
    runs: list[ServerRun]

    async def start(self, amqp_url: str) -> ServerRun:
        port = free_port()
        log = self.workdir / f"serve-{len(self.runs) + 1}.log"
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                str(BIN),
                *(
                    "serve",
                    "--db",
                    str(self.db),
                    "--port",
                    str(port),
                    "--amqp-url",
                    amqp_url,
                    "--admin-port",
                    str(free_port()),
                ),
                env=self.env,
                stdout=out,
                stderr=out,
                cwd=self.workdir,  # no stray .env file
            )
        run = ServerRun(process, log, port)
        self.runs.append(run)
        await run.ready()
        return run


@dataclass(frozen=True)
class Published:
    """One message seen on the events exchange."""

    message_id: str
    partition: int
    seq: int
    part: str


@pytest.fixture
async def rig(broker: BrokerSession, tmp_path: Path) -> AsyncIterator[Rig]:
    queue = broker.unique("e2e.signals.kill")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ORDERGATE_", "OMS_", "ORDERMANAGER_"))
    }
    env |= {
        "ORDERGATE_SIGNALS_QUEUE": queue,
        "ORDERGATE_PAPER_BARS_PER_SECOND": "0",
        "ORDERGATE_RECONCILE_INTERVAL_SECONDS": "3600",
        "ORDERGATE_LOG_JSON": "true",
        "ORDERGATE_LOG_LEVEL": "INFO",
    }
    broker.track(queues=(queue, f"{queue}.dlq"), exchanges=(f"{queue}.dlx",))
    rig = Rig(tmp_path / "og.db", tmp_path, env, queue, [])
    yield rig
    for run in rig.runs:
        if run.process.returncode is None:
            run.process.kill()
            await run.process.wait()


async def listen_to_events(broker: BrokerSession, rig: Rig) -> list[Published]:
    """Bind a queue to a fresh events exchange with `#`; collect every message from now."""
    exchange_name = broker.unique("e2e.events.kill")
    listener_name = f"{exchange_name}.all"
    broker.track(queues=(listener_name,), exchanges=(exchange_name,))
    rig.env["ORDERGATE_EVENTS_EXCHANGE"] = exchange_name
    # Its own connection, which the session closes before it deletes the queue.
    connection = broker.adopt(await aio_pika.connect_robust(broker.url))
    channel = await connection.channel()
    exchange = await channel.declare_exchange(
        exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
    )
    listener = await channel.declare_queue(listener_name, durable=True)
    await listener.bind(exchange, "#")
    seen: list[Published] = []

    async def keep(message: AbstractIncomingMessage) -> None:
        headers = message.headers
        assert message.message_id is not None
        seen.append(
            Published(
                message.message_id,
                int(headers["x-ordergate-partition"]),  # type: ignore[arg-type]
                int(headers["x-ordergate-seq"]),  # type: ignore[arg-type]
                str(headers["x-ordergate-part"]),
            )
        )

    await listener.consume(keep, no_ack=True)
    return seen


def journal(db: Path) -> list[tuple[int, int, str, dict[str, Any]]]:
    """(partition, seq, type, payload) of every record, read-only beside the server."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
        rows = con.execute(
            "SELECT partition, seq, type, payload FROM journal ORDER BY partition, seq"
        ).fetchall()
    return [(p, s, t, json.loads(payload)) for p, s, t, payload in rows]


def signals_received(db: Path) -> Counter[str]:
    return Counter(
        payload["signal_id"] for _, _, kind, payload in journal(db) if kind == "SignalReceived"
    )


def orders_initialized(db: Path) -> Counter[str]:
    """Orders per signal as the journal has them (one OrderInitialized per order)."""
    return Counter(
        payload["signal_id"]
        for _, _, kind, payload in journal(db)
        if kind == "OrderInitialized" and payload.get("signal_id") is not None
    )


def order_rows(db: Path) -> dict[str, list[str]]:
    """Order ids per signal in the orders read model."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
        rows = con.execute(
            "SELECT signal_id, order_id FROM orders WHERE signal_id IS NOT NULL ORDER BY order_id"
        ).fetchall()
    found: dict[str, list[str]] = {}
    for signal_id, order_id in rows:
        found.setdefault(signal_id, []).append(order_id)
    return found


def first_copies(seen: list[Published]) -> list[Published]:
    """What a consumer keeps that drops every message id it has seen before."""
    kept: dict[str, Published] = {}
    for message in seen:
        kept.setdefault(message.message_id, message)
    return list(kept.values())


def covers_journal(seen: list[Published], db: Path) -> bool:
    head = [(p, s) for p, s, _, _ in journal(db)]
    return {(m.partition, m.seq) for m in seen if m.part == "event"} >= set(head)


async def test_signal_consumer_killed_between_journal_and_ack_places_each_signal_once(
    broker: BrokerSession, rig: Rig
) -> None:
    events = await listen_to_events(broker, rig)
    async with HoldingAmqpProxy(broker.url) as proxy:
        # At each ack the server sends: (acks so far, signals journaled by then).
        acked_after: list[tuple[int, int]] = []
        proxy.on_ack = lambda: acked_after.append(
            (len(acked_after) + 1, sum(signals_received(rig.db).values()))
        )
        first = await rig.start(proxy.url)
        await publish(
            broker.connection, rig.queue, [signal_body(s, i) for i, s in enumerate(FIRST)]
        )
        await eventually(lambda: proxy.acks_forwarded == len(FIRST), timeout=10)
        await eventually(lambda: covers_journal(events, rig.db), timeout=10)

        proxy.hold()
        await publish(
            broker.connection, rig.queue, [signal_body(s, i) for i, s in enumerate(SECOND)]
        )
        await eventually(lambda: set(signals_received(rig.db)) >= set(SECOND), timeout=10)
        await eventually(lambda: proxy.acks_held == len(SECOND), timeout=10)
        await first.kill()
        proxy.drop()
        published_before_kill = {(m.partition, m.seq) for m in events if m.part == "event"}
        assert proxy.acks_forwarded == len(FIRST)  # not one ack of the second batch got out

    # The broker got every ack of the first batch and none of the second: exactly the
    # second batch is back in the queue.
    await eventually(lambda: _depth_is(broker, rig.queue, len(SECOND)), timeout=10, interval=0.1)
    journaled_before_restart = journal(rig.db)

    second = await rig.start(broker.url)
    await eventually(
        lambda: second.settled() >= {f"t-{s}" for s in SECOND}, timeout=15, interval=0.1
    )
    await eventually(lambda: _depth_is(broker, rig.queue, 0), timeout=10, interval=0.1)
    await eventually(lambda: covers_journal(events, rig.db), timeout=10, interval=0.1)
    assert await second.stop() in (0, -signal.SIGTERM)  # uvicorn re-raises the signal
    # A graceful stop closes the consumer's channel, which returns any unacked message.
    assert any(line.get("event") == "signal.consumer_stopped" for line in second.lines())
    assert await queue_depth(broker.connection, rig.queue) == 0
    dead_letters = [
        line for r in rig.runs for line in r.lines() if "dead_letter" in line.get("event", "")
    ]
    assert dead_letters == []
    assert await queue_depth(broker.connection, f"{rig.queue}.dlq") == 0

    # Each ack left the server only after its signal was journaled.
    assert len(acked_after) == len(FIRST) + len(SECOND)
    assert [(n, journaled) for n, journaled in acked_after if journaled < n] == []
    # The first run took both batches, each as new.
    taken_first = first.signals_taken()
    assert Counter(line["signal_id"] for line in taken_first) == Counter(FIRST + SECOND)
    assert not any(line["duplicate"] for line in taken_first)
    # The restart was given exactly the journaled-but-unacked batch, redelivered, and
    # answered each from the journal with the order the first run placed.
    orders = order_rows(rig.db)
    taken_second = second.signals_taken()
    assert sorted(line["signal_id"] for line in taken_second) == sorted(SECOND)
    for line in taken_second:
        assert line["duplicate"] is True, line
        assert line["redelivered"] is True, line
        assert line["orders"] == orders[line["signal_id"]], line
    # Nothing was journaled for a signal after the restart.
    received_before = Counter(
        payload["signal_id"]
        for _, _, kind, payload in journaled_before_restart
        if kind == "SignalReceived"
    )
    assert received_before == Counter(FIRST + SECOND)
    assert signals_received(rig.db) == Counter(FIRST + SECOND)
    # Exactly one order per signal, in the journal and in the read model.
    assert orders_initialized(rig.db) == Counter(FIRST + SECOND)
    assert {s: len(ids) for s, ids in orders.items()} == dict.fromkeys(FIRST + SECOND, 1)

    verified = await asyncio.create_subprocess_exec(
        str(BIN),
        *("verify-journal", "--db", str(rig.db)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=rig.workdir,
    )
    output, _ = await verified.communicate()
    assert verified.returncode == 0, output.decode(errors="replace")

    # Every record went out at least once; de-duplicated, each seq once and in order.
    records = journal(rig.db)
    kept = first_copies(events)
    assert [(m.partition, m.seq) for m in kept if m.part == "event"] == [
        (p, s) for p, s, _, _ in records
    ]
    fills = [(p, s) for p, s, kind, _ in records if kind == "OrderFilled"]
    assert [(m.partition, m.seq) for m in kept if m.part == "position"] == fills
    # And the relay half of the window was exercised too: records the first run journaled
    # but could not get out (its publishes were held) went out from the restart.
    held_back = {(p, s) for p, s, _, _ in journaled_before_restart} - published_before_kill
    assert held_back


async def _depth_is(broker: BrokerSession, queue: str, expected: int) -> bool:
    return await queue_depth(broker.connection, queue) == expected
