"""`ordergate serve` scraped as Prometheus scrapes it: `/metrics` on the admin listener,
without a key, in the text format `prometheus_client`'s own parser reads, moving as
orders are placed over the API port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.e2e.serve_support import Server
from tests.waiting import eventually_sync

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path)
    running.start()
    yield running
    running.stop()


def scrape(server: Server) -> dict[str, float]:
    """Every sample of the admin listener's `/metrics`, by name and labels."""
    answer = httpx.get(f"{server.admin_url}/metrics", timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


def filled_orders(samples: dict[str, float]) -> float:
    return sum(v for k, v in samples.items() if k.startswith("ordergate_fills_total{"))


def test_metrics_on_the_admin_listener_parse_and_count_the_fills_placed_over_the_api(
    server: Server,
) -> None:
    before = scrape(server)
    assert "ordergate_dependency_up{dependency=journal}" in before
    placed = httpx.post(
        f"{server.url}/v1/orders",
        headers={"X-API-Key": server.key},
        json={"symbol": "EURUSD", "side": "BUY", "qty": "0.01", "type": "MARKET"},
        timeout=10,
    )
    assert placed.status_code == 201, placed.text

    after = eventually_sync(
        lambda: (s := scrape(server)) and filled_orders(s) > filled_orders(before) and s,
        message="a fill to show in /metrics",
    )

    assert filled_orders(after) == filled_orders(before) + 1
    assert after["ordergate_place_journaled_seconds_count{}"] >= 1
