"""Usage events as ingest sees them, and how a batch is classified. Pure Python."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

# Stable wire ids: the same (tenant, source, id) always becomes the same Kafka event id,
# so that even a publish repeated after a lost acknowledgement is counted once downstream.
_EVENT_ID_NAMESPACE = uuid.UUID("6f1d3c1e-7b3a-4f43-9a55-7a2b9f3c0d11")


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    field: str | None
    message: str


@dataclass(frozen=True, slots=True)
class UsageEvent:
    """One valid incoming CloudEvent, reduced to what Tangible keeps."""

    index: int
    id: str
    source: str
    type: str
    account_id: str
    time: datetime
    quantity: float
    user_id: str | None
    properties: dict[str, Any]
    payload_hash: bytes

    @property
    def dedup_key(self) -> tuple[str, str]:
        return (self.source, self.id)

    def wire_id(self, tenant_id: str) -> str:
        return str(uuid.uuid5(_EVENT_ID_NAMESPACE, f"{tenant_id}\x1f{self.source}\x1f{self.id}"))


@dataclass(frozen=True, slots=True)
class Rejection:
    index: int
    id: str | None
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class EventResult:
    index: int
    id: str | None
    outcome: Outcome
    reasons: tuple[Reason, ...] = ()


CONFLICT_REASONS = (
    Reason("conflict", "id", "an event with this source and id was accepted with a different payload"),
)


@dataclass
class Classification:
    """Where each event of a batch stands before publishing."""

    fresh: list[UsageEvent] = field(default_factory=list)
    results: list[EventResult] = field(default_factory=list)


def classify(events: list[UsageEvent], known_hashes: dict[tuple[str, str], bytes]) -> Classification:
    """Split valid events into fresh ones and duplicates / conflicts.

    `known_hashes` holds the payload hash of every key already accepted. Within one batch
    the first occurrence of a key wins and later ones are duplicates or conflicts too.
    """
    outcome = Classification()
    seen: dict[tuple[str, str], bytes] = {}
    for event in events:
        key = event.dedup_key
        previous = known_hashes.get(key, seen.get(key))
        if previous is None:
            seen[key] = event.payload_hash
            outcome.fresh.append(event)
        elif previous == event.payload_hash:
            outcome.results.append(EventResult(event.index, event.id, Outcome.DUPLICATE))
        else:
            outcome.results.append(EventResult(event.index, event.id, Outcome.CONFLICT, CONFLICT_REASONS))
    return outcome


@dataclass
class IngestReport:
    results: list[EventResult]

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    @property
    def nothing_valid(self) -> bool:
        return all(r.outcome is Outcome.REJECTED for r in self.results)
