"""The engine's observer, with ordergate's metrics and alerts behind it: venue requests
by outcome and error class, the venue's reconnects, and alerts derived from the journaled
dirty marks, over the fake venue."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from engine_support import Sessions, limit_order

from ordergate.app.observability.alerts import Alert, AlertRouter
from ordergate.app.observability.metrics import EngineMetrics, MetricsBook
from ordergate.domain.errors import AmbiguousVenueError, RejectedByVenue
from ordergate.domain.values import OrderStatus
from ordergate.engine.venue_reports import VenueReconnected


class ListSink:
    name = "list"

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def deliver(self, alert: Alert) -> None:
        self.alerts.append(alert)

    async def aclose(self) -> None:
        return None


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


async def test_observer_venue_errors_counted_by_class_and_reconnects(sessions: Sessions) -> None:
    book = MetricsBook()
    sink = ListSink()
    router = AlertRouter([sink], "runbook.md", "test-node", rate_per_minute=100)
    h = await sessions.start(observer=EngineMetrics(book, "fake", 0, router))

    h.venue.fail_next.append(RejectedByVenue("no", code="INSUFFICIENT_FUNDS"))
    refused = await h.place(limit_order(price="48000"))
    h.venue.fail_next.append(AmbiguousVenueError("timed out", code="VENUE_TIMEOUT"))
    ambiguous = await h.place(limit_order(price="48100"))
    await h.settle()
    h.venue.push(VenueReconnected("websocket dropped", 0))
    await h.settle()

    assert h.engine.order(refused.order_id).status is OrderStatus.REJECTED  # type: ignore[union-attr]
    assert book.venue_requests[("fake", "submit", "refused", "rejected")] == 1
    assert book.venue_requests[("fake", "submit", "ambiguous", "ambiguous")] == 1
    assert book.reconnects == {"fake": 1}
    # The ambiguous one went UNKNOWN, and the venue, asked, had never seen it: rejected.
    assert h.engine.order(ambiguous.order_id).status is OrderStatus.REJECTED  # type: ignore[union-attr]
    assert book.orders[("UNKNOWN", "fake")] == 1
    assert book.orders[("REJECTED", "fake")] == 2
    kinds = [a.kind for a in sink.alerts]
    assert "DIRTY" in kinds
    assert all(a.runbook.startswith("runbook.md#") for a in sink.alerts)


def test_alert_router_same_subject_within_window_delivered_once() -> None:
    now = [0.0]
    sink = ListSink()
    router = AlertRouter([sink], "rb", "n", dedupe_seconds=60, clock=lambda: now[0])

    first = router.raise_alert("VENUE_DOWN", "venue", "venue is down", "reset")
    again = router.raise_alert("VENUE_DOWN", "venue", "venue is down", "reset")
    now[0] = 61.0
    later = router.raise_alert("VENUE_DOWN", "venue", "venue is down", "reset")

    assert first is not None
    assert later is not None
    assert again is None
    assert first.delivery_id != later.delivery_id
    assert len(sink.alerts) == 2
    assert router.counts[("VENUE_DOWN", "deduplicated")] == 1
    assert first.runbook == "rb#venue-down"


def test_alert_router_over_rate_held_back_per_kind() -> None:
    now = [0.0]
    sink = ListSink()
    router = AlertRouter([sink], "rb", "n", rate_per_minute=2, clock=lambda: now[0])

    for i in range(5):
        router.raise_alert("DIRTY", f"acct/{i}", "dirty", "gap")
    router.raise_alert("HALTED", "acct/x", "halted", "operator")
    now[0] = 30.0  # half a minute refills one token
    router.raise_alert("DIRTY", "acct/9", "dirty", "gap")

    assert [a.kind for a in sink.alerts] == ["DIRTY", "DIRTY", "HALTED", "DIRTY"]
    assert router.counts[("DIRTY", "rate_limited")] == 3
