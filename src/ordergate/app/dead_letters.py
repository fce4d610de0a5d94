"""The signals' dead-letter queue, for operators: what is in it, and sending dead letters
back to the signal queue. One broker connection per call; `BusUnavailable` if the broker
cannot be reached."""

from __future__ import annotations

from ordergate.bus.connection import connect
from ordergate.bus.dead_letters import DeadLetter, ReplayReport, dead_letters, replay_dead_letters
from ordergate.bus.topology import SignalTopology

__all__ = [
    "DeadLetter",
    "ReplayReport",
    "SignalTopology",
    "list_dead_letters",
    "resend_dead_letters",
]


async def list_dead_letters(
    url: str, topology: SignalTopology, limit: int
) -> tuple[int, list[DeadLetter]]:
    """How many dead letters there are, and the first `limit` with their reasons. Nothing
    is taken off the queue."""
    connection = await connect(url, name="ordergate signals")
    try:
        return await dead_letters(connection, topology, limit=limit)
    finally:
        await connection.close()


async def resend_dead_letters(
    url: str, topology: SignalTopology, reason: str | None, limit: int | None
) -> ReplayReport:
    """Send dead letters (of `reason`, at most `limit`) back to the signal queue, in queue
    order, each taken off the dead-letter queue only once its copy is confirmed."""
    connection = await connect(url, name="ordergate signals")
    try:
        return await replay_dead_letters(connection, topology, reason=reason, limit=limit)
    finally:
        await connection.close()
