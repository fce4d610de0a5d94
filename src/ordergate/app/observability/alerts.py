"""Alerts that reach a person: derived from journaled events and the node's own state,
de-duplicated, rate-limited, and delivered to the configured sinks with a runbook link.

Where an alert comes from:

    kind               source
    UNREALIZED_LOSS    AlertRaised("UNREALIZED_LOSS") from the engine's loss watch
    RECONCILIATION     AlertRaised("RECONCILIATION") from reconciliation's remedies
    HALTED             TradingStateChanged to HALTED (the kill switch, or a remedy)
    DIRTY              InstrumentMarkedDirty (an ambiguous request, a reconnect, a gap...)
    LEASE_LOST         the node's lease on a partition lapsed (nothing can be journaled)
    VENUE_DOWN, JOURNAL_DOWN, BROKER_DOWN
                       the health monitor found the dependency failing

A HALT or a dirty mark is already a journaled event of its own; an alert is derived from
it rather than journaled a second time. A lost lease or a dependency that is down cannot
be journaled at all (the journal may be what is down), so those come from the process.

De-duplication: the same kind about the same subject (account, symbol, partition or
dependency) within `dedupe_seconds` is delivered once. Rate limit: at most
`rate_per_minute` alerts of one kind a minute (a token bucket), so one mass event (every
instrument dirty after a reconnect) pages once or a few times, not a hundred; what is
held back is logged and counted (`ordergate_alerts_total{outcome=...}`).

Every alert carries a `delivery_id`, fixed when it is raised: a webhook that answered a
500 is sent the same id again, so a receiver keyed on it sees one alert. Derived alerts
take it from the journal (partition and sequence), so even two processes deriving the
same event name it alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Protocol

import aiohttp
import msgspec
import structlog

from ordergate.domain.events import (
    AlertRaised,
    Event,
    InstrumentMarkedDirty,
    TradingStateChanged,
)
from ordergate.domain.values import TradingState

log = structlog.get_logger("ordergate.alerts")

# Alert kind → the heading of its section in docs/runbook.md (GitHub's anchor of it).
RUNBOOK_SECTIONS: Final[dict[str, str]] = {
    "UNREALIZED_LOSS": "unrealized-loss",
    "RECONCILIATION": "reconciliation-mismatch",
    "HALTED": "trading-halted",
    "DIRTY": "instrument-dirty",
    "LEASE_LOST": "partition-lease-lost",
    "VENUE_DOWN": "venue-down",
    "JOURNAL_DOWN": "journal-store-down",
    "BROKER_DOWN": "broker-down",
}
OTHER_SECTION: Final = "other-alerts"
DEPENDENCY_ALERTS: Final = {
    "journal": "JOURNAL_DOWN",
    "broker": "BROKER_DOWN",
    "venue": "VENUE_DOWN",
}


class Alert(msgspec.Struct, frozen=True):
    """What a sink receives (a webhook: this, as JSON)."""

    delivery_id: str
    kind: str
    subject: str
    summary: str
    detail: str
    runbook: str
    account: str | None = None
    symbol: str | None = None
    partition: int | None = None
    node: str | None = None
    ts: int = 0


class AlertSink(Protocol):
    """Where alerts go. `deliver` must not block the caller: a sink that does I/O queues."""

    @property
    def name(self) -> str: ...

    def deliver(self, alert: Alert) -> None: ...

    async def aclose(self) -> None:
        """Deliver what is queued (within the sink's own bounds), then stop."""
        ...


@dataclass
class _Bucket:
    tokens: float
    refilled: float


@dataclass
class AlertRouter:
    """Turns events and conditions into alerts and hands them to the sinks, once each."""

    sinks: list[AlertSink]
    runbook_url: str
    node: str
    dedupe_seconds: float = 300.0
    rate_per_minute: int = 10
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic
    _seen: dict[tuple[str, str], float] = field(default_factory=dict)
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def runbook(self, kind: str) -> str:
        return f"{self.runbook_url}#{RUNBOOK_SECTIONS.get(kind, OTHER_SECTION)}"

    # --- sources ----------------------------------------------------------------------------

    def from_event(self, partition: int, seq: int, event: Event) -> None:
        """An alert from a journaled event, if it calls for one."""
        if isinstance(event, AlertRaised):
            kind, summary = event.kind, _SUMMARY.get(event.kind, f"alert {event.kind}")
            account, symbol, detail = event.account, event.symbol, event.detail
        elif isinstance(event, TradingStateChanged):
            if event.state is not TradingState.HALTED:
                return
            kind, summary = "HALTED", f"trading halted by {event.actor}"
            account, symbol, detail = event.account, event.symbol, event.reason
        elif isinstance(event, InstrumentMarkedDirty):
            kind, summary = "DIRTY", f"position in doubt ({event.cause.value})"
            account, symbol, detail = event.account, event.symbol, event.detail
        else:
            return
        self.raise_alert(
            kind,
            f"{account or '*'}/{symbol or '*'}",
            summary,
            detail,
            delivery_id=_digest(f"{kind}:p{partition}:{seq}"),
            account=account,
            symbol=symbol,
            partition=partition,
            ts=event.ts,
        )

    def lease_lost(self, partition: int, reason: str) -> None:
        self.raise_alert(
            "LEASE_LOST",
            f"partition {partition}",
            f"lease on partition {partition} lost; its engine stopped",
            reason,
            partition=partition,
        )

    def dependency_down(self, dependency: str, reason: str) -> None:
        kind = DEPENDENCY_ALERTS.get(dependency, f"{dependency.upper()}_DOWN")
        self.raise_alert(kind, dependency, f"{dependency} is down", reason)

    # --- de-duplication, rate limit, delivery -------------------------------------------------

    def raise_alert(
        self,
        kind: str,
        subject: str,
        summary: str,
        detail: str,
        *,
        delivery_id: str | None = None,
        account: str | None = None,
        symbol: str | None = None,
        partition: int | None = None,
        ts: int | None = None,
    ) -> Alert | None:
        """Deliver an alert unless one of its kind about its subject went out within the
        de-duplication window, or its kind is over its rate; return it if delivered."""
        now = self.clock()
        key = (kind, subject)
        last = self._seen.get(key)
        if last is not None and now - last < self.dedupe_seconds:
            self._count(kind, "deduplicated")
            return None
        if not self._take_token(kind, now):
            self._count(kind, "rate_limited")
            log.warning("alert held back: over its rate", kind=kind, subject=subject)
            return None
        self._seen[key] = now
        if len(self._seen) > 10_000:  # forget what is past its window
            self._seen = {k: t for k, t in self._seen.items() if now - t < self.dedupe_seconds}
        wall = time.time_ns()
        alert = Alert(
            delivery_id=delivery_id or _digest(f"{kind}:{subject}:{self.node}:{wall}"),
            kind=kind,
            subject=subject,
            summary=summary,
            detail=detail,
            runbook=self.runbook(kind),
            account=account,
            symbol=symbol,
            partition=partition,
            node=self.node,
            ts=wall if ts is None else ts,
        )
        self._count(kind, "raised")
        for sink in self.sinks:
            sink.deliver(alert)
        return alert

    def _take_token(self, kind: str, now: float) -> bool:
        capacity = float(self.rate_per_minute)
        bucket = self._buckets.get(kind)
        if bucket is None:
            bucket = self._buckets[kind] = _Bucket(capacity, now)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.refilled) * capacity / 60.0)
        bucket.refilled = now
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True

    def _count(self, kind: str, outcome: str) -> None:
        key = (kind, outcome)
        self.counts[key] = self.counts.get(key, 0) + 1

    async def aclose(self) -> None:
        for sink in self.sinks:
            await sink.aclose()


