"""The dedup store: set-based statements, one per batch, timed for the metrics."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_ingest.domain.model import UsageEvent

# Inserts every key and returns the ones it could not insert (usually none, so the
# common case decodes no rows). Sorted so that concurrent requests claiming overlapping
# keys lock them in the same order (no deadlock); a key another open transaction holds
# makes this statement wait for that transaction, then count as taken if it committed.
_CLAIM = text(
    """
    WITH wanted AS (
        SELECT s, i, h FROM unnest(CAST(:sources AS text[]), CAST(:ids AS text[]), CAST(:hashes AS bytea[])) AS t(s, i, h)
    ), claimed AS (
        INSERT INTO dedup_keys (tenant_id, source, event_id, payload_hash, accepted_at)
        SELECT :tenant, s, i, h, :now FROM wanted ORDER BY s, i
        ON CONFLICT DO NOTHING
        RETURNING source, event_id
    )
    SELECT w.s, w.i FROM wanted w
    WHERE NOT EXISTS (SELECT 1 FROM claimed c WHERE c.source = w.s AND c.event_id = w.i)
    """
)

_LOOKUP = text(
    """
    SELECT k.source, k.event_id, k.payload_hash
    FROM unnest(CAST(:sources AS text[]), CAST(:ids AS text[])) AS wanted(source, event_id)
    JOIN dedup_keys k ON k.tenant_id = :tenant AND k.source = wanted.source AND k.event_id = wanted.event_id
    """
)

_PRUNE = text(
    "DELETE FROM dedup_keys WHERE ctid = ANY(ARRAY(SELECT ctid FROM dedup_keys "
    "WHERE accepted_at < :cutoff LIMIT :limit))"
)

Observe = Callable[[str, float], None]


def no_timing(_operation: str, _seconds: float) -> None:
    """The default observer: timings go nowhere."""
    return None


class DedupRepository:
    def __init__(self, session: AsyncSession, observe: Observe = no_timing) -> None:
        self._session = session
        self._observe = observe

    async def claim(
        self, tenant_id: str, events: Sequence[UsageEvent], now: datetime
    ) -> set[tuple[str, str]]:
        """Insert the keys (one per event, no repeats); returns those already taken.

        The rows stay invisible to others until the transaction commits, which the
        handler does only after Kafka acknowledged: a failed publish rolls them back."""
        if not events:
            return set()
        started = time.perf_counter()
        result = await self._session.execute(
            _CLAIM,
            {
                "tenant": tenant_id,
                "now": now,
                "sources": [e.source for e in events],
                "ids": [e.id for e in events],
                "hashes": [e.payload_hash for e in events],
            },
        )
        taken = {(row[0], row[1]) for row in result}
        self._observe("claim", time.perf_counter() - started)
        return taken

    async def known_hashes(
        self, tenant_id: str, events: Sequence[UsageEvent]
    ) -> dict[tuple[str, str], bytes]:
        if not events:
            return {}
        started = time.perf_counter()
        result = await self._session.execute(
            _LOOKUP,
            {"tenant": tenant_id, "sources": [e.source for e in events], "ids": [e.id for e in events]},
        )
        known = {(row[0], row[1]): bytes(row[2]) for row in result}
        self._observe("lookup", time.perf_counter() - started)
        return known

    async def prune(self, older_than: datetime, limit: int = 10_000) -> int:
        started = time.perf_counter()
        result = await self._session.execute(_PRUNE, {"cutoff": older_than, "limit": limit})
        self._observe("prune", time.perf_counter() - started)
        return int(getattr(result, "rowcount", 0) or 0)
