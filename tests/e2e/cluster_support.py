"""Nodes of a cluster as real processes: `ordergate serve --db postgresql://... --node-id`.

Each node gets its own port and log file; the journal is a fresh PostgreSQL schema and
the RabbitMQ names are unique to the test, so runs never see each other. The checks at
the bottom read the journal and read models straight from PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg

from ordergate.engine.replay import VerificationReport, verify_partitions
from ordergate.store.postgres.lease import lock_namespace
from ordergate.store.postgres.snapshot import open_snapshot

# Advisory locks are database-wide, not per schema: runs at the same time need their own.
CLUSTER = f"e2e-{uuid.uuid4().hex[:8]}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def signal_body(signal_id: str, account: str, **fields: Any) -> bytes:
    return json.dumps(
        {
            "version": 1,
            "signal_id": signal_id,
            "strategy": "e2e",
            "symbol": "BTCUSDT",
            "side": "BUY" if sum(signal_id.encode()) % 2 else "SELL",
            "confidence": 0.95,
            "qty": "0.001",
            "account": account,
            "trace_id": f"t-{signal_id}",
            "timestamp": "2026-12-02T19:00:00Z",
            **fields,
        }
    ).encode()


@dataclass
class NodeProcess:
    node_id: str
    process: asyncio.subprocess.Process
    log: Path
    port: int

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    def lines(self) -> list[dict[str, Any]]:
        """The node's JSON log lines so far."""
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return found

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)

    def freeze(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    async def stop(self) -> None:
        if self.alive:
            self.process.send_signal(signal.SIGCONT)
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


@dataclass
class Cluster:
    dsn: str
    partitions: int
    env: dict[str, str]
    workdir: Path
    nodes: dict[str, NodeProcess] = field(default_factory=dict)

    async def start(self, node_id: str) -> NodeProcess:
        port = free_port()
        log = self.workdir / f"{node_id}.log"
        handle = log.open("w")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "from ordergate.cli.main import main; main()",
            "serve",
            "--db",
            self.dsn,
            "--node-id",
            node_id,
            "--partitions",
            str(self.partitions),
            "--port",
            str(port),
            "--admin-port",
            str(free_port()),
            env={**os.environ, **self.env},
            stdout=handle,
            stderr=handle,
            cwd=self.workdir,
        )
        handle.close()
        node = NodeProcess(node_id, process, log, port)
        self.nodes[node_id] = node
        return node

    async def stop(self) -> None:
        await asyncio.gather(*(node.stop() for node in self.nodes.values()))

    async def owners(self) -> dict[int, str]:
        """Which node's session holds each partition's lock now (from pg_locks)."""
        connection = await asyncpg.connect(self.dsn)
        try:
            rows = await connection.fetch(
                "SELECT l.objid::int AS partition, a.application_name AS name "
                "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.objsubid = 2 "
                "AND l.granted",
                lock_namespace(CLUSTER),
            )
        finally:
            await connection.close()
        return {row["partition"]: row["name"].split(":")[2] for row in rows}

    async def query(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(self.dsn)
        try:
            return list(await connection.fetch(sql, *args))
        finally:
            await connection.close()

    async def signals_journaled(self) -> list[str]:
        rows = await self.query(
            "SELECT payload FROM journal WHERE type = 'SignalReceived' ORDER BY partition_id, seq"
        )
        return [json.loads(r["payload"])["signal_id"] for r in rows]

    async def orders_by_signal(self) -> dict[str, int]:
        rows = await self.query(
            "SELECT signal_id, count(*) AS n FROM orders WHERE signal_id IS NOT NULL "
            "GROUP BY signal_id"
        )
        return {r["signal_id"]: r["n"] for r in rows}

    async def verify(self) -> dict[int, VerificationReport]:
        """Every partition's chain and the shared read models, read in one snapshot."""
        async with open_snapshot(self.dsn, application_name="e2e verify") as snapshot:
            journals = [snapshot.journal(p) for p in range(self.partitions)]
            return await verify_partitions(journals, await snapshot.read_models())


def paper_accounts(accounts: Iterable[str]) -> str:
    return json.dumps({a: {"USDT": str(Decimal(1_000_000))} for a in accounts})
