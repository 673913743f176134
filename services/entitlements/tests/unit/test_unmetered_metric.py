"""Unmetered usage is counted per tenant and type, in a bounded number of series."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from tangible_entitlements.entrypoints.consumers import UnmeteredUsage


def value(registry: CollectorRegistry, tenant: str, kind: str) -> float | None:
    labels = {"tenant": tenant, "type": kind}
    return registry.get_sample_value("entitlements_usage_unmetered_total", labels)


def test_types_past_the_series_bound_are_counted_as_other() -> None:
    registry = CollectorRegistry()
    metric = UnmeteredUsage(registry, max_series=2)
    metric.count({("t1", "login"): 2, ("t1", "logout"): 1})
    metric.count({("t1", "random-1"): 1, ("t2", "random-2"): 4, ("t1", "login"): 1})
    assert value(registry, "t1", "login") == 3
    assert value(registry, "t1", "logout") == 1
    assert value(registry, "t1", UnmeteredUsage.OTHER) == 1
    assert value(registry, "t2", UnmeteredUsage.OTHER) == 4
    assert value(registry, "t1", "random-1") is None
