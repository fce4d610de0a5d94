"""Observability: metrics, health checks and alerts, wired once per application.

`Observability` is built by the composition root with the settings, handed to every
partition it starts (which gives each engine its observer and attaches itself for the
scrape-time levels), and given the probes of the dependencies this process has. The API
only asks it to render `/metrics` and to run the checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from aio_pika.abc import AbstractRobustConnection
from prometheus_client import CollectorRegistry, generate_latest

from ordergate.app.messaging import Messaging
from ordergate.app.observability.alerts import Alert, AlertRouter, AlertSink, LogSink, WebhookSink
from ordergate.app.observability.health import (
    DependencyState,
    HealthChecks,
    HealthMonitor,
    Probe,
    ProbeCall,
)
from ordergate.app.observability.metrics import (
    EngineMetrics,
    MetricsBook,
    MetricsCollector,
    PartitionLevels,
    SignalMetrics,
)
from ordergate.config.settings import Settings
from ordergate.domain.values import TradingState
from ordergate.engine.engine import Engine
from ordergate.store.postgres import PostgresStore


class _Store(Protocol):
    @property
    def head_seq(self) -> int: ...


class ObservedPartition(Protocol):
    """What the metrics and the venue probe read of a running partition
    (`app.partition.Partition`, which attaches itself; the dependency points that way)."""

    @property
    def number(self) -> int: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def store(self) -> _Store: ...

    @property
    def messaging(self) -> Messaging | None: ...


__all__ = ["Alert", "DependencyState", "Observability", "broker_probe"]


class Observability:
    def __init__(self, settings: Settings, node: str) -> None:
        self.book = MetricsBook()
        sinks: list[AlertSink] = []
        if settings.alert_log:
            sinks.append(LogSink())
        if settings.alert_webhook_url is not None:
            sinks.append(
                WebhookSink(
                    str(settings.alert_webhook_url),
                    timeout=settings.alert_webhook_timeout_seconds,
                    max_attempts=settings.alert_webhook_max_attempts,
                    backoff=settings.alert_webhook_backoff_seconds,
                    on_outcome=self._delivered,
                )
            )
        self.alerts = AlertRouter(
            sinks,
            settings.alert_runbook_url,
            node,
            dedupe_seconds=settings.alert_dedupe_seconds,
            rate_per_minute=settings.alert_rate_per_minute,
            counts=self.book.alerts,
        )
        self.checks = HealthChecks([], settings.health_probe_timeout_seconds)
        self.monitor = HealthMonitor(
            self.checks, settings.health_interval_seconds, self.alerts.dependency_down
        )
        self.partitions: dict[int, ObservedPartition] = {}
        # The application's own registry: two applications in one process (tests, a
        # node beside a tool) never see each other's metrics.
        self.registry = CollectorRegistry()
        self.registry.register(MetricsCollector(self.book, self._levels, self._up))

    # --- partitions ---------------------------------------------------------------------------

    def engine_observer(self, venue: str, partition: int) -> EngineMetrics:
        return EngineMetrics(self.book, venue, partition, self.alerts)

    def signal_observer(self) -> SignalMetrics:
        return SignalMetrics(self.book)

    def attach(self, partition: ObservedPartition) -> None:
        self.partitions[partition.number] = partition

    def detach(self, partition: ObservedPartition) -> None:
        if self.partitions.get(partition.number) is partition:
            del self.partitions[partition.number]

    # --- health -----------------------------------------------------------------------------

    def add_probe(self, name: str, call: ProbeCall) -> None:
        self.checks.probes.append(Probe(name, call))

    async def venue_probe(self) -> str | None:
        problems = [
            f"partition {n}: {problem}"
            for n, p in sorted(self.partitions.items())
            if (problem := p.engine.venue_problem()) is not None
        ]
        return "; ".join(problems) or None

    async def check(self) -> list[DependencyState]:
        """Probe every dependency now."""
        return await self.checks.run()

    # --- metrics ------------------------------------------------------------------------------

    def render(self) -> bytes:
        """The metrics in Prometheus' text format."""
        return generate_latest(self.registry)

    def _levels(self) -> Iterator[PartitionLevels]:
        for partition in list(self.partitions.values()):
            yield _Levels(partition)

    def _up(self) -> dict[str, bool]:
        return dict(self.checks.last)

    def _delivered(self, alert: Alert, outcome: str) -> None:
        key = (alert.kind, outcome)
        self.book.alerts[key] = self.book.alerts.get(key, 0) + 1

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        self.monitor.start()

    async def stop_monitor(self) -> None:
        await self.monitor.stop()

    async def aclose(self) -> None:
        await self.monitor.stop()
        await self.alerts.aclose()


class _Levels:
    """A partition as the metrics read it at scrape time."""

    def __init__(self, partition: ObservedPartition) -> None:
        self._partition = partition

    @property
    def number(self) -> int:
        return self._partition.number

    @property
    def venue(self) -> str:
        return self._partition.engine.venue_name

    def open_orders_by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for order in self._partition.engine.state.open_orders.values():
            counts[order.status.value] = counts.get(order.status.value, 0) + 1
        return counts

    def events_since_checkpoint(self) -> int:
        return self._partition.engine.checkpoint_lag[0]

    def dirty_instruments(self) -> int:
        return len(self._partition.engine.gates.dirty)

    def closed_gates(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for gate in self._partition.engine.gates.trading_states:
            if gate.state is not TradingState.ACTIVE:
                counts[gate.state.value] = counts.get(gate.state.value, 0) + 1
        return counts

    def relay_lag(self) -> int | None:
        messaging = self._partition.messaging
        if messaging is None:
            return None
        return max(0, self._partition.store.head_seq - messaging.relay.published_seq)

    def lease_epoch(self) -> int | None:
        store = self._partition.store
        return store.epoch if isinstance(store, PostgresStore) else None


async def broker_probe(connection: AbstractRobustConnection | None) -> str | None:
    """The broker connection is open and connected (not waiting to reconnect)."""
    if connection is None:
        return "not connected"
    if connection.is_closed:
        return "the connection is closed"
    if not connection.connected.is_set():
        return "the connection was lost; reconnecting"
    return None
