"""A small server-sent-events reader (only what the change stream sends: event, id, data)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Frame:
    event: str
    data: str
    id: str | None


async def frames(lines: AsyncIterator[str]) -> AsyncIterator[Frame]:
    event: str = "message"
    event_id: str | None = None
    data: list[str] = []
    async for line in lines:
        if not line:
            if data or event != "message":
                yield Frame(event, "\n".join(data), event_id)
            event, event_id, data = "message", None, []
            continue
        if line.startswith(":"):
            continue  # a comment: the heartbeat
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "id":
            event_id = value