_SUMMARY: Final = {
    "UNREALIZED_LOSS": "unrealized loss past its warning threshold",
    "RECONCILIATION": "the venue and the journal disagree",
}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class LogSink:
    """Each alert as one structured log line at WARNING (ERROR for the kinds that stop
    trading), the sink that is always there."""

    name = "log"
    _SEVERE: Final = frozenset({"HALTED", "LEASE_LOST", "JOURNAL_DOWN"})

    def deliver(self, alert: Alert) -> None:
        fields = msgspec.structs.asdict(alert)
        if alert.kind in self._SEVERE:
            log.error("alert", **fields)
        else:
            log.warning("alert", **fields)

    async def aclose(self) -> None:
        return None


DELIVERY_ID_HEADER: Final = "X-Ordergate-Delivery-Id"


class WebhookSink:
    """JSON POST of each alert to one URL, with retries and exponential backoff.

    A queue and one sending task: `deliver` never waits on the network. An answer in 2xx
    delivers the alert; a 5xx, a 429, a timeout or a lost connection is tried again after
    `backoff * 2**(attempt-1)` seconds, up to `max_attempts`; any other 4xx is final (the
    receiver refuses this alert; sending it again will not change that). Each attempt
    carries the alert's `delivery_id` in the body and in `X-Ordergate-Delivery-Id` and
    `Idempotency-Key`, so a receiver that took an attempt whose answer was lost can tell
    the retry is the same alert.
    """

    name = "webhook"

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5.0,
        max_attempts: int = 5,
        backoff: float = 0.5,
        queue_limit: int = 1000,
        on_outcome: Callable[[Alert, str], None] | None = None,
    ) -> None:
        self._url = url
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._queue: asyncio.Queue[Alert] = asyncio.Queue(queue_limit)
        self._on_outcome = on_outcome
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    def deliver(self, alert: Alert) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="alert-webhook")
        try:
            self._queue.put_nowait(alert)
        except asyncio.QueueFull:
            log.error("alert webhook queue full; alert dropped", delivery_id=alert.delivery_id)
            self._outcome(alert, "dropped")

    async def aclose(self, drain_seconds: float = 5.0) -> None:
        task, self._task = self._task, None
        if task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), drain_seconds)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        while True:
            alert = await self._queue.get()
            try:
                self._outcome(alert, await self._send(alert))
            finally:
                self._queue.task_done()

    async def _send(self, alert: Alert) -> str:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        body = msgspec.json.encode(alert)
        headers = {
            "Content-Type": "application/json",
            DELIVERY_ID_HEADER: alert.delivery_id,
            "Idempotency-Key": alert.delivery_id,
        }
        for attempt in range(1, self._max_attempts + 1):
            try:
                async with self._session.post(self._url, data=body, headers=headers) as answer:
                    status = answer.status
                    await answer.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                reason = repr(exc)
            else:
                if 200 <= status < 300:
                    return "delivered"
                if status != 429 and 400 <= status < 500:
                    log.error(
                        "alert webhook refused the alert",
                        status=status,
                        delivery_id=alert.delivery_id,
                    )
                    return "refused"
                reason = f"HTTP {status}"
            log.warning(
                "alert webhook attempt failed",
                attempt=attempt,
                of=self._max_attempts,
                reason=reason,
                delivery_id=alert.delivery_id,
            )
            if attempt < self._max_attempts:
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
        log.error("alert webhook gave up", delivery_id=alert.delivery_id, kind=alert.kind)
        return "failed"

    def _outcome(self, alert: Alert, outcome: str) -> None:
        if self._on_outcome is not None:
            self._on_outcome(alert, outcome)
