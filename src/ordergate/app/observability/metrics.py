"""ordergate's metrics, counted cheaply on the hot path and exported at scrape time.

The engine reports each journal append with its events (`EngineObserver`); counters are
derived from those events (orders by status, denials, mismatches, fills), so what the
metrics say is what the journal says. The moment's figures (append and venue latencies,
reconnects, when a placement began) come through the same observer. Signal consumers
report how each message settled (`SignalObserver`). What is a level rather than a count
(open orders, dirty instruments, open gates, relay lag, lease epochs, events since the
checkpoint) is read from the running partitions when Prometheus scrapes.

Counting is plain integer arithmetic on dictionaries keyed by label tuples: everything
runs on the one event loop, so no lock is needed, and no string is built per event.
`prometheus_client`'s own `Counter` takes a lock on every `inc`; it is used here only to
render (`MetricsCollector` on a `CollectorRegistry` of the application's own, never the
global one, so two applications in one process keep apart).

Labels are bounded: statuses, reason codes, request kinds, outcomes, error classes, diff
kinds, partitions and the venue's name; never an order id, account or symbol.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Final, Protocol, TypeVar

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from ordergate.domain.events import (
    AlertRaised,
    Event,
    InstrumentMarkedDirty,
    OrderAccepted,
    OrderApproved,
    OrderCanceled,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderPlanned,
    OrderRejected,
    OrderStatusUnknown,
    OrderSubmitted,
    ReconciliationRecorded,
    SignalReceived,
    TradingStateChanged,
)
from ordergate.domain.values import OrderStatus, TradingState
from ordergate.engine.reconcile.diffs import DiffKind

K = TypeVar("K")

LATENCY_BUCKETS: Final = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
BATCH_BUCKETS: Final = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 4096.0)
# Placements whose venue answer was journaled before `order_placed` was heard, kept until
# it is (or evicted oldest first: placements not made through `Engine.place`, a signal's).
EARLY_ANSWERS_KEPT: Final = 4096

# The status an order enters with each event that names one status.
STATUS_OF: Final[dict[type, str]] = {
    OrderInitialized: OrderStatus.NEW.value,
    OrderDenied: OrderStatus.DENIED.value,
    OrderPlanned: OrderStatus.PLANNED.value,
    OrderApproved: OrderStatus.PENDING_SUBMIT.value,
    OrderSubmitted: OrderStatus.SUBMITTED.value,
    OrderAccepted: OrderStatus.ACCEPTED.value,
    OrderRejected: OrderStatus.REJECTED.value,
    OrderCanceled: OrderStatus.CANCELED.value,
    OrderExpired: OrderStatus.EXPIRED.value,
    OrderStatusUnknown: OrderStatus.UNKNOWN.value,
}
# The venue's first answer to a placement: what "acknowledged" means for its latency.
VENUE_ANSWERS: Final = frozenset({OrderSubmitted, OrderAccepted, OrderRejected, OrderFilled})
# Events after which no venue answer to the placement is coming (or none was asked).
NO_ANSWER_COMING: Final = frozenset(
    {OrderDenied, OrderPlanned, OrderCanceled, OrderExpired, OrderStatusUnknown}
)
DIFF_KINDS: Final = frozenset(k.value for k in DiffKind)
HISTOGRAM_NAMES: Final = {
    "ordergate_place_journaled_seconds": "Placement received to journaled (Engine.place).",
    "ordergate_place_acknowledged_seconds": "Placement received to the venue's first answer "
    "journaled (submitted, accepted, rejected or filled).",
    "ordergate_journal_commit_seconds": "One journal append (group commit).",
    "ordergate_journal_batch_events": "Events per journal append.",
}


class Histogram:
    """Cumulative buckets kept as plain counts: `observe` is a bisect and two additions."""

    __slots__ = ("bounds", "count", "counts", "total")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)  # the last: above every bound
        self.count = 0
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.count += 1
        self.total += value

    def buckets(self) -> list[tuple[str, float]]:
        out: list[tuple[str, float]] = []
        running = 0
        for bound, count in zip(self.bounds, self.counts, strict=False):
            running += count
            out.append((repr(float(bound)), running))
        out.append(("+Inf", self.count))
        return out


class MetricsBook:
    """Every counter of one application, shared by all its partitions (a partition that
    moves to another node takes nothing with it: the counts are this process's)."""

    def __init__(self) -> None:
        self.orders: dict[tuple[str, str], int] = {}
        self.fills: dict[str, int] = {}
        self.denials: dict[str, int] = {}
        self.place_journaled = Histogram(LATENCY_BUCKETS)
        self.place_acknowledged = Histogram(LATENCY_BUCKETS)
        self.commit_seconds = Histogram(LATENCY_BUCKETS)
        self.batch_events = Histogram(BATCH_BUCKETS)
        self.venue_requests: dict[tuple[str, str, str, str], int] = {}
        self.reconnects: dict[str, int] = {}
        self.mismatches: dict[str, int] = {}
        self.signals_consumed = 0
        self.signals_redelivered = 0
        self.signals_dead_lettered: dict[str, int] = {}
        self.signals_journaled: dict[str, int] = {}
        self.alerts: dict[tuple[str, str], int] = {}


def add(counter: dict[K, int], key: K) -> None:
    """Add one to `counter[key]`."""
    counter[key] = counter.get(key, 0) + 1


class AlertSource(Protocol):
    """Where a partition's alert-worthy events go (`alerts.AlertRouter`)."""

    def from_event(self, partition: int, seq: int, event: Event) -> None: ...


class EngineMetrics:
    """One engine's observer: counts its journaled events into the shared book, times its
    appends and venue requests, and hands alert-worthy events on."""

    def __init__(
        self, book: MetricsBook, venue: str, partition: int, alerts: AlertSource | None
    ) -> None:
        self._book = book
        self._venue = venue
        self._partition = partition
        self._alerts = alerts
        self._awaiting_answer: dict[str, float] = {}
        self._answered_early: dict[str, float] = {}
        counted: dict[type, Callable[[Event], None]] = dict.fromkeys(STATUS_OF, self._status)
        counted.update(
            {
                OrderDenied: self._denied,
                OrderFilled: self._filled,
                ReconciliationRecorded: self._reconciled,
                SignalReceived: self._signal,
            }
        )
        self._counted = counted
        self._alerting = frozenset({AlertRaised, TradingStateChanged, InstrumentMarkedDirty})

    # --- EngineObserver -------------------------------------------------------------------

    def journal_committed(self, last_seq: int, events: Sequence[Event], seconds: float) -> None:
        book = self._book
        book.commit_seconds.observe(seconds)
        book.batch_events.observe(len(events))
        counted = self._counted
        awaiting = self._awaiting_answer
        now = 0.0
        first = last_seq - len(events) + 1
        for i, event in enumerate(events):
            kind = type(event)
            count = counted.get(kind)
            if count is not None:
                count(event)
            if kind in VENUE_ANSWERS:
                order_id: str = event.order_id  # type: ignore[union-attr]
                started = awaiting.pop(order_id, None)
                now = now or time.perf_counter()
                if started is not None:
                    book.place_acknowledged.observe(now - started)
                else:  # the placement has not returned yet (or was not `Engine.place`)
                    self._answer_early(order_id, now)
            elif kind in NO_ANSWER_COMING and awaiting:
                awaiting.pop(event.order_id, None)  # type: ignore[union-attr]
            elif kind in self._alerting and self._alerts is not None:
                self._alerts.from_event(self._partition, first + i, event)

    def venue_request(
        self, request: str, outcome: str, error_class: str | None, seconds: float
    ) -> None:
        add(self._book.venue_requests, (self._venue, request, outcome, error_class or "none"))

    def venue_reconnected(self) -> None:
        add(self._book.reconnects, self._venue)

    def order_placed(self, order_id: str, started: float) -> None:
        now = time.perf_counter()
        book = self._book
        book.place_journaled.observe(now - started)
        answered = self._answered_early.pop(order_id, None)
        if answered is not None:
            book.place_acknowledged.observe(answered - started)
        else:
            self._awaiting_answer[order_id] = started

    # --- counting ---------------------------------------------------------------------------

    def _answer_early(self, order_id: str, now: float) -> None:
        early = self._answered_early
        if order_id in early:
            return
        if len(early) >= EARLY_ANSWERS_KEPT:
            del early[next(iter(early))]
        early[order_id] = now

    def _status(self, event: Event) -> None:
        add(self._book.orders, (STATUS_OF[type(event)], self._venue))

    def _denied(self, event: Event) -> None:
        assert isinstance(event, OrderDenied)
        add(self._book.orders, (OrderStatus.DENIED.value, self._venue))
        add(self._book.denials, event.reason_code)

    def _filled(self, event: Event) -> None:
        add(self._book.fills, self._venue)

    def _reconciled(self, event: Event) -> None:
        assert isinstance(event, ReconciliationRecorded)
        for line in event.diffs:
            kind = line.split(" ", 1)[0]
            add(self._book.mismatches, kind if kind in DIFF_KINDS else "OTHER")

    def _signal(self, event: Event) -> None:
        assert isinstance(event, SignalReceived)
        add(self._book.signals_journaled, event.reason_code or "PLACED")


class SignalMetrics:
    """A signal consumer's observer (`bus.signals_in.SignalObserver`)."""

    def __init__(self, book: MetricsBook) -> None:
        self._book = book

    def signal_settled(self, outcome: str, reason_code: str | None, redelivered: bool) -> None:
        book = self._book
        if outcome != "requeued":
            book.signals_consumed += 1
        if redelivered:
            book.signals_redelivered += 1
        if outcome == "dead_lettered":
            add(book.signals_dead_lettered, reason_code or "UNKNOWN")


class PartitionLevels(Protocol):
    """What a running partition shows at scrape time."""

    @property
    def number(self) -> int: ...

    @property
    def venue(self) -> str: ...

    def open_orders_by_status(self) -> dict[str, int]: ...

    def events_since_checkpoint(self) -> int: ...

    def dirty_instruments(self) -> int: ...

    def closed_gates(self) -> dict[str, int]:
        """Trading states set to something other than ACTIVE, by state."""
        ...

    def relay_lag(self) -> int | None:
        """Journaled events the relay has not yet had confirmed (None: no relay)."""
        ...

    def lease_epoch(self) -> int | None:
        """The partition's epoch, where a lease fences it (None: a single process)."""
        ...


CLOSED_STATES: Final = tuple(s.value for s in TradingState if s is not TradingState.ACTIVE)


class MetricsCollector(Collector):
    """Renders the book and the running partitions' levels for `prometheus_client`."""

    def __init__(
        self,
        book: MetricsBook,
        partitions: Callable[[], Iterable[PartitionLevels]],
        dependencies: Callable[[], dict[str, bool]],
    ) -> None:
        self._book = book
        self._partitions = partitions
        self._dependencies = dependencies

    def collect(self) -> Iterator[Metric]:
        yield from self._counters()
        yield from self._histograms()
        yield from self._levels()

    def _counters(self) -> Iterator[Metric]:
        book = self._book
        yield _counter(
            "ordergate_orders",
            "Orders that entered each status, from the journal.",
            ["status", "venue"],
            book.orders,
        )
        yield _counter("ordergate_fills", "Executions journaled.", ["venue"], _keyed(book.fills))
        yield _counter(
            "ordergate_order_denials",
            "Orders denied by pre-trade risk, by reason code.",
            ["reason_code"],
            _keyed(book.denials),
        )
        yield _counter(
            "ordergate_venue_requests",
            "Venue requests by outcome and the class of error they ended in.",
            ["venue", "request", "outcome", "error_class"],
            book.venue_requests,
        )
        yield _counter(
            "ordergate_venue_reconnects",
            "The venue's stream reconnected (websocket dropped and came back).",
            ["venue"],
            _keyed(book.reconnects),
        )
        yield _counter(
            "ordergate_reconciliation_mismatches",
            "Differences reconciliation found between the venue and the journal, by kind.",
            ["kind"],
            _keyed(book.mismatches),
        )
        consumed = CounterMetricFamily(
            "ordergate_signals_consumed", "Signal messages taken off the queue and settled."
        )
        consumed.add_metric([], book.signals_consumed)
        yield consumed
        redelivered = CounterMetricFamily(
            "ordergate_signals_redelivered", "Signal messages the broker delivered again."
        )
        redelivered.add_metric([], book.signals_redelivered)
        yield redelivered
        yield _counter(
            "ordergate_signals_dead_lettered",
            "Signal messages copied to the dead-letter queue, by reason code.",
            ["reason_code"],
            _keyed(book.signals_dead_lettered),
        )
        yield _counter(
            "ordergate_signals_journaled",
            "Signals journaled, by the reason they placed nothing (PLACED: they did).",
            ["outcome"],
            _keyed(book.signals_journaled),
        )
        yield _counter(
            "ordergate_alerts",
            "Alerts raised, by kind and what became of them.",
            ["kind", "outcome"],
            book.alerts,
        )

    def _histograms(self) -> Iterator[Metric]:
        book = self._book
        observed = (
            book.place_journaled,
            book.place_acknowledged,
            book.commit_seconds,
            book.batch_events,
        )
        for (name, documentation), histogram in zip(HISTOGRAM_NAMES.items(), observed, strict=True):
            family = HistogramMetricFamily(name, documentation)
            family.add_metric([], histogram.buckets(), histogram.total)
            yield family

    def _levels(self) -> Iterator[Metric]:
        open_orders = GaugeMetricFamily(
            "ordergate_open_orders", "Open orders now, by status.", labels=["status", "venue"]
        )
        since = GaugeMetricFamily(
            "ordergate_events_since_checkpoint",
            "Events journaled since the newest checkpoint.",
            labels=["partition"],
        )
        dirty = GaugeMetricFamily(
            "ordergate_dirty_instruments",
            "Instruments (or accounts) marked dirty: new risk blocked until reconciled.",
            labels=["partition"],
        )
        gates = GaugeMetricFamily(
            "ordergate_open_gates",
            "Trading states set to REDUCING or HALTED (a gate open on the kill switch).",
            labels=["partition", "state"],
        )
        lag = GaugeMetricFamily(
            "ordergate_relay_lag_events",
            "Journaled events not yet confirmed by the broker (the outbox relay's lag).",
            labels=["partition"],
        )
        epoch = GaugeMetricFamily(
            "ordergate_lease_epoch",
            "The partition's epoch: it rises with every takeover.",
            labels=["partition"],
        )
        for levels in self._partitions():
            partition = str(levels.number)
            for status, count in sorted(levels.open_orders_by_status().items()):
                open_orders.add_metric([status, levels.venue], count)
            since.add_metric([partition], levels.events_since_checkpoint())
            dirty.add_metric([partition], levels.dirty_instruments())
            closed = levels.closed_gates()
            for state in CLOSED_STATES:
                gates.add_metric([partition, state], closed.get(state, 0))
            relay_lag = levels.relay_lag()
            if relay_lag is not None:
                lag.add_metric([partition], relay_lag)
            lease_epoch = levels.lease_epoch()
            if lease_epoch is not None:
                epoch.add_metric([partition], lease_epoch)
        up = GaugeMetricFamily(
            "ordergate_dependency_up",
            "Whether the last health check found the dependency working (1) or not (0).",
            labels=["dependency"],
        )
        for name, ok in sorted(self._dependencies().items()):
            up.add_metric([name], 1.0 if ok else 0.0)
        yield from (open_orders, since, dirty, gates, lag, epoch, up)


def _keyed(counter: dict[str, int]) -> dict[tuple[str, ...], int]:
    return {(key,): value for key, value in counter.items()}


def _counter(
    name: str,
    documentation: str,
    labels: list[str],
    values: dict[tuple[str, str], int]
    | dict[tuple[str, ...], int]
    | dict[tuple[str, str, str, str], int],
) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=labels)
    for key, value in sorted(values.items()):
        family.add_metric(list(key), value)
    return family
