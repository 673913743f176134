"""Request body → IngestBatch: one parse, one validation pass per batch."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from pydantic import ValidationError

from tangible_ingest.domain.commands import IngestBatch
from tangible_ingest.domain.model import Reason, Rejection, UsageEvent, dedup_key
from tangible_ingest.domain.storable import (
    EARLIEST_TIME,
    ESCAPED_NUL,
    MAX_DATA_DEPTH,
    nests_deeper_than,
    nul_field,
)
from tangible_ingest.entrypoints.schemas import CloudEventIn, fast_fields, model_fields

SINGLE = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
PLAIN = "application/json"
MEDIA_TYPES = (SINGLE, BATCH, PLAIN)
# A member name ends with an unescaped quote (an even run of backslashes before it), optional
# whitespace and a colon; inside a string every quote is escaped.
_MEMBER_END = re.compile(rb'"[ \t\r\n]*:')
_ESCAPED_END = re.compile(rb'(\\+)"[ \t\r\n]*:')


class BodyError(ValueError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class EventLimits:
    max_event_bytes: int = 1_000_000  # under Kafka's default message.max.bytes, with room for headers
    max_future: timedelta = timedelta(days=1)  # clock skew tolerated on `time`


def parse_body(body: bytes, media_type: str) -> list[Any]:
    if media_type not in MEDIA_TYPES:
        raise BodyError(415, "unsupported-media-type", f"use one of {', '.join(MEDIA_TYPES)}")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BodyError(400, "malformed-json", f"the body is not valid JSON: {error}") from error
    if _has_duplicate_member(body, document):
        # parsers disagree on which duplicate wins: refuse rather than guess
        raise BodyError(400, "duplicate-key", "an object of the body names a member twice")
    if media_type == SINGLE or (media_type == PLAIN and isinstance(document, dict)):
        return [document]
    if not isinstance(document, list):
        raise BodyError(400, "not-a-batch", "a batch must be a JSON array of CloudEvents")
    return document


def _has_duplicate_member(body: bytes, document: Any) -> bool:
    """More member names in the text than in the parsed objects.

    Fast path, for bodies without \\u escapes: a colon is either a member's separator or a
    character of a string, written as itself both in the body and in orjson's rewrite of the
    parsed document, so equal colon counts prove that no member was dropped."""
    if b"\\u" not in body:
        try:
            return body.count(b":") != orjson.dumps(document).count(b":")
        except orjson.JSONEncodeError:  # deeper than orjson writes: count the slow way
            pass
    written = len(_MEMBER_END.findall(body))
    if b"\\" in body:
        written -= sum(1 for m in _ESCAPED_END.finditer(body) if len(m.group(1)) % 2)
    return written != _parsed_members(document)


def _parsed_members(document: Any) -> int:
    """Members of every object in the parsed document (a duplicate was kept once)."""
    count, stack = 0, [document]
    while stack:
        value = stack.pop()
        if type(value) is dict:
            count += len(value)
            stack.extend(value.values())
        elif type(value) is list:
            stack.extend(value)
    return count


def _reasons(error: ValidationError) -> tuple[Reason, ...]:
    return tuple(
        Reason(
            code=str(item["type"]),
            field=".".join(str(part) for part in item["loc"]) or None,
            message=str(item["msg"]),
        )
        for item in error.errors(include_url=False, include_input=False)
    )


def _reject(index: int, event_id: str | None, code: str, field: str | None, message: str) -> Rejection:
    return Rejection(index, event_id, (Reason(code, field, message),))


def to_command(
    tenant_id: str,
    items: list[Any],
    received_at: datetime,
    limits: EventLimits | None = None,
    *,
    imported: bool = False,
) -> IngestBatch:
    limits = limits or EventLimits()
    horizon = received_at + limits.max_future
    events: list[UsageEvent] = []
    rejections: list[Rejection] = []
    for index, item in enumerate(items):
        if type(item) is not dict:
            rejections.append(_reject(index, None, "not-an-object", None, "an event must be a JSON object"))
            continue
        fields = fast_fields(item)
        if fields is None:
            try:
                fields = model_fields(CloudEventIn.model_validate(item))
            except ValidationError as error:
                raw_id = item.get("id")
                rejections.append(Rejection(index, raw_id if type(raw_id) is str else None, _reasons(error)))
                continue
        event_id, source, kind, subject, time, quantity, user_id, properties = fields
        try:
            canonical = orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            rejections.append(_reject(index, event_id, "too-deeply-nested", "data", "data nests too deeply"))
            continue
        if len(canonical) > limits.max_event_bytes:
            message = f"an event may take at most {limits.max_event_bytes} bytes"
            rejections.append(_reject(index, event_id, "event-too-large", None, message))
            continue
        refusal = _unstorable(item, canonical, time, horizon)
        if refusal is not None:
            rejections.append(Rejection(index, event_id, (refusal,)))
            continue
        events.append(
            UsageEvent(
                index=index,
                id=event_id,
                source=source,
                type=kind,
                account_id=subject,
                time=time or received_at,
                quantity=quantity,
                user_id=user_id,
                properties=properties,
                dedup_key=dedup_key(tenant_id, source, event_id),
                payload_hash=hashlib.sha256(canonical).digest()[:16],
                imported=imported,
            )
        )
    return IngestBatch(tenant_id=tenant_id, events=events, rejections=rejections)


def _unstorable(
    item: dict[str, Any], canonical: bytes, time: datetime | None, horizon: datetime
) -> Reason | None:
    """Why a consumer could not apply this well-formed event (see `domain.storable`), or None.

    Both content checks first look at the canonical bytes, which settle the common case
    without walking the event: no escaped NUL in them, or fewer brackets than the limit."""
    if ESCAPED_NUL in canonical:
        field = nul_field(item)
        if field is not None:
            return Reason("nul-character", field, "text may not contain U+0000 (PostgreSQL cannot store it)")
    brackets = canonical.count(b"{") + canonical.count(b"[")  # at least the depth
    if brackets > MAX_DATA_DEPTH and nests_deeper_than(item.get("data"), MAX_DATA_DEPTH):
        return Reason("too-deeply-nested", "data", f"data may nest at most {MAX_DATA_DEPTH} levels")
    if time is not None and time > horizon:
        return Reason("time-in-future", "time", "time is further in the future than the tolerated clock skew")
    if time is not None and time < EARLIEST_TIME:
        return Reason("time-before-1970", "time", "time may not be earlier than 1970-01-01T00:00:00Z")
    return None
