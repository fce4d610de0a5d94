"""Nodes of a cluster as processes for the benches: names unique to a run, `ordergate serve`
node processes that die with the bench, and the wait until every partition has its owner
and every queue its consumer."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import secrets
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
from aio_pika.abc import AbstractRobustConnection
from aio_pika.exceptions import ChannelClosed

from ordergate.app.cluster.balance import assignment
from ordergate.store.postgres.lease import lock_namespace

_LIVE: dict[int, asyncio.subprocess.Process] = {}  # pid -> node process not yet reaped


class BenchFailed(Exception):
    """A run that could not measure, or measured a wrong outcome: exit non-zero."""


@atexit.register
def _kill_leftovers() -> None:
    """Last resort (the loop died before `stop_nodes`): no node outlives the bench."""
    for pid in list(_LIVE):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _die_with_parent() -> None:
    """In the child: SIGKILL it when the bench dies, even of SIGKILL (Linux only)."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def dsn_with_search_path(dsn: str, schema: str) -> str:
    """`dsn` whose connections use `schema` alone (PostgreSQL's `options` parameter)."""
    parts = urlsplit(dsn)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-csearch_path={schema}"))
    return urlunsplit(parts._replace(query=urlencode(query)))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class RunNames:
    """Every name one run creates, unique to it: schema, cluster, queues, exchanges."""

    tag: str
    partitions: int

    @classmethod
    def fresh(cls, partitions: int) -> RunNames:
        return cls(secrets.token_hex(5), partitions)

    @property
    def schema(self) -> str:
        return f"og_bench_signals_{self.tag}"

    @property
    def cluster(self) -> str:
        return f"bench-{self.tag}"  # unique: advisory locks are server-wide, not per schema

    @property
    def signal_queue(self) -> str:
        return f"bench.signals.{self.tag}"

    @property
    def partition_exchange(self) -> str:
        return f"bench.partitions.{self.tag}"

    @property
    def events_exchange(self) -> str:
        return f"bench.events.{self.tag}"

    @property
    def events_queue(self) -> str:
        return f"bench.events.{self.tag}.all"

    @property
    def partition_queues(self) -> list[str]:
        return [f"{self.partition_exchange}.p{p:02d}" for p in range(self.partitions)]

    @property
    def queues(self) -> list[str]:
        return [self.signal_queue, f"{self.signal_queue}.dlq", *self.partition_queues]

    @property
    def exchanges(self) -> list[str]:
        return [self.partition_exchange, self.events_exchange, f"{self.signal_queue}.dlx"]

    def node_env(self, amqp_url: str, accounts: list[str]) -> dict[str, str]:
        return {
            "ORDERGATE_AMQP_URL": amqp_url,
            "ORDERGATE_SIGNALS_QUEUE": self.signal_queue,
            "ORDERGATE_PARTITION_EXCHANGE": self.partition_exchange,
            "ORDERGATE_EVENTS_EXCHANGE": self.events_exchange,
            "ORDERGATE_CLUSTER_NAME": self.cluster,
            "ORDERGATE_PAPER_BARS_PER_SECOND": "0",
            "ORDERGATE_PAPER_BALANCES": json.dumps({a: {"USDT": "1000000"} for a in accounts}),
            "ORDERGATE_RECONCILE_INTERVAL_SECONDS": "3600",
            "ORDERGATE_LOG_JSON": "true",
        }


@dataclass
class Node:
    node_id: str
    process: asyncio.subprocess.Process
    log: Path

    def tail(self, lines: int = 15) -> str:
        text = self.log.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(f"  {self.node_id}| {line[:300]}" for line in text)

    def problems(self, lines: int = 10) -> str:
        """The last warnings and errors of the log (and lines that are not JSON, such as
        tracebacks); the end of the log when there are none."""
        found: list[str] = []
        in_traceback = False
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                in_traceback = False
                if any(f'"level": "{level}"' in line for level in ("warning", "error", "critical")):
                    found.append(line)
                continue
            in_traceback = in_traceback or line.startswith(("Traceback", "ERROR"))
            if in_traceback:  # not the banner, which holds the first API key
                found.append(line)
        found = found[-lines:]
        if not found:
            return self.tail(5)
        return "\n".join(f"  {self.node_id}| {line[:300]}" for line in found)


async def start_node(
    names: RunNames, dsn: str, node_id: str, env: dict[str, str], workdir: Path
) -> Node:
    log = workdir / f"{node_id}.log"
    with log.open("w") as handle:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "from ordergate.cli.main import main; main()",
            "serve",
            "--db",
            dsn,
            "--node-id",
            node_id,
            "--partitions",
            str(names.partitions),
            "--port",
            str(free_port()),
            "--admin-port",
            str(free_port()),
            env={**os.environ, **env},
            stdout=handle,
            stderr=handle,
            cwd=workdir,
            start_new_session=True,  # Ctrl-C reaches the bench, which stops the nodes
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    _LIVE[process.pid] = process
    return Node(node_id, process, log)


async def stop_nodes(nodes: list[Node]) -> None:
    """SIGTERM every node, SIGKILL any that has not exited within 15 s."""

    async def stop(process: asyncio.subprocess.Process) -> None:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        _LIVE.pop(process.pid, None)

    await asyncio.gather(*(stop(node.process) for node in nodes))


def check_alive(nodes: list[Node]) -> None:
    for node in nodes:
        if node.process.returncode is not None:
            raise BenchFailed(
                f"node {node.node_id} exited with {node.process.returncode}:\n{node.problems()}"
            )


async def owners(admin: asyncpg.Connection[Any], cluster: str) -> dict[int, str]:
    """Which node's session holds each partition's lease lock now (from pg_locks)."""
    rows = await admin.fetch(
        "SELECT l.objid::int AS partition, a.application_name AS name "
        "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.objsubid = 2 AND l.granted",
        lock_namespace(cluster),
    )
    return {row["partition"]: row["name"].split(":")[2] for row in rows}


async def consumers_ready(connection: AbstractRobustConnection, queues: list[str]) -> bool:
    """Every queue exists and has a consumer (the signal router, a partition's engine)."""
    for name in queues:
        try:
            async with connection.channel(publisher_confirms=False) as channel:
                declared = await channel.declare_queue(name, passive=True)
        except ChannelClosed:  # not declared yet (404)
            return False
        if not declared.declaration_result.consumer_count:
            return False
    return True


async def wait_ready(
    admin: asyncpg.Connection[Any],
    connection: AbstractRobustConnection,
    names: RunNames,
    nodes: list[Node],
    timeout: float,
) -> dict[int, str]:
    """Wait for the balanced ownership rendezvous hashing gives, and every consumer."""
    node_ids = [node.node_id for node in nodes]
    expected = assignment(node_ids, names.partitions)
    deadline = time.monotonic() + timeout
    while True:
        check_alive(nodes)
        now = await owners(admin, names.cluster)
        if now == expected and await consumers_ready(
            connection, [names.signal_queue, *names.partition_queues]
        ):
            return now
        if time.monotonic() > deadline:
            raise BenchFailed(f"after {timeout} s the partitions are owned as {now}")
        await asyncio.sleep(0.2)
