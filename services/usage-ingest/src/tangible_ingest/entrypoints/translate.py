"""Request body → IngestBatch: one parse, one validation pass per batch."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from tangible_ingest.domain.commands import IngestBatch
from tangible_ingest.domain.model import Reason, Rejection, UsageEvent
from tangible_ingest.entrypoints.schemas import CloudEventIn

SINGLE = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
PLAIN = "application/json"
MEDIA_TYPES = (SINGLE, BATCH, PLAIN)


class BodyError(ValueError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def parse_body(body: bytes, media_type: str) -> list[Any]:
    if media_type not in MEDIA_TYPES:
        raise BodyError(415, "unsupported-media-type", f"use one of {', '.join(MEDIA_TYPES)}")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BodyError(400, "malformed-json", f"the body is not valid JSON: {error}") from error
    if media_type == SINGLE or (media_type == PLAIN and isinstance(document, dict)):
        return [document]
    if not isinstance(document, list):
        raise BodyError(400, "not-a-batch", "a batch must be a JSON array of CloudEvents")
    return document


def _reasons(error: ValidationError) -> tuple[Reason, ...]:
    return tuple(
        Reason(
            code=str(item["type"]),
            field=".".join(str(part) for part in item["loc"]) or None,
            message=str(item["msg"]),
        )
        for item in error.errors(include_url=False)
    )


def to_command(tenant_id: str, items: list[Any], received_at: datetime) -> IngestBatch:
    events: list[UsageEvent] = []
    rejections: list[Rejection] = []
    for index, item in enumerate(items):
        raw_id = item.get("id") if isinstance(item, dict) else None
        event_id = raw_id if isinstance(raw_id, str) else None
        if not isinstance(item, dict):
            rejections.append(
                Rejection(index, None, (Reason("not-an-object", None, "an event must be a JSON object"),))
            )
            continue
        try:
            parsed = CloudEventIn.model_validate(item)
        except ValidationError as error:
            rejections.append(Rejection(index, event_id, _reasons(error)))
            continue
        data = parsed.data
        events.append(
            UsageEvent(
                index=index,
                id=parsed.id,
                source=parsed.source,
                type=parsed.type,
                account_id=parsed.subject,
                time=parsed.time or received_at,
                quantity=data.quantity,
                user_id=data.user_id,
                properties=dict(data.model_extra or {}),
                payload_hash=hashlib.sha256(orjson.dumps(item, option=orjson.OPT_SORT_KEYS)).digest(),
            )
        )
    return IngestBatch(tenant_id=tenant_id, events=events, rejections=rejections)
