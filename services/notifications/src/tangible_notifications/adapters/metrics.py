"""notifications' own metrics, on the runtime's registry (HTTP, consumers and outbox are there)."""

from __future__ import annotations

from prometheus_client import Counter

from tangible_runtime.metrics import RuntimeMetrics


class NotificationsMetrics:
    """Implements the service layer's DeliveryMetrics port."""

    def __init__(self, runtime: RuntimeMetrics) -> None:
        self.endpoints_disabled = Counter(
            "notifications_endpoints_disabled_total",
            "Webhook endpoints disabled automatically, by reason: gone (410) or failing (too long).",
            ["reason"],
            registry=runtime.registry,
        )
        # both series exist from the start, so increase() sees the first disabling
        for reason in ("gone", "failing"):
            self.endpoints_disabled.labels(reason)

    def endpoint_disabled(self, reason: str) -> None:
        self.endpoints_disabled.labels(reason).inc()
