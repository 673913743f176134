"""The dedup store: set-based statements, one per batch, timed for the metrics."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_ingest.domain.model import UsageEvent

# Keys and hashes (16 bytes each) travel as two concatenated byte strings rather than
# arrays: the driver would encode an array element by element, at a cost per event.
# Inserts every key and returns the ones it could not insert (usually none, so the
# common case decodes no rows). Sorted so that concurrent requests claiming overlapping
# keys lock them in the same order (no deadlock); a key another open transaction holds
# makes this statement wait for that transaction, then count as taken if it committed.
_CLAIM = text(
    """
    WITH wanted AS (
        SELECT substring(CAST(:keys AS bytea) FROM n * 16 + 1 FOR 16) AS k,
               substring(CAST(:hashes AS bytea) FROM n * 16 + 1 FOR 16) AS h
        FROM generate_series(0, length(CAST(:keys AS bytea)) / 16 - 1) AS n
    ), claimed AS (
        INSERT INTO dedup_keys (key, payload_hash, accepted_at)
        SELECT k, h, :now FROM wanted ORDER BY k
        ON CONFLICT DO NOTHING
        RETURNING key
    )
    SELECT w.k FROM wanted w WHERE NOT EXISTS (SELECT 1 FROM claimed c WHERE c.key = w.k)
    """
)

_LOOKUP = text("SELECT key, payload_hash FROM dedup_keys WHERE key = ANY(CAST(:keys AS bytea[]))")

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

    async def claim(self, events: Sequence[UsageEvent], now: datetime) -> set[bytes]:
        """Insert the keys (one per event, no repeats); returns those already taken.

        The rows stay invisible to others until the transaction commits, which the
        handler does only after Kafka acknowledged: a failed publish rolls them back."""
        if not events:
            return set()
        started = time.perf_counter()
        result = await self._session.execute(
            _CLAIM,
            {
                "now": now,
                "keys": b"".join(e.dedup_key for e in events),
                "hashes": b"".join(e.payload_hash for e in events),
            },
        )
        taken = {bytes(row[0]) for row in result}
        self._observe("claim", time.perf_counter() - started)
        return taken

    async def known_hashes(self, events: Sequence[UsageEvent]) -> dict[bytes, bytes]:
        if not events:
            return {}
        started = time.perf_counter()
        result = await self._session.execute(_LOOKUP, {"keys": [e.dedup_key for e in events]})
        known = {bytes(row[0]): bytes(row[1]) for row in result}
        self._observe("lookup", time.perf_counter() - started)
        return known

    async def prune(self, older_than: datetime, limit: int = 10_000) -> int:
        started = time.perf_counter()
        result = await self._session.execute(_PRUNE, {"cutoff": older_than, "limit": limit})
        self._observe("prune", time.perf_counter() - started)
        return int(getattr(result, "rowcount", 0) or 0)
