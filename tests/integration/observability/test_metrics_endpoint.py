"""/metrics, read by `prometheus_client`'s own parser: each metric is there and moves when
its event happens, on a running app (in-memory journal, the paper venue)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.integration.api.support import Api, make_settings, running, write_market

from ordergate.domain.values import OrderType, Side, TimeInForce
from ordergate.engine.venue_reports import VenueOrderRequest

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]

# Every family /metrics must always show (a family with no sample yet is still declared).
FAMILIES = {
    "ordergate_orders",
    "ordergate_fills",
    "ordergate_order_denials",
    "ordergate_place_journaled_seconds",
    "ordergate_place_acknowledged_seconds",
    "ordergate_journal_commit_seconds",
    "ordergate_journal_batch_events",
    "ordergate_events_since_checkpoint",
    "ordergate_venue_requests",
    "ordergate_venue_reconnects",
    "ordergate_dirty_instruments",
    "ordergate_open_gates",
    "ordergate_open_orders",
    "ordergate_reconciliation_mismatches",
    "ordergate_signals_consumed",
    "ordergate_signals_dead_lettered",
    "ordergate_signals_redelivered",
    "ordergate_signals_journaled",
    "ordergate_relay_lag_events",
    "ordergate_lease_epoch",
    "ordergate_alerts",
    "ordergate_dependency_up",
}


@pytest.fixture
async def api(isolated_environment: Path) -> AsyncIterator[Api]:
    market = isolated_environment / "market"
    market.mkdir()
    settings = make_settings(
        write_market(market),
        reconcile={"order_unknown": "ALERT"},
        reconcile_interval_seconds=None,
    )
    async with running(settings) as client:
        yield client


async def scrape(api: Api) -> tuple[set[str], Samples]:
    response = await api.http.get("/metrics", headers={"X-API-Key": ""})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    families = list(text_string_to_metric_families(response.text))
    samples: Samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples
    }
    return {f.name for f in families}, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_fresh_app_every_family_present_without_a_key(api: Api) -> None:
    names, samples = await scrape(api)

    assert names >= FAMILIES
    assert value(samples, "ordergate_events_since_checkpoint", partition="0") > 0
    assert value(samples, "ordergate_open_gates", partition="0", state="HALTED") == 0


async def test_metrics_orders_placed_counters_and_latencies_move(api: Api) -> None:
    _, before = await scrape(api)

    await api.place(symbol="EURUSD", side="BUY", qty="0.10")
    await api.place(symbol="EURUSD", side="BUY", qty="0.10", type="LIMIT", price="1.09000")
    denied = await api.place(symbol="EURUSD", side="BUY", qty="0.015")
    await api.settle()
    _, after = await scrape(api)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert denied["status"] == "DENIED"
    assert moved("ordergate_orders_total", status="NEW", venue="paper") == 3
    assert moved("ordergate_orders_total", status="DENIED", venue="paper") == 1
    assert moved("ordergate_orders_total", status="ACCEPTED", venue="paper") >= 1
    assert moved("ordergate_fills_total", venue="paper") == 1
    assert moved("ordergate_order_denials_total", reason_code=denied["reason_code"]) == 1
    assert moved("ordergate_place_journaled_seconds_count") == 3
    # The two orders that reached the venue; the denied one never did.
    assert moved("ordergate_place_acknowledged_seconds_count") == 2
    assert moved("ordergate_journal_commit_seconds_count") >= 1
    assert moved("ordergate_journal_batch_events_sum") >= 6
    assert (
        moved(
            "ordergate_venue_requests_total",
            venue="paper",
            request="submit",
            outcome="answered",
            error_class="none",
        )
        == 2
    )
    assert value(after, "ordergate_open_orders", status="ACCEPTED", venue="paper") == 1
    assert moved("ordergate_events_since_checkpoint", partition="0") > 0


async def test_metrics_halt_opens_a_gate_and_counts_its_alert(api: Api) -> None:
    response = await api.http.post(
        "/v1/admin/state", json={"state": "HALTED", "reason": "metrics test"}
    )
    assert response.status_code == 200, response.text
    _, samples = await scrape(api)

    assert value(samples, "ordergate_open_gates", partition="0", state="HALTED") == 1
    assert value(samples, "ordergate_alerts_total", kind="HALTED", outcome="raised") == 1


async def test_metrics_reconciliation_mismatch_counted_by_kind_and_dirty(api: Api) -> None:
    engine = api.application.partition.engine  # type: ignore[union-attr]
    await engine.stop_reconciling()
    await api.venue.submit_order(
        VenueOrderRequest(
            client_order_id="behind-our-back",
            account="default",
            symbol="EURUSD",
            side=Side.BUY,
            type=OrderType.LIMIT,
            qty=Decimal("0.10"),
            price=Decimal("1.09000"),
            stop_price=None,
            time_in_force=TimeInForce.GTC,
            reduce_only=False,
        )
    )
    response = await api.http.post("/v1/reconcile", json={"account": "default"})
    assert response.status_code == 200, response.text
    _, samples = await scrape(api)

    assert value(samples, "ordergate_reconciliation_mismatches_total", kind="ORDER_UNKNOWN") == 1
    assert value(samples, "ordergate_dirty_instruments", partition="0") >= 1
    assert value(samples, "ordergate_alerts_total", kind="RECONCILIATION", outcome="raised") == 1


async def test_metrics_two_apps_in_one_process_keep_their_own_counts(
    api: Api, isolated_environment: Path
) -> None:
    await api.place(symbol="EURUSD", side="BUY", qty="0.10")
    other_market = isolated_environment / "other"
    other_market.mkdir()
    async with running(make_settings(write_market(other_market))) as other:
        _, theirs = await scrape(other)
    _, ours = await scrape(api)

    assert value(ours, "ordergate_place_journaled_seconds_count") == 1
    assert value(theirs, "ordergate_place_journaled_seconds_count") == 0
