"""The process's OpenTelemetry resource honours the operator's environment."""

from __future__ import annotations

import pytest

from tangible_runtime.metrics import new_metrics
from tangible_runtime.telemetry import service_resource


def test_the_service_names_itself_unless_the_operator_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    assert service_resource("rewards").attributes["service.name"] == "rewards"
    monkeypatch.setenv(
        "OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=staging,service.namespace=tangible"
    )
    resource = service_resource("rewards").attributes
    assert (resource["service.name"], resource["deployment.environment"]) == ("rewards", "staging")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "rewards-eu")
    assert service_resource("rewards").attributes["service.name"] == "rewards-eu"


def test_metrics_include_process_and_gc_collectors() -> None:
    names = {metric.name for metric in new_metrics().registry.collect()}
    assert {"process_resident_memory_bytes", "process_cpu_seconds", "python_gc_collections"} <= names
