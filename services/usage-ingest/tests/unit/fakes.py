"""In-memory dedup store, unit of work and publisher for handler tests.

The store is a dictionary of key → (payload hash, accepted at). A unit of work snapshots
it on entry and puts the snapshot back unless committed, so a claim made before a failed
publish is undone, as the SQL transaction is; `claim` reports the keys already there, as
`INSERT … ON CONFLICT DO NOTHING` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Self

from tangible_ingest.domain.errors import PublishUnavailable
from tangible_ingest.domain.model import UsageEvent


@dataclass
class Store:
    keys: dict[bytes, tuple[bytes, datetime]] = field(default_factory=dict)


class FakeDedup:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def claim(self, events: Sequence[UsageEvent], now: datetime) -> set[bytes]:
        taken = {e.dedup_key for e in events if e.dedup_key in self._store.keys}
        for e in events:
            self._store.keys.setdefault(e.dedup_key, (e.payload_hash, now))
        return taken

    async def known_hashes(self, events: Sequence[UsageEvent]) -> dict[bytes, bytes]:
        keys = self._store.keys
        return {e.dedup_key: keys[e.dedup_key][0] for e in events if e.dedup_key in keys}

    async def prune(self, older_than: datetime, limit: int = 10_000) -> int:
        old = [k for k, (_, at) in self._store.keys.items() if at < older_than][:limit]
        for key in old:
            del self._store.keys[key]
        return len(old)


class FakeUnitOfWork:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.dedup = FakeDedup(store)

    async def __aenter__(self) -> Self:
        self._before = dict(self.store.keys)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.store.keys = self._before

    async def commit(self) -> None:
        self._before = dict(self.store.keys)


class FakePublisher:
    """Kafka as the handler sees it: acknowledges (and keeps) events, or is unavailable."""

    def __init__(self) -> None:
        self.published: list[UsageEvent] = []
        self.available = True

    async def publish(self, tenant_id: str, events: list[UsageEvent]) -> None:
        if not self.available:
            raise PublishUnavailable("Kafka did not acknowledge the events: KafkaTimeoutError")
        self.published.extend(events)
