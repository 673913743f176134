"""Commands usage-ingest handles."""

from __future__ import annotations

from dataclasses import dataclass

from tangible_ingest.domain.model import Rejection, UsageEvent


@dataclass(frozen=True)
class IngestBatch:
    tenant_id: str
    events: list[UsageEvent]
    rejections: list[Rejection]


@dataclass(frozen=True)
class PruneDedupKeys:
    retention_days: int
