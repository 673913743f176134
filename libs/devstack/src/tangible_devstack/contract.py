"""Helpers of the tests that run one scenario on a service's in-memory fake unit of work and on
its SQL one (each service's `tests/integration/test_fakes_match_sql.py`), so that the fakes
the handler tests stand on cannot drift from the SQL they stand in for.

`committed` reads back what the SQL unit of work committed to the outbox, in the shape the
fakes keep it (the event data; a dead letter as its consumer and reason); `comparable`
prints what a scenario saw with each generated id replaced by its order of appearance, since
the two runs draw different UUIDs for the same things.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tangible_schemas import EventData, from_record

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DEAD_LETTERS = "tangible.dlq."


@dataclass(frozen=True)
class Committed:
    events: list[EventData]
    dead_letters: list[tuple[str, str]]  # (consumer, reason)


async def committed(engine: AsyncEngine) -> Committed:
    """The outbox in the order it was written (the tests run no relay, so nothing left it)."""
    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT topic, value, headers FROM outbox ORDER BY id"))).all()
    events: list[EventData] = []
    dead_letters: list[tuple[str, str]] = []
    for topic, value, stored in rows:
        headers = [(name, header.encode()) for name, header in stored]
        if topic.startswith(_DEAD_LETTERS):
            named = dict(stored)
            dead_letters.append((named["dlq_consumer"], named["dlq_reason"]))
        else:
            events.append(from_record(headers, value).data)
    return Committed(events, dead_letters)


def as_sent(events: list[EventData]) -> list[tuple[str, dict[str, Any]]]:
    """Each event as it goes on the wire (a decoded one's datetimes carry another tzinfo)."""
    return [(type(event).__name__, event.model_dump(mode="json")) for event in events]


def comparable(seen: Any) -> str:
    """`repr(seen)` with each UUID replaced by `<id N>`, N counting distinct ids in order."""
    ids: dict[str, str] = {}
    return _UUID.sub(lambda m: ids.setdefault(m.group(), f"<id {len(ids)}>"), repr(seen))
