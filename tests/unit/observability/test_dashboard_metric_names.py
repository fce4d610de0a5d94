"""The sample Grafana dashboard asks only for metrics ordergate exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ordergate.app.observability.metrics import MetricsBook, MetricsCollector

DASHBOARD = Path(__file__).parents[3] / "docs" / "grafana" / "ordergate.json"
SUFFIXES = ("_total", "_bucket", "_sum", "_count")


def exported_families() -> set[str]:
    collector = MetricsCollector(MetricsBook(), list, lambda: {"journal": True})
    return {family.name for family in collector.collect()}


def family_of(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def test_dashboard_every_metric_it_uses_is_exported() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {family_of(n) for e in expressions for n in re.findall(r"ordergate_[a-z_]+", e)}

    assert used
    assert used - exported_families() == set()


def test_dashboard_shows_every_exported_family() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    text = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    used = {family_of(n) for n in re.findall(r"ordergate_[a-z_]+", text)}

    assert exported_families() - used == set()
