"""Idempotent consumption: claim a batch of event ids in the handler's transaction; forget
them once no redelivery can bring them back (`inbox_pruner`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_runtime.db import SessionFactory
from tangible_runtime.logs import get_logger
from tangible_runtime.service import ServiceRuntime, Worker
from tangible_runtime.telemetry import scheduled_span

log = get_logger(__name__)

# answers with the ids seen before (one array, usually empty) rather than a row per fresh id:
# a consumer's batch is thousands of ids, and each returned row cost the driver and SQLAlchemy
# more than the database's insert of it
_CLAIM = text(
    """
    WITH claimed AS (
        INSERT INTO inbox (consumer, event_id)
        SELECT :consumer, unnest(CAST(:ids AS text[]))
        ON CONFLICT DO NOTHING
        RETURNING event_id
    )
    SELECT ARRAY(SELECT unnest(CAST(:ids AS text[])) EXCEPT SELECT event_id FROM claimed)
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
        seen_before = await self._session.scalar(_CLAIM, {"consumer": self._consumer, "ids": ids})
        if not seen_before:
            return set(ids)
        seen = set(seen_before)
        return {event_id for event_id in ids if event_id not in seen}

    async def release(self, event_ids: Iterable[str]) -> None:
        """Forget ids claimed in this transaction whose events were refused, not applied
        (dead-lettered as unknown_account): a replay once the cause is fixed applies them."""
        ids = list(dict.fromkeys(event_ids))
        if ids:
            await self._session.execute(_RELEASE, {"consumer": self._consumer, "ids": ids})


# one batch: short transactions, so pruning a large backlog never holds long locks
_PRUNE_BATCH = text(
    """
    DELETE FROM inbox WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM inbox WHERE received_at < now() - make_interval(secs => :s) LIMIT :limit
    ))
    """
)
PRUNE_BATCH_SIZE = 10_000


async def prune_inbox(session: AsyncSession, older_than: timedelta, limit: int = PRUNE_BATCH_SIZE) -> int:
    """Forget up to `limit` ids older than any redelivery could be (the topics' retention
    bounds it). `received_at` is the database's time, so the cutoff is too."""
    result = await session.execute(_PRUNE_BATCH, {"s": older_than.total_seconds(), "limit": limit})
    return int(getattr(result, "rowcount", 0) or 0)


async def prune_inbox_until_done(
    sessions: SessionFactory, older_than: timedelta, batch_size: int = PRUNE_BATCH_SIZE
) -> int:
    """Prune batch by batch, one transaction each, until a batch comes back short."""
    total = 0
    while True:
        async with sessions() as session, session.begin():
            pruned = await prune_inbox(session, older_than, batch_size)
        total += pruned
        if pruned < batch_size:
            return total


def inbox_pruner(runtime: ServiceRuntime) -> Worker:
    """A scheduler-role worker: without it, every consumed event would leave a row behind
    for ever. Safe on several replicas (each batch deletes rows no other batch can see
    twice: a row deleted by one is simply not found by the other)."""
    settings = runtime.settings
    retention = timedelta(days=settings.inbox_retention_days)

    async def run() -> None:
        while True:
            with scheduled_span(f"{runtime.name} prune inbox"):
                pruned = await prune_inbox_until_done(runtime.session_factory, retention)
            if pruned:
                log.info("inbox_pruned", count=pruned)
            await asyncio.sleep(settings.inbox_prune_interval_seconds)

    return Worker("inbox-pruner", run)
