"""usage-ingest's HTTP API: `POST /v1/events`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from tangible_ingest.domain.errors import PublishUnavailable
from tangible_ingest.domain.model import EventResult, IngestReport, Outcome
from tangible_ingest.entrypoints.dependencies import ContainerDep
from tangible_ingest.entrypoints.schemas import EventResultOut, IngestResponse, ReasonOut
from tangible_ingest.entrypoints.translate import MEDIA_TYPES, BodyError, parse_body, to_command
from tangible_ingest.service_layer.handlers import ingest_batch
from tangible_runtime.app import IngestPrincipal
from tangible_runtime.problems import ProblemError

router = APIRouter(prefix="/v1", tags=["events"])

_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            media: {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/CloudEventIn"},
                        {"type": "array", "items": {"$ref": "#/components/schemas/CloudEventIn"}},
                    ]
                }
            }
            for media in MEDIA_TYPES
        },
    }
}


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ProblemError(
            413, "Request too large", type_="payload-too-large", detail=f"the limit is {limit} bytes"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ProblemError(
                413, "Request too large", type_="payload-too-large", detail=f"the limit is {limit} bytes"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _response(report: IngestReport) -> IngestResponse:
    return IngestResponse(
        accepted=report.count(Outcome.ACCEPTED),
        duplicates=report.count(Outcome.DUPLICATE),
        conflicts=report.count(Outcome.CONFLICT),
        rejected=report.count(Outcome.REJECTED),
        results=[
            EventResultOut(
                index=r.index,
                id=r.id,
                status=r.outcome.value,
                errors=[ReasonOut(code=x.code, field=x.field, message=x.message) for x in r.reasons],
            )
            for r in report.results
        ],
    )


@router.post(
    "/events",
    status_code=202,
    response_model=IngestResponse,
    summary="Ingest one CloudEvent, a batch, or a JSON array of events",
    description=(
        "202 means durable: returned only after Kafka acknowledged every accepted event. "
        "Per-event results report accepted, duplicate, conflict and rejected events by index."
    ),
    openapi_extra=_BODY_DOC,
    responses={
        413: {"description": "Too many events or bytes"},
        422: {"description": "No valid event"},
        503: {"description": "Kafka unavailable; retry after Retry-After"},
    },
)
async def post_events(request: Request, principal: IngestPrincipal, container: ContainerDep) -> JSONResponse:
    settings = container.settings
    body = await _read_limited(request, settings.max_request_bytes)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        items = parse_body(body, media_type)
    except BodyError as error:
        raise ProblemError(error.status, str(error), type_=error.code) from error
    if len(items) > settings.max_events_per_request:
        raise ProblemError(
            413,
            "Too many events",
            type_="too-many-events",
            detail=f"the limit is {settings.max_events_per_request} events per request",
        )
    if not items:
        raise ProblemError(422, "No events in the request", type_="empty-batch")
    command = to_command(principal.tenant_id, items, container.clock.now())
    if not command.events:
        report = IngestReport(
            [EventResult(r.index, r.id, Outcome.REJECTED, r.reasons) for r in command.rejections]
        )
        raise ProblemError(
            422,
            "No valid event in the request",
            type_="no-valid-events",
            errors=_response(report).model_dump()["results"],
        )
    try:
        report = await ingest_batch(
            command, uow=container.new_uow(), publisher=container.publisher, clock=container.clock
        )
    except PublishUnavailable as error:
        raise ProblemError(
            503,
            "Events could not be stored durably; nothing was accepted",
            type_=error.code,
            detail=error.message,
            headers={"Retry-After": str(settings.retry_after_seconds)},
        ) from error
    return JSONResponse(_response(report).model_dump(mode="json"), status_code=202)
