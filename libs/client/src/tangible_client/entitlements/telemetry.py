"""Metrics through the caller's OpenTelemetry, when it is installed (the API alone is enough:
with no SDK configured they cost nothing). Only the slow path is counted: a counter on every
in-memory check would cost more than the check."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("tangible_client.entitlements")


class Metrics:
    def __init__(self) -> None:
        self._counters: dict[str, Any] = {}
        self._histogram: Any = None
        try:
            from opentelemetry import metrics
        except ImportError:  # optional: no OpenTelemetry, no metrics
            return
        meter = metrics.get_meter("tangible_client.entitlements")
        for name, description in (
            ("misses", "Checks of accounts not yet in the local view"),
            ("degraded", "Checks answered stale, by default or refused while the view could not be fresh"),
            ("stream_reconnects", "Change stream reconnections"),
            ("changes", "Account changes applied from the stream"),
        ):
            self._counters[name] = meter.create_counter(
                f"tangible.entitlements.sdk.{name}", description=description
            )
        self._histogram = meter.create_histogram(
            "tangible.entitlements.sdk.fetch.duration",
            unit="s",
            description="Reads of accounts from the server",
        )

    def add(self, name: str, value: int = 1, **attributes: str) -> None:
        counter = self._counters.get(name)
        if counter is not None:
            counter.add(value, attributes)

    def fetched(self, seconds: float) -> None:
        if self._histogram is not None:
            self._histogram.record(seconds)
