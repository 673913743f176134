"""What ingest's handlers need from the outside: the dedup store, its unit of work, Kafka.

The handlers are typed against these Protocols; the SQL unit of work and `UsagePublisher`
satisfy them structurally (mypy checks it where the routes and the scheduler hand them
over), and so do the in-memory fakes of the handler unit tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from tangible_ingest.domain.model import UsageEvent


class DedupStore(Protocol):
    async def claim(self, events: Sequence[UsageEvent], now: datetime) -> set[bytes]:
        """Insert each event's key (one per event, no repeats); returns those already taken.
        The claim holds until the transaction ends: committed, or rolled back with it."""

    async def known_hashes(self, events: Sequence[UsageEvent]) -> dict[bytes, bytes]:
        """The stored payload hash of each event's key."""

    async def prune(self, older_than: datetime, limit: int = 10_000) -> int:
        """Delete up to `limit` keys accepted before `older_than`; returns how many."""


class UnitOfWork(Protocol):
    """One transaction on the dedup store: rolled back on leaving unless committed."""

    @property
    def dedup(self) -> DedupStore: ...

    async def commit(self) -> None: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class Publisher(Protocol):
    async def publish(self, tenant_id: str, events: list[UsageEvent]) -> None:
        """Return once Kafka acknowledged every event, else raise `PublishUnavailable`."""
