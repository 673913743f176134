"""usage-ingest's own metrics, on the runtime's registry (HTTP and publish latency are there)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from tangible_runtime.metrics import LATENCY_BUCKETS, RuntimeMetrics


class IngestMetrics:
    def __init__(self, runtime: RuntimeMetrics) -> None:
        registry = runtime.registry
        self.events = Counter(
            "ingest_events_total",
            "Events received, by outcome: accepted, duplicate, conflict, rejected.",
            ["tenant", "outcome"],
            registry=registry,
        )
        self.rate_limited = Counter(
            "ingest_rate_limited_requests_total",
            "Requests refused with 429 by the per-tenant rate limit.",
            ["tenant"],
            registry=registry,
        )
        self.shed = Counter(
            "ingest_shed_requests_total",
            "Requests refused with 503 because the process held its bound of events in flight.",
            ["stage"],  # arrival: before the body was read; parsed: its events did not fit
            registry=registry,
        )
        self.events_in_flight = Gauge(
            "ingest_events_in_flight",
            "Events of the requests being handled (USAGE_INGEST_MAX_EVENTS_IN_FLIGHT bounds it).",
            registry=registry,
        )
        self.dedup_latency = Histogram(
            "ingest_dedup_store_duration_seconds",
            "Time of one dedup-store statement (claim, lookup, prune).",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )

    def observe_dedup(self, operation: str, seconds: float) -> None:
        self.dedup_latency.labels(operation).observe(seconds)

    def count(self, tenant_id: str, outcome: str, n: int) -> None:
        if n:
            self.events.labels(tenant_id, outcome).inc(n)
