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
from typing import Any

import orjson

from tangible_runtime.auth import CredentialError, Principal
from tangible_runtime.live import LiveHub, LiveRecord, Position, decode_position, encode_position
from tangible_schemas.binding import UndecodableRecord, from_record
from tangible_schemas.envelope import CloudEvent

HEARTBEAT_SECONDS = 15.0
RETRY_MILLISECONDS = 2_000


def visible_to(principal: Principal, data: dict[str, Any]) -> bool:
    user = data.get("user_id")
    if user is not None and user != principal.user_id:
        return False
    feature = data.get("feature_key")
    return not (isinstance(feature, str) and not principal.sees_feature(feature))


def _frame(event: CloudEvent[Any], position: Position, topics: list[str]) -> bytes:
    return b"".join(
        [
            b"id: " + encode_position(topics, position).encode() + b"\n",
            b"event: " + event.type.encode() + b"\n",
            b"data: " + event.model_dump_json().encode() + b"\n\n",
        ]
    )


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
    try:
        event = from_record(record.headers, record.value)
    except UndecodableRecord:
        return None
    if event.type in hidden_types:
        return None
    data = event.data.model_dump(mode="json")
    if not visible_to(principal, data) or not shown(event.type, data):
        return None
    return _frame(event, position, topics)
