"""The Grafana dashboard (deploy/grafana/tangible-dashboard.json) is valid JSON, its panels do
not overlap, and every series it queries is one the services export."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tangible_ingest.adapters.metrics import IngestMetrics
from tangible_notifications.adapters.metrics import NotificationsMetrics
from tangible_runtime.metrics import new_metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "grafana" / "tangible-dashboard.json"


def _exported() -> set[str]:
    names: set[str] = set()
    runtime = new_metrics()
    IngestMetrics(runtime)  # registers usage-ingest's own series in the same registry
    NotificationsMetrics(runtime)  # and notifications' (webhook endpoints disabled)
    for family in runtime.registry.collect():
        names.add(family.name)
        if family.type == "counter":  # exposed as <name>_total (no samples before first use)
            names.add(f"{family.name}_total")
        names.update(sample.name for sample in family.samples)
    return names


def test_every_queried_series_is_exported() -> None:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    exported = _exported()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            for name in re.findall(r"\b([a-z_]+)\{", target["expr"]):
                base = name.removesuffix("_bucket")
                assert name in exported or base in exported, (panel["title"], name)


def test_panels_do_not_overlap() -> None:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    cells: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        g = panel["gridPos"]
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not cells & mine, panel["title"]
        cells |= mine
