"""One account's live events as a server-sent-events stream (`text/event-stream`).

Each event: `id` = the stream's position in the log (resume with `Last-Event-ID`), `event` =
the CloudEvents type, `data` = the CloudEvent in structured JSON. What a credential sees: its
account's events; with a user-scoped token, the account-wide ones and that user's; without,
the account-wide ones only; with a feature-limited token, none about other features. The
stream ends when the credential expires or is revoked (checked at every heartbeat), so the
client fetches a fresh token and resumes where it stopped.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass
from typing import Any

import orjson

from tangible_runtime.auth import CredentialError, Principal
from tangible_runtime.live import LiveHub, LiveRecord, Position, decode_position, encode_position
from tangible_schemas.binding import UndecodableRecord, from_record

HEARTBEAT_SECONDS = 15.0
RETRY_MILLISECONDS = 2_000


def visible_to(principal: Principal, data: dict[str, Any]) -> bool:
    user = data.get("user_id")
    if user is not None and user != principal.user_id:
        return False
    feature = data.get("feature_key")
    return not (isinstance(feature, str) and not principal.sees_feature(feature))


@dataclass(frozen=True, slots=True)
class _Decoded:
    """A record as every stream shows it: only the `id` line and who may see it differ."""

    type: str
    data: dict[str, Any]  # the event's data in JSON form, for the visibility checks
    tail: bytes  # `event:` and `data:` lines of the frame


def _decoded(record: LiveRecord) -> _Decoded | None:
    """Decoded and encoded once per record, however many streams show it (None: not an
    event). Decoding and JSON encoding are most of what a frame costs."""
    if "sse" not in record.derived:
        try:
            event = from_record(record.headers, record.value)
        except UndecodableRecord:
            record.derived["sse"] = None
        else:
            tail = b"event: " + event.type.encode() + b"\ndata: " + event.model_dump_json().encode() + b"\n\n"
            record.derived["sse"] = _Decoded(event.type, event.data.model_dump(mode="json"), tail)
    decoded: _Decoded | None = record.derived["sse"]
    return decoded


async def account_events(
    hub: LiveHub,
    principal: Principal,
    account_id: str,
    last_event_id: str | None,
    still_valid: Callable[[], None],
    *,
    hidden_types: Collection[str] = (),
    shown: Callable[[str, dict[str, Any]], bool] = lambda _type, _data: True,
    heartbeat: float = HEARTBEAT_SECONDS,
) -> AsyncIterator[bytes]:
    """`still_valid` raises a CredentialError once the credential may no longer read;
    `shown(type, data)` narrows further (e.g. only inbox deliveries of notifications)."""
    topics = hub.topics
    await hub.ready.wait()
    tenant_id = principal.tenant_id
    with hub.subscribe(tenant_id, account_id) as subscription:
        live = hub.live_position(tenant_id, account_id)  # after subscribing: nothing falls between
        resumed = decode_position(topics, last_event_id)
        position: Position = dict(live)
        yield f"retry: {RETRY_MILLISECONDS}\n\n".encode()
        if resumed is not None:
            position.update({t: p for t, p in resumed.items() if p[0] == live[t][0]})
            async for record in hub.replay(tenant_id, account_id, dict(position), live):
                frame = _advance(record, position, topics, principal, hidden_types, shown)
                if frame is not None:
                    yield frame
        while True:
            try:
                record = await asyncio.wait_for(subscription.queue.get(), heartbeat)
            except TimeoutError:
                try:
                    still_valid()
                except CredentialError as error:
                    yield (
                        b"event: credential-expired\ndata: " + orjson.dumps({"detail": str(error)}) + b"\n\n"
                    )
                    return
                yield b": heartbeat\n\n"
                continue
            if subscription.overflowed:
                return  # the client resumes from its last id, read back from Kafka
            frame = _advance(record, position, topics, principal, hidden_types, shown)
            if frame is not None:
                yield frame


def _advance(
    record: LiveRecord,
    position: Position,
    topics: list[str],
    principal: Principal,
    hidden_types: Collection[str],
    shown: Callable[[str, dict[str, Any]], bool],
) -> bytes | None:
    """The frame for a record past the stream's position (None if already sent or not for
    this credential); the position moves past it either way."""
    partition, next_offset = position[record.topic]
    if record.partition != partition or record.offset < next_offset:
        return None
    position[record.topic] = (partition, record.offset + 1)
    decoded = _decoded(record)
    if decoded is None or decoded.type in hidden_types:
        return None
    if not visible_to(principal, decoded.data) or not shown(decoded.type, decoded.data):
        return None
    return b"id: " + encode_position(topics, position).encode() + b"\n" + decoded.tail
