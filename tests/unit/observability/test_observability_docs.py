"""The sample Grafana dashboard asks only for metrics ordergate exports; every alert's
runbook link names a section the runbook has."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ordergate.app.observability.alerts import OTHER_SECTION, RUNBOOK_SECTIONS
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


RUNBOOK = Path(__file__).parents[3] / "docs" / "runbook.md"


def anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_runbook_every_alert_kind_links_to_a_section_that_exists() -> None:
    headings = {
        anchor(line[3:]) for line in RUNBOOK.read_text().splitlines() if line.startswith("## ")
    }

    assert {*RUNBOOK_SECTIONS.values(), OTHER_SECTION} - headings == set()
