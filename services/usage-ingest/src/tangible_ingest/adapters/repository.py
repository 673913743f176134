"""The dedup store: set-based statements, one per batch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_ingest.domain.model import UsageEvent

_LOOKUP = text(
    """
    SELECT k.source, k.event_id, k.payload_hash
    FROM unnest(CAST(:sources AS text[]), CAST(:ids AS text[])) AS wanted(source, event_id)
    JOIN dedup_keys k ON k.tenant_id = :tenant AND k.source = wanted.source AND k.event_id = wanted.event_id
    """
)

_CLAIM = text(
    """
    INSERT INTO dedup_keys (tenant_id, source, event_id, payload_hash, accepted_at)
    SELECT :tenant, s, i, h, :now
    FROM unnest(CAST(:sources AS text[]), CAST(:ids AS text[]), CAST(:hashes AS bytea[])) AS t(s, i, h)
    ON CONFLICT DO NOTHING
    RETURNING source, event_id
    """
)


class DedupRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def known_hashes(
        self, tenant_id: str, events: Sequence[UsageEvent]
    ) -> dict[tuple[str, str], bytes]:
        if not events:
            return {}
        result = await self._session.execute(
            _LOOKUP,
            {"tenant": tenant_id, "sources": [e.source for e in events], "ids": [e.id for e in events]},
        )
        return {(row.source, row.event_id): bytes(row.payload_hash) for row in result}

    async def claim(
        self, tenant_id: str, events: Sequence[UsageEvent], now: datetime
    ) -> set[tuple[str, str]]:
        """Insert the keys; returns the ones this call inserted (others raced us)."""
        if not events:
            return set()
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
        return {(row.source, row.event_id) for row in result}

    async def prune(self, older_than: datetime, limit: int = 10_000) -> int:
        result = await self._session.execute(
            text(
                "DELETE FROM dedup_keys WHERE ctid = ANY(ARRAY(SELECT ctid FROM dedup_keys "
                "WHERE accepted_at < :cutoff LIMIT :limit))"
            ),
            {"cutoff": older_than, "limit": limit},
        )
        return int(getattr(result, "rowcount", 0) or 0)
