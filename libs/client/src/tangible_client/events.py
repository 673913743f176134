"""CloudEvents 1.0 encoding of one usage event, done once at record time."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

RESERVED_DATA_KEYS = frozenset({"quantity", "user_id"})


@dataclass(frozen=True, slots=True)
class EncodedEvent:
    """An event's id and its JSON bytes; retries resend these exact bytes."""

    id: str
    body: bytes


def encode_event(
    *,
    type: str,
    account_id: str,
    source: str,
    quantity: float = 1,
    user_id: str | None = None,
    properties: Mapping[str, Any] | None = None,
    time: datetime | None = None,
    id: str | None = None,
) -> EncodedEvent:
    """Build the CloudEvent; raise ValueError/TypeError for input no server could accept."""
    if isinstance(quantity, bool) or not isinstance(quantity, int | float) or not math.isfinite(quantity):
        raise ValueError("quantity must be a finite number")
    clashes = RESERVED_DATA_KEYS & set(properties or {})
    if clashes:
        raise ValueError(f"properties may not use the reserved keys {sorted(clashes)}")
    # The id and time are fixed now, not at send time: the server deduplicates on
    # (source, id) and flags a changed payload as a conflict, so a retry must resend
    # the very same event.
    event_id = id if id is not None else str(uuid.uuid4())
    data: dict[str, Any] = {**(properties or {}), "quantity": quantity}
    if user_id is not None:
        data["user_id"] = user_id
    event = {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": type,
        "subject": account_id,
        "time": _rfc3339(time or datetime.now(UTC)),
        "data": data,
    }
    body = json.dumps(event, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    return EncodedEvent(event_id, body)


def encode_batch(events: Sequence[EncodedEvent]) -> bytes:
    """The `application/cloudevents-batch+json` body: the events' bytes as one JSON array."""
    return b"[" + b",".join(e.body for e in events) + b"]"


def batch_size(event_bodies: int, count: int) -> int:
    """Bytes of a batch body holding `count` events whose bodies add up to `event_bodies`."""
    return event_bodies + max(count - 1, 0) + 2


def _rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("time must be timezone-aware (usage-ingest needs an offset)")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
