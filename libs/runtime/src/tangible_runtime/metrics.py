"""Prometheus metrics: one registry per service instance (no import-time globals)."""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from starlette.types import ASGIApp, Receive, Scope, Send

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class RuntimeMetrics:
    """The metrics every service has: HTTP, consumers, outbox."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.http_requests = Counter(
            "http_requests_total", "HTTP requests.", ["method", "route", "status"], registry=registry
        )
        self.http_latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.consumed = Counter(
            "consumer_records_total", "Records consumed.", ["consumer", "outcome"], registry=registry
        )
        self.consumer_lag = Gauge(
            "consumer_lag_records",
            "Records behind the partition end.",
            ["consumer", "partition"],
            registry=registry,
        )
        self.batch_latency = Histogram(
            "consumer_batch_duration_seconds",
            "Time to handle one consumed batch.",
            ["consumer"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.dead_letters = Counter(
            "dead_letters_total",
            "Records sent to a dead-letter topic.",
            ["consumer", "reason"],
            registry=registry,
        )
        self.outbox_backlog = Gauge(
            "outbox_backlog_records", "Events waiting in the outbox.", registry=registry
        )
        self.outbox_published = Counter(
            "outbox_published_total", "Events the relay published.", registry=registry
        )
        self.publish_latency = Histogram(
            "kafka_publish_duration_seconds",
            "Time until Kafka acknowledged a batch.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )


def new_metrics() -> RuntimeMetrics:
    registry = CollectorRegistry(auto_describe=True)
    # resident memory, CPU seconds, open files; collections per generation; the runtime's version
    ProcessCollector(registry=registry)
    GCCollector(registry=registry)
    PlatformCollector(registry=registry)
    return RuntimeMetrics(registry)


class HttpMetricsMiddleware:
    """Pure ASGI middleware: request count and latency per route template."""

    def __init__(self, app: ASGIApp, metrics: RuntimeMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = _route_template(scope)
            method = scope.get("method", "")
            self.metrics.http_requests.labels(method, route, str(status["code"])).inc()
            self.metrics.http_latency.labels(method, route).observe(time.perf_counter() - started)


def _route_template(scope: Scope) -> str:
    """The matched route's path template (set by the router), so ids don't explode labels."""
    route = scope.get("route")
    return str(getattr(route, "path", "unmatched"))
