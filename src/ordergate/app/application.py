"""`Application`: what the entrypoints get once ordergate is built, and nothing more.

The REST API and the Python API read and command through it: `trading` (one engine, or a
cluster node's engines: the same interface), `reads` (the read models), `settings`,
`limits`, `keys`. What only one kind of process has is optional and named for what it is:
the `partition` of a single-process ordergate (its engine's in-process event stream, its
venue), or the `node` of a cluster.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from ordergate.app.observability import Observability
from ordergate.app.partition import Partition
from ordergate.auth.ports import KeyStore
from ordergate.config.settings import Settings
from ordergate.domain.limits import LimitsBook
from ordergate.engine.queries import ReadModels
from ordergate.engine.trading import Trading


class NodeStatus(Protocol):
    """A cluster node as its health shows it."""

    @property
    def node_id(self) -> str: ...

    @property
    def running_partitions(self) -> list[int]:
        """The partitions this node runs now."""
        ...


@dataclass
class Application:
    """Built once by `bootstrap.build`; `aclose` runs `closers` in order (signals first,
    so nothing new comes in), then closes the key store."""

    settings: Settings
    trading: Trading
    reads: ReadModels
    keys: KeyStore
    limits: LimitsBook
    venue_name: str
    partition: Partition | None = None
    node: NodeStatus | None = None
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    observability: Observability | None = None

    async def aclose(self) -> None:
        for close in self.closers:
            await close()
        self.closers = []
        await asyncio.to_thread(self.keys.close)  # PostgreSQL: waits for its connection
