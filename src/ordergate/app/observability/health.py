"""Health checks that check something: each dependency probed, with a deadline.

A probe is a name and a coroutine that returns None when the dependency works, or raises
(or returns a reason) when it does not. Probes run concurrently, each within `timeout`
seconds, so one hung dependency costs a check its deadline, not the sum of them all:

    journal   a cheap read on the journal store (SQLite: the outbox cursor's row;
              PostgreSQL: `SELECT 1` on the node's read pool)
    broker    the RabbitMQ connection is open and not reconnecting (when configured)
    venue     every running engine's venue connection (a ccxt venue's private stream;
              the paper venue runs in the process and has none to lose)

`HealthMonitor` runs the checks every `interval` seconds for the alerts (a dependency
that goes down raises an alert once, and again only if it recovers and fails again) and
for `ordergate_dependency_up`; `/ready` and `/health` run them afresh on each request.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

log = structlog.get_logger("ordergate.health")

ProbeCall = Callable[[], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class Probe:
    name: str
    call: ProbeCall


@dataclass(frozen=True, slots=True)
class DependencyState:
    name: str
    ok: bool
    reason: str | None
    latency_ms: float


class HealthChecks:
    def __init__(self, probes: list[Probe], timeout: float) -> None:
        self.probes = probes
        self.timeout = timeout
        self.last: dict[str, bool] = {}

    async def run(self) -> list[DependencyState]:
        """Probe every dependency now, concurrently, each within the deadline."""
        states = list(await asyncio.gather(*(self._probe(p) for p in self.probes)))
        self.last = {s.name: s.ok for s in states}
        return states

    async def _probe(self, probe: Probe) -> DependencyState:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                reason = await probe.call()
        except TimeoutError:
            reason = f"no answer within {self.timeout:g} s"
        except Exception as exc:  # any failure of a dependency is its state, not ours
            reason = _reason(exc)
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        return DependencyState(probe.name, reason is None, reason, latency_ms)


def _reason(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    code = getattr(exc, "code", None)
    return f"{code}: {message}" if code else f"{type(exc).__name__}: {message}"


class HealthMonitor:
    """Runs the checks on a timer and tells `on_down` of each dependency that goes down."""

    def __init__(
        self,
        checks: HealthChecks,
        interval: float,
        on_down: Callable[[str, str], None],
    ) -> None:
        self._checks = checks
        self._interval = interval
        self._on_down = on_down
        self._down: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="health-monitor")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def check_now(self) -> list[DependencyState]:
        states = await self._checks.run()
        for state in states:
            if state.ok:
                if state.name in self._down:
                    log.info("dependency recovered", dependency=state.name)
                self._down.discard(state.name)
            elif state.name not in self._down:
                self._down.add(state.name)
                log.error("dependency down", dependency=state.name, reason=state.reason)
                self._on_down(state.name, state.reason or "failing")
        return states

    async def _run(self) -> None:
        while True:
            try:
                await self.check_now()
            except Exception:  # the monitor must outlive a defect in one check
                log.exception("health check failed")
            await asyncio.sleep(self._interval)
