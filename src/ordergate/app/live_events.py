"""The committed events a live view follows: the blotter's stream (`GET /v1/stream`).

A single process runs one partition, whose engine hands every event to its subscribers
once journaled, in journal order, with its seq (`Engine.subscribe`). A stream subscribes
first, then reads the last few records of the journal for its opening tail, so nothing
falls between the two: an event from the subscription at or below the tail's last seq
is the tail's already.

A cluster node's partitions come and go with their leases; following them is not built
yet, so a node has no feed (the stream answers 404 `STREAM_NOT_SERVED` there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ordergate.app.application import Application
from ordergate.app.partition import PartitionStore
from ordergate.engine.codec import decode
from ordergate.engine.engine import Engine
from ordergate.engine.subscriptions import Callback, JournaledEvent


@dataclass(frozen=True, slots=True)
class EventFeed:
    """One engine's committed events, and the tail of its journal."""

    engine: Engine
    store: PartitionStore

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        """Call `callback` (on the engine's task: it must not block) with each event once
        journaled; return a function that unsubscribes."""
        return self.engine.subscribe(callback)

    async def tail(self, count: int) -> list[JournaledEvent]:
        """The last `count` journaled events (fewer in a shorter journal), oldest first."""
        after = max(0, self.store.head_seq - count)
        events = [
            JournaledEvent(record.seq, decode(record.type, record.version, record.payload))
            async for record in self.store.records_after(after)
        ]
        return events[-count:] if count else []


def event_feed(application: Application) -> EventFeed | None:
    """The feed of the partition this process runs; None on a cluster node."""
    partition = application.partition
    if partition is None:
        return None
    return EventFeed(partition.engine, partition.store)
