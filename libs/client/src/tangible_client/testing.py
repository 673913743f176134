"""FakeIngest: an in-memory usage-ingest for producers' unit tests (use with httpx.MockTransport)."""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx

Body = dict[str, Any]
PROBLEMS = "https://tangible.dev/problems"


@dataclass
class ScriptedFailure:
    """A response to give instead of processing a request, or a network error to raise."""

    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    network_error: bool = False


class FakeIngest:
    """Dedups on (source, id) like the service, enforces its limits, and can fail on demand."""

    def __init__(self, *, max_events: int = 1000, max_bytes: int = 1_048_576) -> None:
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.requests: list[httpx.Request] = []
        self.stored: dict[tuple[str, str], bytes] = {}  # (source, id) → canonical JSON
        self.failures: deque[ScriptedFailure] = deque()

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def fail_next(self, count: int = 1, *, status: int = 503, retry_after: str | None = None) -> None:
        """Answer the next `count` requests with `status` (and a Retry-After header if given)."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.failures.extend(ScriptedFailure(status, headers) for _ in range(count))

    def drop_next(self, count: int = 1) -> None:
        """Raise a connection error for the next `count` requests."""
        self.failures.extend(ScriptedFailure(network_error=True) for _ in range(count))

    def batches(self) -> list[list[Body]]:
        """The events of every request received, in order."""
        return [json.loads(r.content) for r in self.requests]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.failures:
            failure = self.failures.popleft()
            if failure.network_error:
                raise httpx.ConnectError("scripted connection failure", request=request)
            return _problem(failure.status, "scripted-failure", failure.headers)
        if len(request.content) > self.max_bytes:
            return _problem(413, "payload-too-large")
        events = json.loads(request.content)
        if len(events) > self.max_events:
            return _problem(413, "too-many-events")
        results = [self._ingest(index, event) for index, event in enumerate(events)]
        if all(r["status"] == "rejected" for r in results):
            return _problem(422, "no-valid-events", errors=results)
        counts = {s: sum(r["status"] == s for r in results) for s in ("accepted", "duplicate", "conflict")}
        body = {
            "accepted": counts["accepted"],
            "duplicates": counts["duplicate"],
            "conflicts": counts["conflict"],
            "rejected": len(results) - sum(counts.values()),
            "results": results,
        }
        return httpx.Response(202, json=body)

    def _ingest(self, index: int, event: Body) -> Body:
        if not event.get("id") or not event.get("type") or not event.get("subject"):
            error = {"code": "missing", "field": "id/type/subject", "message": "Field required"}
            return {"index": index, "id": event.get("id"), "status": "rejected", "errors": [error]}
        key = (str(event.get("source")), str(event["id"]))
        canonical = json.dumps(event, sort_keys=True).encode()
        previous = self.stored.get(key)
        if previous is None:
            self.stored[key] = canonical
        status = "accepted" if previous is None else "duplicate" if previous == canonical else "conflict"
        return {"index": index, "id": event["id"], "status": status, "errors": []}


def _problem(status: int, kind: str, headers: dict[str, str] | None = None, **extras: Any) -> httpx.Response:
    body = {"type": f"{PROBLEMS}/{kind}", "title": kind.replace("-", " "), "status": status, **extras}
    headers = {"Content-Type": "application/problem+json", **(headers or {})}
    return httpx.Response(status, json=body, headers=headers)
