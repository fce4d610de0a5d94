"""Signals end to end on a cluster: signals/s and publish → first order event, 1 and 2 nodes.

Each run starts `--nodes` `ordergate serve --db postgresql://... --node-id nK --partitions P`
processes on a fresh PostgreSQL schema, with RabbitMQ queue and exchange names and a
cluster name of the run's own (all dropped or deleted afterwards): the paper venue with
its bars paused, `--accounts` funded accounts, so the signals spread over the partitions.
Once every partition is owned by the node the balance gives it, and every
partition queue and the signal queue have their consumer, the bench binds a queue of its
own to the events exchange (`#`) and publishes `--signals` signals to the signal queue (at
full speed, or `--rate` a second), each with a unique signal id and trace id; one signal
is one market order of 0.001 BTCUSDT, sides alternating per account.

Measured per signal: from its publish to the first order event carrying its trace id on
the bench's events queue. That event left through the outbox relay, which publishes only
journal records already committed, so each one received is an order journaled in
PostgreSQL: the signal's `SignalReceived` and its order as risk left it are one batch,
committed before the order goes to the venue (the venue's answer is not waited for).
The path: signal queue → router → partition queue → node (decode, policy, risk, journal
commit) → relay → events exchange → the bench. signals/s is signals / (first publish →
last first event). At full speed every signal is queued at once, so the latency is
mostly waiting in line (about signals / throughput at the end); `--rate` well below the
throughput gives the latency of one signal.
Afterwards the orders read model must hold exactly one order per signal; a signal with
no event within `--timeout`, or with other than one order, fails the run (exit 1).

What to compare it with: `bench.engine_throughput --journal postgres` is the engine and
the same journal without RabbitMQ, processes or the cluster; 2 nodes against 1 node is
what scale-out buys on this machine. Everything (nodes, RabbitMQ, PostgreSQL and this
process) shares the machine's cores, so the CPU seconds each used are printed too.

    python -m bench.signals_end_to_end --runs 3
    python -m bench.signals_end_to_end --nodes 2 --signals 500 --rate 200
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import signal
import statistics
import sys
import tempfile
import time
import typing
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from bench.cluster_rig import (
    BenchFailed,
    Node,
    RunNames,
    check_alive,
    dsn_with_search_path,
    start_node,
    stop_nodes,
    wait_ready,
)
from bench.cpu_usage import cpu_seconds, machine_busy_seconds
from ordergate.domain.events import OrderEvent
from ordergate.engine.ids import partition_of

PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
ORDER_EVENT_TYPES = frozenset(t.__name__ for t in typing.get_args(OrderEvent))
EVENTS_OF_A_FILLED_SIGNAL = (
    "SignalReceived",
    "OrderInitialized",
    "OrderApproved",
    "OrderAccepted",
    "OrderFilled",
    "PositionChanged",
)


def signal_body(signal_id: str, account: str, side: str) -> bytes:
    return json.dumps(
        {
            "version": 1,
            "signal_id": signal_id,
            "strategy": "bench",
            "symbol": "BTCUSDT",
            "side": side,
            "confidence": 0.95,
            "qty": "0.001",
            "account": account,
            "trace_id": f"t-{signal_id}",
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }
    ).encode()


@dataclass
class Timings:
    sent: list[float]
    first_event: list[float | None]
    remaining: int
    events: int = 0  # every message the events queue received
    seen: set[str] = field(default_factory=set)  # their message ids
    duplicates: int = 0  # messages received again (the relay publishes at least once)
    types: Counter[str] = field(default_factory=Counter)
    confirmed: float = 0.0  # when the broker had confirmed the last signal
    done: asyncio.Event = field(default_factory=asyncio.Event)


async def measure(
    connection: AbstractRobustConnection,
    names: RunNames,
    bodies: list[bytes],
    trace_ids: list[str],
    rate: float | None,
    timeout: float,
) -> Timings:
    """Publish every signal and time each to its first order event on the events queue."""
    index = {trace_id: i for i, trace_id in enumerate(trace_ids)}
    timings = Timings([0.0] * len(bodies), [None] * len(bodies), len(bodies))

    async def on_event(message: AbstractIncomingMessage) -> None:
        timings.events += 1
        if message.message_id in timings.seen:
            timings.duplicates += 1
        timings.seen.add(message.message_id or "")
        timings.types[message.type or ""] += 1
        if message.type not in ORDER_EVENT_TYPES:
            return
        i = index.get(message.correlation_id or "")
        if i is not None and timings.first_event[i] is None:
            timings.first_event[i] = time.perf_counter()
            timings.remaining -= 1
            if timings.remaining == 0:
                timings.done.set()

    events = await connection.channel(publisher_confirms=False)
    exchange = await events.declare_exchange(
        names.events_exchange, aio_pika.ExchangeType.TOPIC, durable=True
    )
    queue = await events.declare_queue(names.events_queue, exclusive=True, auto_delete=True)
    await queue.bind(exchange, "#")
    await queue.consume(on_event, no_ack=True)
    publisher = await connection.channel(publisher_confirms=True, on_return_raises=True)

    async def send(i: int) -> None:
        timings.sent[i] = time.perf_counter()
        message = aio_pika.Message(
            bodies[i], delivery_mode=aio_pika.DeliveryMode.PERSISTENT, message_id=trace_ids[i]
        )
        await publisher.default_exchange.publish(message, routing_key=names.signal_queue)

    try:
        started = time.perf_counter()
        sends = []
        for i in range(len(bodies)):
            if rate is not None:
                await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
            sends.append(asyncio.create_task(send(i)))  # in order: tasks start FIFO
        await asyncio.gather(*sends)
        timings.confirmed = time.perf_counter()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(timings.done.wait(), timeout)
    finally:
        await publisher.close()
        await events.close()
    return timings


def cpu_snapshot(nodes: list[Node]) -> dict[str, float]:
    """CPU seconds so far: the nodes, this process, the services (every client's share of
    them) and the whole machine (the rest is other people's work on it)."""
    return {
        "nodes": cpu_seconds([n.process.pid for n in nodes]),
        "bench": time.process_time(),
        "postgres": cpu_seconds(comm="postgres"),
        "rabbitmq": cpu_seconds(comm="beam.smp"),
        "machine": machine_busy_seconds(),
    }


@dataclass
class Figures:
    signals_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    journaled: int
    statuses: dict[str, int]
    split: dict[str, int]
    cpu: dict[str, float]
    window_s: float
    publish_s: float
    events: int
    duplicates: int
    types: Counter[str]


def percentile(ordered: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q of the values at or below it."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def workload(names: RunNames, signals: int, accounts: list[str]) -> tuple[list[str], list[bytes]]:
    """Signal ids and bodies: accounts in turn, each account's sides alternating (so no
    position keeps growing), a trace id `t-<signal id>` each."""
    ids = [f"{names.tag}-{i:06d}" for i in range(signals)]
    bodies = [
        signal_body(s, accounts[i % len(accounts)], "SELL" if (i // len(accounts)) % 2 else "BUY")
        for i, s in enumerate(ids)
    ]
    return ids, bodies


async def run_once(args: argparse.Namespace, node_count: int) -> Figures:
    names = RunNames.fresh(args.partitions)
    accounts = [f"bench-{i:03d}" for i in range(args.accounts)]
    signal_ids, bodies = workload(names, args.signals, accounts)
    admin = await asyncpg.connect(args.pg_dsn, timeout=10)
    connection = await aio_pika.connect_robust(
        args.amqp_url, client_properties={"connection_name": f"ordergate-bench-{names.tag}"}
    )
    await admin.execute(f'CREATE SCHEMA "{names.schema}"')
    dsn = dsn_with_search_path(args.pg_dsn, names.schema)
    nodes: list[Node] = []
    problems = ""
    try:
        with tempfile.TemporaryDirectory(prefix="og-bench-") as workdir:
            env = names.node_env(args.amqp_url, accounts)
            try:
                for k in range(1, node_count + 1):  # one by one: a failed start stops the rest
                    nodes.append(await start_node(names, dsn, f"n{k}", env, Path(workdir)))  # noqa: PERF401
                owned = await wait_ready(admin, connection, names, nodes, args.start_timeout)
                split = {node.node_id: 0 for node in nodes}
                for i in range(args.signals):
                    split[owned[partition_of(accounts[i % len(accounts)], args.partitions)]] += 1
                before = cpu_snapshot(nodes)
                trace_ids = [f"t-{s}" for s in signal_ids]
                timings = await measure(
                    connection, names, bodies, trace_ids, args.rate, args.timeout
                )
                after = cpu_snapshot(nodes)
                check_alive(nodes)
            finally:
                await stop_nodes(nodes)
                problems = "\n".join(node.problems() for node in nodes)  # before the logs go
        rows = await admin.fetch(
            f'SELECT signal_id, count(*) AS n, min(status) AS status FROM "{names.schema}".orders '
            "WHERE signal_id = ANY($1::text[]) GROUP BY signal_id",
            signal_ids,
        )
    except Exception as exc:  # not on Ctrl-C: the node logs are of use when something broke
        if nodes and not isinstance(exc, BenchFailed):  # a BenchFailed quotes them already
            print(problems, file=sys.stderr)
        raise
    finally:
        await drop_everything(admin, connection, names)
    orders = {row["signal_id"]: (row["n"], row["status"]) for row in rows}
    return figures(signal_ids, timings, orders, split, after, before, problems)


async def drop_everything(
    admin: asyncpg.Connection[Any], connection: AbstractRobustConnection, names: RunNames
) -> None:
    """Drop the run's schema, delete its queues and exchanges, close the connections."""
    try:
        await admin.execute("SET lock_timeout = '10s'")
        await admin.execute(f'DROP SCHEMA IF EXISTS "{names.schema}" CASCADE')
    finally:
        await admin.close()
    try:
        for queue in names.queues:
            async with connection.channel(publisher_confirms=False) as channel:
                await channel.queue_delete(queue)
        for exchange in names.exchanges:
            async with connection.channel(publisher_confirms=False) as channel:
                await channel.exchange_delete(exchange)
    finally:
        await connection.close()


def figures(
    signal_ids: list[str],
    timings: Timings,
    orders: dict[str, tuple[int, str]],
    split: dict[str, int],
    after: dict[str, float],
    before: dict[str, float],
    problems: str,
) -> Figures:
    """The run's figures; `BenchFailed` if a signal had no event, or other than one order."""
    missing = [s for s, t in zip(signal_ids, timings.first_event, strict=True) if t is None]
    if missing:
        with_order = sum(1 for s in missing if s in orders)
        raise BenchFailed(
            f"{len(missing)} of {len(signal_ids)} signals had no order event in time (first: "
            f"{missing[:3]}); {with_order} of those have an order in PostgreSQL. "
            f"Node logs (warnings, errors, else the end):\n{problems}"
        )
    wrong = {s: orders.get(s, (0, ""))[0] for s in signal_ids if orders.get(s, (0, ""))[0] != 1}
    if wrong:
        raise BenchFailed(f"{len(wrong)} signals have != 1 order: {dict(list(wrong.items())[:5])}")
    latencies = sorted(
        t - sent for t, sent in zip(timings.first_event, timings.sent, strict=True) if t is not None
    )
    last = max(t for t in timings.first_event if t is not None)
    window = last - min(timings.sent)
    return Figures(
        signals_per_s=len(signal_ids) / window,
        p50_ms=percentile(latencies, 0.50) * 1e3,
        p90_ms=percentile(latencies, 0.90) * 1e3,
        p99_ms=percentile(latencies, 0.99) * 1e3,
        max_ms=latencies[-1] * 1e3,
        journaled=len(latencies),
        statuses=Counter(status for _, status in orders.values()),
        split=split,
        cpu={k: after[k] - before[k] for k in before},
        window_s=window,
        publish_s=timings.confirmed - min(timings.sent),
        events=timings.events,
        duplicates=timings.duplicates,
        types=timings.types,
    )


METRICS = (
    ("signals/s", "signals_per_s", "{:9.0f}"),
    ("p50 ms", "p50_ms", "{:9.1f}"),
    ("p90 ms", "p90_ms", "{:9.1f}"),
    ("p99 ms", "p99_ms", "{:9.1f}"),
    ("max ms", "max_ms", "{:9.1f}"),
)


def describe(run: int, nodes: int, f: Figures) -> str:
    label = "1 node " if nodes == 1 else f"{nodes} nodes"
    numbers = "  ".join(
        f"{name} {fmt.format(getattr(f, key)).strip()}" for name, key, fmt in METRICS
    )
    split = "/".join(str(v) for v in f.split.values())
    ours = {k: v for k, v in f.cpu.items() if k != "machine"}
    others = f.cpu["machine"] - sum(ours.values())  # other processes on the machine
    cpu = ", ".join(f"{k} {v:.1f}" for k, v in {**ours, "others": others}.items())
    usual = set(EVENTS_OF_A_FILLED_SIGNAL)
    unusual = {k: v for k, v in f.types.items() if k not in usual}
    other_types = "".join(f", {k} {v}" for k, v in sorted(unusual.items()))
    statuses = " ".join(f"{k} {v}" for k, v in sorted(f.statuses.items()))
    return (
        f"run {run} {label}: {numbers}\n"
        f"    published (confirmed) in {f.publish_s:.2f} s; journaled {f.journaled}, "
        f"orders {statuses}, signals per node {split}, {f.events} events received "
        f"({f.duplicates} of them again{other_types})\n"
        f"    cpu s in the {f.window_s:.1f} s window (of {f.window_s * (os.cpu_count() or 1):.1f}"
        f" core-s): {cpu}"
    )


def print_medians(results: dict[int, list[Figures]]) -> None:
    counts = sorted(results)
    header = "".join(f"{(f'{n} node' + ('s' if n > 1 else '')):>10}" for n in counts)
    ratio = len(counts) == 2
    print(
        f"\nmedians of {len(results[counts[0]])} runs  {header}"
        + (f"{'ratio':>8}" if ratio else "")
    )
    for name, key, fmt in METRICS:
        values = [statistics.median(getattr(f, key) for f in results[n]) for n in counts]
        line = f"{name:19}" + "".join(" " + fmt.format(v) for v in values)
        if ratio:
            line += f"{values[1] / values[0]:8.2f}"
        print(line)


async def bench(args: argparse.Namespace) -> None:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    counts = [1, 2] if args.nodes is None else [args.nodes]
    pace = "full speed" if args.rate is None else f"{args.rate:g}/s"
    print(
        f"signals end to end: {args.signals} signals at {pace} over {args.accounts} accounts, "
        f"{args.partitions} partitions, paper venue (bars paused), {os.cpu_count()} cores"
    )
    results: dict[int, list[Figures]] = {n: [] for n in counts}
    for run in range(1, args.runs + 1):
        for nodes in counts:
            result = await run_once(args, nodes)
            results[nodes].append(result)
            print(describe(run, nodes, result), flush=True)
    print_medians(results)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nodes", type=int, help="default: 1 node, then 2 nodes")
    parser.add_argument("--signals", type=int, default=2000)
    parser.add_argument("--rate", type=float, help="signals a second (default: full speed)")
    parser.add_argument("--accounts", type=int, default=64)
    parser.add_argument("--partitions", type=int, default=16)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=60, help="s for the last event")
    parser.add_argument("--start-timeout", type=float, default=90, help="s for the nodes")
    parser.add_argument("--pg-dsn", default=os.environ.get("ORDERGATE_TEST_PG_DSN", PG_DSN))
    parser.add_argument("--amqp-url", default=os.environ.get("ORDERGATE_TEST_AMQP_URL", AMQP_URL))
    args = parser.parse_args()
    nodes = 1 if args.nodes is None else args.nodes
    if min(args.signals, args.accounts, args.runs, args.partitions, nodes) < 1:
        parser.error("--signals, --accounts, --runs, --partitions and --nodes must be >= 1")
    if args.rate is not None and args.rate <= 0:
        parser.error("--rate must be > 0 (leave it out for full speed)")
    try:
        asyncio.run(bench(args))
    except BenchFailed as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; nodes stopped, schema dropped", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
