"""usage-ingest's HTTP API: `POST /v1/events`."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from tangible_ingest.domain.errors import PublishUnavailable, StoreUnavailable
from tangible_ingest.domain.model import EventResult, IngestReport, Outcome
from tangible_ingest.entrypoints.dependencies import Container, ContainerDep
from tangible_ingest.entrypoints.schemas import CloudEventIn, IngestResponse
from tangible_ingest.entrypoints.translate import BATCH, PLAIN, SINGLE, BodyError, parse_body, to_command
from tangible_ingest.service_layer.handlers import ingest_batch
from tangible_runtime.app import IngestPrincipal
from tangible_runtime.problems import ProblemError

router = APIRouter(prefix="/v1", tags=["events"])

# The route reads its body itself (one parse per batch, per-event results), so the document
# names the event model by hand; `REFERENCED_SCHEMAS` puts it in the document's components.
REFERENCED_SCHEMAS = (CloudEventIn,)
_EVENT = {"$ref": "#/components/schemas/CloudEventIn"}
# A batch is judged event by event: invalid events are rejected one by one in the 202 body,
# and only a batch without a single valid event is a 422. So the document requires what the
# server does, at least one CloudEvent (`contains`), not that every item be one.
_BATCH = {
    "type": "array",
    "minItems": 1,  # an empty batch is a 422
    "contains": _EVENT,
    # any item (the same set as leaving it out), said so for generators that need `items`
    "items": {},
    "description": "CloudEvents; each is accepted or rejected on its own (see the 202 body's results).",
}
_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {  # as `translate.parse_body` reads each media type
            SINGLE: {"schema": _EVENT},
            BATCH: {"schema": _BATCH},
            PLAIN: {"schema": {"oneOf": [_EVENT, _BATCH]}},
        },
    }
}
_RATE_HEADERS = {
    "RateLimit-Policy": {
        "description": 'The tenant\'s quota in events, e.g. `"ingest-events";q=50000;w=1`',
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": 'Events left and seconds until full, e.g. `"ingest-events";r=49500;t=1`',
        "schema": {"type": "string"},
    },
}

_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before sending the same events again",
        "schema": {"type": "integer", "minimum": 0},
    }
}

_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"description": "Per-event results", "headers": _RATE_HEADERS},
    400: {"description": "Malformed JSON, or a batch that is not an array"},
    401: {"description": "No valid credential"},
    403: {"description": "The credential lacks the ingest scope"},
    413: {"description": "Too many events or bytes"},
    415: {"description": "Unsupported content type"},
    422: {"description": "No valid event"},
    429: {
        "description": "Rate limit exceeded; retry after Retry-After",
        "headers": {**_RATE_HEADERS, **_RETRY_AFTER},
    },
    503: {
        "description": (
            "Nothing accepted; retry the same events after Retry-After. `type` says why: "
            "`overloaded` (this process holds its bound of events in flight and shed the request "
            "at once), or Kafka or the dedup store unavailable"
        ),
        "headers": _RETRY_AFTER,
    },
}


def _too_large(detail: str) -> ProblemError:
    return ProblemError(413, "Request too large", type_="payload-too-large", detail=detail)


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(f"the limit is {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(f"the limit is {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


_NO_ERRORS: list[dict[str, Any]] = []  # shared by every result without errors; never mutated


def _errors(r: EventResult) -> list[dict[str, Any]]:
    return [{"code": x.code, "field": x.field, "message": x.message} for x in r.reasons]


def _body(report: IngestReport) -> dict[str, Any]:
    """The `IngestResponse` document, built as plain data: a model per event costs more
    than the rest of the request (a unit test checks it validates as `IngestResponse`)."""
    counts = dict.fromkeys(Outcome, 0)
    results = []
    for r in report.results:
        counts[r.outcome] += 1
        errors = _errors(r) if r.reasons else _NO_ERRORS
        results.append({"index": r.index, "id": r.id, "status": r.outcome, "errors": errors})
    return {
        "accepted": counts[Outcome.ACCEPTED],
        "duplicates": counts[Outcome.DUPLICATE],
        "conflicts": counts[Outcome.CONFLICT],
        "rejected": counts[Outcome.REJECTED],
        "results": results,
    }


def _count(container: Container, tenant_id: str, body: dict[str, Any]) -> None:
    count = container.ingest_metrics.count
    count(tenant_id, "accepted", body["accepted"])
    count(tenant_id, "duplicate", body["duplicates"])
    count(tenant_id, "conflict", body["conflicts"])
    count(tenant_id, "rejected", body["rejected"])


def _items(body: bytes, request: Request, container: Container) -> list[Any]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        items = parse_body(body, media_type)
    except BodyError as error:
        raise ProblemError(error.status, str(error), type_=error.code) from error
    limit = container.settings.max_events_per_request
    if len(items) > limit:
        raise ProblemError(
            413, "Too many events", type_="too-many-events", detail=f"the limit is {limit} events per request"
        )
    if not items:
        raise ProblemError(422, "No events in the request", type_="empty-batch")
    return items


@router.post(
    "/events",
    status_code=202,
    response_model=IngestResponse,
    summary="Ingest one CloudEvent, a batch, or a JSON array of events",
    description=(
        "202 means durable: returned only after Kafka acknowledged every accepted event. "
        "Per-event results report accepted, duplicate, conflict and rejected events by index. "
        "Each event counts against the tenant's rate limit (a batch of 500 costs 500)."
    ),
    openapi_extra=_BODY_DOC,
    responses=_RESPONSES,
)
async def post_events(request: Request, principal: IngestPrincipal, container: ContainerDep) -> Response:
    return await _ingest(request, principal.tenant_id, container, imported=False)


@router.post(
    "/imports/events",
    status_code=202,
    response_model=IngestResponse,
    summary="Import historical usage: the same body, limits and answers as POST /v1/events",
    description=(
        "For a vendor's past usage, with its original `time` (`tangible-client import` sends here). "
        "Events go through the same deduplication (tenant, source, id) and carry `imported: true` "
        "on the wire: consumers book them by their time even after the late-event window, date "
        "milestones and rewards then, and send no notification for what lies in the past."
    ),
    openapi_extra=_BODY_DOC,
    responses=_RESPONSES,
)
async def post_imports(request: Request, principal: IngestPrincipal, container: ContainerDep) -> Response:
    return await _ingest(request, principal.tenant_id, container, imported=True)


def _shed(container: Container, stage: str) -> ProblemError:
    container.ingest_metrics.shed.labels(stage).inc()
    return ProblemError(
        503,
        "Overloaded; nothing was accepted",
        type_="overloaded",
        detail="this process holds as many events as it may; send the same events again after Retry-After",
        headers={"Retry-After": container.admission.retry_after()},
    )


async def _ingest(request: Request, tenant_id: str, container: Container, *, imported: bool) -> Response:
    admission = container.admission
    if admission.full():  # before reading the body: a shed request costs next to nothing
        raise _shed(container, "arrival")
    items = _items(await _read_limited(request, container.settings.max_request_bytes), request, container)
    if not admission.admit(len(items)):
        raise _shed(container, "parsed")
    try:
        return await _admitted(tenant_id, container, items, imported=imported)
    finally:
        admission.release(len(items))


async def _admitted(tenant_id: str, container: Container, items: list[Any], *, imported: bool) -> Response:
    decision = container.limiter.acquire(tenant_id, len(items))
    rate_headers = decision.headers()
    if not decision.allowed:
        container.ingest_metrics.rate_limited.labels(tenant_id).inc()
        raise ProblemError(
            429,
            "Rate limit exceeded",
            type_="rate-limited",
            detail=f"this tenant may send {decision.quota} events per {decision.window_seconds} s",
            headers=rate_headers,
        )
    command = to_command(tenant_id, items, container.clock.now(), container.event_limits, imported=imported)
    if not command.events:
        report = IngestReport(
            [EventResult(r.index, r.id, Outcome.REJECTED, r.reasons) for r in command.rejections]
        )
        container.ingest_metrics.count(tenant_id, "rejected", len(report.results))
        raise ProblemError(
            422,
            "No valid event in the request",
            type_="no-valid-events",
            headers=rate_headers,
            errors=_body(report)["results"],
        )
    try:
        report = await ingest_batch(
            command, uow=container.new_uow(), publisher=container.publisher, clock=container.clock
        )
    except (PublishUnavailable, StoreUnavailable) as error:
        container.limiter.refund(tenant_id, len(items))  # nothing was accepted
        raise ProblemError(
            503,
            "Events could not be accepted now; nothing was accepted",
            type_=error.code,
            detail=error.message,
            headers={"Retry-After": str(container.settings.retry_after_seconds)},
        ) from error
    body = _body(report)
    _count(container, tenant_id, body)
    return Response(orjson.dumps(body), status_code=202, media_type="application/json", headers=rate_headers)
