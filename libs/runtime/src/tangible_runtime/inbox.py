"""Idempotent consumption: claim a batch of event ids in the handler's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_CLAIM = text(
    """
    INSERT INTO inbox (consumer, event_id)
    SELECT :consumer, unnest(CAST(:ids AS text[]))
    ON CONFLICT DO NOTHING
    RETURNING event_id
    """
)

_RELEASE = text("DELETE FROM inbox WHERE consumer = :consumer AND event_id = ANY(CAST(:ids AS text[]))")


class Inbox:
    def __init__(self, session: AsyncSession, consumer: str) -> None:
        self._session = session
        self._consumer = consumer

    async def claim(self, event_ids: Iterable[str]) -> set[str]:
        """Record the ids as handled; returns those never seen before (one statement)."""
        ids = list(dict.fromkeys(event_ids))
        if not ids:
            return set()
        result = await self._session.execute(_CLAIM, {"consumer": self._consumer, "ids": ids})
        return {row[0] for row in result}

    async def release(self, event_ids: Iterable[str]) -> None:
        """Forget ids claimed in this transaction whose events were refused, not applied
        (dead-lettered as unknown_account): a replay once the cause is fixed applies them."""
        ids = list(dict.fromkeys(event_ids))
        if ids:
            await self._session.execute(_RELEASE, {"consumer": self._consumer, "ids": ids})


async def prune_inbox(session: AsyncSession, older_than: timedelta) -> int:
    """Forget ids older than any redelivery could be (Kafka retention bounds it)."""
    result = await session.execute(
        text("DELETE FROM inbox WHERE received_at < now() - make_interval(secs => :s)"),
        {"s": older_than.total_seconds()},
    )
    return int(getattr(result, "rowcount", 0) or 0)
