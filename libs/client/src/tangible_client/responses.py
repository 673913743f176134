"""usage-ingest's answers → one DeliveryReport per event of the batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from tangible_client.events import EncodedEvent
from tangible_client.reports import DeliveryReport, DeliveryStatus, Reason

_STATUSES = {s.value: s for s in DeliveryStatus if s is not DeliveryStatus.FAILED}


def reports_for(
    response: httpx.Response, events: Sequence[EncodedEvent], attempts: int
) -> list[DeliveryReport]:
    """Map a final (non-retryable) response onto the batch's events, in batch order."""
    body = _json(response)
    if response.status_code == 202:
        return _per_event(body.get("results"), events, attempts, missing=DeliveryStatus.FAILED)
    problem = problem_reason(response, body)
    if response.status_code == 422:
        # The server found no valid event; its `errors` say why, per index.
        return _per_event(
            body.get("errors"), events, attempts, missing=DeliveryStatus.REJECTED, default=problem
        )
    status = DeliveryStatus.REJECTED if response.status_code == 413 else DeliveryStatus.FAILED
    return [DeliveryReport(e.id, status, (problem,), attempts) for e in events]


def problem_reason(response: httpx.Response, body: dict[str, Any] | None = None) -> Reason:
    """A Reason from an RFC 9457 problem: its type's last segment, title and detail."""
    body = _json(response) if body is None else body
    kind = body.get("type")
    code = kind.rstrip("/").rsplit("/", 1)[-1] if isinstance(kind, str) and kind else None
    text = [str(body[k]) for k in ("title", "detail") if isinstance(body.get(k), str)]
    return Reason(
        code=code or f"http-{response.status_code}",
        message=": ".join(text) or response.reason_phrase or f"HTTP {response.status_code}",
    )


def _per_event(
    results: Any,
    events: Sequence[EncodedEvent],
    attempts: int,
    *,
    missing: DeliveryStatus,
    default: Reason | None = None,
) -> list[DeliveryReport]:
    by_index = {r["index"]: r for r in results if _is_result(r)} if isinstance(results, list) else {}
    reports = []
    for index, event in enumerate(events):
        result = by_index.get(index)
        if result is None:
            reason = default or Reason("missing-result", f"the response has no result for index {index}")
            reports.append(DeliveryReport(event.id, missing, (reason,), attempts))
            continue
        reasons = tuple(_reason(e) for e in result.get("errors") or () if isinstance(e, dict))
        reports.append(DeliveryReport(event.id, _STATUSES[result["status"]], reasons, attempts))
    return reports


def _is_result(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("index"), int) and item.get("status") in _STATUSES


def _reason(error: dict[str, Any]) -> Reason:
    field = error.get("field")
    return Reason(
        code=str(error.get("code", "invalid")),
        message=str(error.get("message", "")),
        field=field if isinstance(field, str) else None,
    )


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
